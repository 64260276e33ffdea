"""Who may call an operation, as one value: for views whose methods serve different
callers (common.views.AccessByMethodView). Imports no DRF views: authentication modules,
which DRF loads while importing its views, define these."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import BasePermission
from rest_framework.throttling import BaseThrottle


@dataclass(frozen=True)
class Access:
    """Who may call an operation: its authentication, permission and throttle classes."""

    authentication: Sequence[type[BaseAuthentication]]
    permissions: Sequence[type[BasePermission]]
    throttles: Sequence[type[BaseThrottle]]
