from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from common.throttles import ScopedIPThrottle
from tests.helpers import run_in_parallel

WINDOW_START = 1_800_000_000.0  # a multiple of 60: a minute window starts here


class View:
    throttle_scope = "test_scope"


@pytest.fixture
def rate(settings: Any) -> None:
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "test_scope": "3/min",
        },
    }


def knock(at: float, address: str = "203.0.113.7") -> ScopedIPThrottle:
    """One request from `address` at time `at`; the throttle that judged it."""
    request = Request(APIRequestFactory().get("/", REMOTE_ADDR=address))
    throttle = ScopedIPThrottle()
    throttle.timer = lambda: at
    throttle.allowed = throttle.allow_request(request, View())  # type: ignore[attr-defined]
    return throttle


def allowed(at: float, address: str = "203.0.113.7") -> bool:
    return knock(at, address).allowed  # type: ignore[attr-defined]  # set by knock()


@pytest.mark.django_db
@pytest.mark.usefixtures("rate")
class TestSlidingWindowThrottle:
    def test_allows_the_rate_then_refuses(self) -> None:
        results = [allowed(WINDOW_START + second) for second in range(4)]

        assert results == [True, True, True, False]

    def test_counts_each_address_apart(self) -> None:
        for second in range(3):
            allowed(WINDOW_START + second)

        assert allowed(WINDOW_START + 4, address="198.51.100.1")

    def test_refuses_a_burst_across_the_window_boundary(self) -> None:
        for _ in range(3):
            assert allowed(WINDOW_START + 59)

        # A fixed window would start counting from zero here and allow three more.
        assert not allowed(WINDOW_START + 61)

    def test_lets_the_previous_window_slide_out(self) -> None:
        for _ in range(3):
            allowed(WINDOW_START)

        # Three quarters into the next minute a quarter of the last one still counts:
        # 3 * 0.25 + 2 = 2.75 fits in 3, a third request (3.75) does not.
        results = [allowed(WINDOW_START + 105) for _ in range(3)]

        assert results == [True, True, False]

    def test_does_not_count_refused_requests(self) -> None:
        for _ in range(3):
            allowed(WINDOW_START)
        for _ in range(5):
            assert not allowed(WINDOW_START + 1)

        # Had the five refusals counted (8 * 0.25 + 2 = 4), the second would be refused.
        results = [allowed(WINDOW_START + 105) for _ in range(3)]

        assert results == [True, True, False]

    def test_retry_after_is_when_the_next_request_fits(self) -> None:
        for _ in range(3):
            allowed(WINDOW_START)

        refused = knock(WINDOW_START + 10)

        # 50 s to the next window, then until 3 * (1 - t/60) + 1 <= 3, t = 20 s.
        assert not refused.allowed  # type: ignore[attr-defined]
        assert refused.wait() == pytest.approx(70)
        assert not allowed(WINDOW_START + 79)
        assert allowed(WINDOW_START + 80)

    def test_retry_after_is_at_least_one_second(self) -> None:
        for _ in range(3):
            allowed(WINDOW_START)
        # In the next window, just before the third request fits again.
        allowed(WINDOW_START + 60 + 19.99)
        allowed(WINDOW_START + 60 + 19.99)

        refused = knock(WINDOW_START + 60 + 19.99)

        assert not refused.allowed  # type: ignore[attr-defined]
        assert 1 <= refused.wait() < 2

    @pytest.mark.django_db(transaction=True)
    @pytest.mark.usefixtures("postgres_only")
    def test_parallel_requests_are_each_counted(self) -> None:
        results = run_in_parallel([lambda: allowed(WINDOW_START + 1) for _ in range(20)])

        assert results.count(True) == 3
        assert results.count(False) == 17
        assert cache.get(f"throttle_test_scope_203.0.113.7:{int(WINDOW_START // 60)}") == 3


@pytest.mark.django_db
class TestSlidingWindowThrottleAtOnePerHour:
    @pytest.fixture(autouse=True)
    def one_per_hour(self, settings: Any) -> None:
        settings.REST_FRAMEWORK = {
            **settings.REST_FRAMEWORK,
            "DEFAULT_THROTTLE_RATES": {
                **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
                "test_scope": "1/hour",
            },
        }

    def test_retry_after_ends_with_the_window_when_this_one_is_empty(self) -> None:
        hour = 1_800_000_000.0 - 1_800_000_000.0 % 3600
        assert allowed(hour + 3540)  # 59 minutes into an hour

        refused = knock(hour + 3600 + 1800)  # half an hour into the next

        # The next hour starts with only this hour's (zero) requests behind it.
        assert not refused.allowed  # type: ignore[attr-defined]
        assert refused.wait() == pytest.approx(1800)
        assert allowed(hour + 7200)
