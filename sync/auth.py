"""X-API-Key authentication for the tree service's endpoints."""

from __future__ import annotations

import hashlib
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework_api_key.models import APIKey
from rest_framework_api_key.permissions import KeyParser

from common.access import Access
from common.throttles import KeyedThrottle


def api_key_cache_key(prefix: str) -> str:
    return f"sync:api-key:{prefix}"


def _digest(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


def api_key_verify(raw_key: str, *, now: Any) -> APIKey | None:
    """The usable APIKey that `raw_key` is, or None (unknown, revoked, expired).

    A verified key is cached under its prefix with a digest of the whole key, for
    SYNC_API_KEY_CACHE_SECONDS; sync.receivers clears the entry whenever the key row
    changes or is deleted, so a revoked key stops working at once.
    """
    prefix, _, _ = raw_key.partition(".")
    entry = cache.get(api_key_cache_key(prefix))
    if entry is None or entry["digest"] != _digest(raw_key):
        try:
            api_key = APIKey.objects.get_from_key(raw_key)
        except APIKey.DoesNotExist:
            return None
        entry = {
            "digest": _digest(raw_key),
            "pk": api_key.pk,
            "name": api_key.name,
            "expiry_date": api_key.expiry_date.isoformat() if api_key.expiry_date else None,
        }
        cache.set(api_key_cache_key(prefix), entry, timeout=settings.SYNC_API_KEY_CACHE_SECONDS)
    expiry = parse_datetime(entry["expiry_date"]) if entry["expiry_date"] else None
    if expiry is not None and expiry <= now:
        return None
    return APIKey(pk=entry["pk"], prefix=prefix, name=entry["name"], expiry_date=expiry)


class ApiKeyAuthentication(BaseAuthentication):
    """`X-API-Key: <key>`: keys are djangorestframework-api-key's (hashed at rest,
    revocable, optional expiry). Sets `request.auth` to the APIKey; there is no user."""

    def authenticate(self, request: Request) -> tuple[Any, APIKey] | None:
        raw_key = KeyParser().get(request)
        if not raw_key:
            return None
        api_key = api_key_verify(raw_key, now=timezone.now())
        if api_key is None:
            raise exceptions.AuthenticationFailed(_("Unknown, revoked or expired API key."))
        return AnonymousUser(), api_key

    def authenticate_header(self, request: Request) -> str:
        return "X-API-Key"


class HasApiKey(BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        return isinstance(request.auth, APIKey)


class ApiKeyThrottle(KeyedThrottle):
    """THROTTLE_SYNC per API key: a poller is one client, whatever its addresses."""

    scope = "sync"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        if not isinstance(request.auth, APIKey):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.auth.pk}


# The tree service's endpoints: the key and nothing else authenticates them.
API_KEY_ACCESS = Access(
    authentication=[ApiKeyAuthentication], permissions=[HasApiKey], throttles=[ApiKeyThrottle]
)


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "sync.auth.ApiKeyAuthentication"
    name = "ApiKeyAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "apiKey", "in": "header", "name": "X-API-Key"}
