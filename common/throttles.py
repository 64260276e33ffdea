"""Cache-backed throttles whose rates are read when a request is checked.

DRF's SimpleRateThrottle copies DEFAULT_THROTTLE_RATES into a class attribute at import
time, so a changed setting would never reach it; these read the live settings instead.
"""

from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle, ScopedRateThrottle, UserRateThrottle


class LiveRateMixin:
    scope: str | None

    def get_rate(self) -> str | None:
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)


class AnonThrottle(LiveRateMixin, AnonRateThrottle):
    """Per client IP, for anonymous requests."""


class UserThrottle(LiveRateMixin, UserRateThrottle):
    """Per user, for authenticated requests."""


class ScopedIPThrottle(LiveRateMixin, ScopedRateThrottle):
    """Per client IP for the view's `throttle_scope`, signed in or not: sign-up, sign-in
    and public code lookups are abused from an address, whoever holds a token."""

    def get_cache_key(self, request, view) -> str:  # type: ignore[no-untyped-def]
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
