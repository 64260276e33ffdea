"""Cache-backed throttles: a counter per client and window, with live rates.

DRF's SimpleRateThrottle keeps a list of every request's timestamp in one cache entry,
read and rewritten whole by each request: the entry grows with the rate (1,200 floats for
THROTTLE_USER), and two requests at once both read the old list, so neither is counted
by the other. These keep one counter per fixed window instead, bumped atomically (on
Redis in one round trip with the read of the previous window: common.cache), and weigh
the previous window by how much of it still overlaps the sliding period. A burst across
a window boundary therefore gets the configured rate, not twice it.

DRF also copies DEFAULT_THROTTLE_RATES into a class attribute at import time, so a changed
setting would never reach it; these read the live settings instead.
"""

from __future__ import annotations

import contextlib
from typing import Any

from rest_framework.settings import api_settings
from rest_framework.throttling import (
    AnonRateThrottle,
    ScopedRateThrottle,
    SimpleRateThrottle,
    UserRateThrottle,
)

from common.cache import count_in_window


class SlidingWindowMixin:
    """Replaces SimpleRateThrottle's timestamp list with two window counters."""

    scope: str | None
    cache: Any
    rate: str | None
    num_requests: int
    duration: int
    timer: Any
    get_cache_key: Any

    def get_rate(self) -> str | None:
        if self.scope is None:
            return None
        # djangorestframework-stubs types the rates as numbers; DRF's are "100/hour" strings.
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)  # type: ignore[return-value]

    def allow_request(self, request: Any, view: Any) -> bool:
        if self.rate is None:
            return True
        key = self.get_cache_key(request, view)
        if key is None:
            return True

        now = self.timer()
        window = int(now // self.duration)
        self.elapsed = now - window * self.duration
        current_key = f"{key}:{window}"
        # Counted before the decision, so that parallel requests each see the others. A
        # window lives two periods: it is the previous window during the second one.
        self.current, self.previous = count_in_window(
            self.cache, current_key, f"{key}:{window - 1}", timeout=2 * self.duration
        )
        if self._estimate(self.current) <= self.num_requests:
            return True
        # A refused request is not counted: a client that keeps knocking while throttled
        # gets in as soon as its earlier requests age out.
        with contextlib.suppress(ValueError):  # expired or evicted meanwhile: nothing to undo
            self.cache.decr(current_key)
        self.current -= 1
        return False

    def wait(self) -> float:
        """Seconds until one more request would be allowed; at least 1, so that a 429
        always carries a Retry-After."""
        return max(self._seconds_until_room(), 1.0)

    def _seconds_until_room(self) -> float:
        remaining = self.duration - self.elapsed
        room = self.num_requests - 1 - self.current
        if room >= 0 and self.previous > 0:
            # Still in this window, once enough of the previous one has slid out.
            needed = self.duration * (1 - room / self.previous) - self.elapsed
            if needed < remaining:
                return needed
        # In the next window, where this window's requests are the previous ones.
        if self.current == 0:
            return remaining
        needed = self.duration * (1 - (self.num_requests - 1) / self.current)
        return remaining + max(needed, 0.0)

    def _estimate(self, current: int) -> float:
        overlap = 1 - self.elapsed / self.duration
        return self.previous * overlap + current


class AnonThrottle(SlidingWindowMixin, AnonRateThrottle):
    """Per client IP, for anonymous requests."""


class UserThrottle(SlidingWindowMixin, UserRateThrottle):
    """Per user, for authenticated requests."""


class _ScopedThrottle(SlidingWindowMixin, ScopedRateThrottle):
    """The rate of the view's `throttle_scope`."""

    def allow_request(self, request: Any, view: Any) -> bool:
        # As ScopedRateThrottle does: the rate is known once the view is.
        self.scope = getattr(view, self.scope_attr, None)
        if not self.scope:
            return True
        self.rate = self.get_rate()
        num_requests, duration = self.parse_rate(self.rate)
        if num_requests is None or duration is None:
            return True  # no rate for this scope: not throttled, as the mixin would answer
        self.num_requests, self.duration = num_requests, duration
        return super().allow_request(request, view)


class ScopedIPThrottle(_ScopedThrottle):
    """Per client IP for the view's `throttle_scope`, signed in or not: sign-up, sign-in
    and public code lookups are abused from an address, whoever holds a token."""

    def get_cache_key(self, request: Any, view: Any) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class ScopedUserThrottle(_ScopedThrottle):
    """Per signed-in user for the view's `throttle_scope`, from whatever address: what a
    user makes the service do on their behalf (emailing their code). DRF's own key: the
    user's id, or the client IP for an anonymous request."""


class KeyedThrottle(SlidingWindowMixin, SimpleRateThrottle):
    """A sliding-window throttle for subclasses that define their own `get_cache_key`."""
