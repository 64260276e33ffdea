"""Prometheus metrics: the service's own counters, the cache's, and /metrics.

Requests are counted by view, method and status, with latency histograms, under
django-prometheus' names (RequestMetricsMiddleware); database queries by django-prometheus'
engines. Under gunicorn, prometheus_client's multiprocess mode
keeps each worker's samples in files in PROMETHEUS_MULTIPROC_DIR, and /metrics adds up
every worker's (common.gunicorn_hooks prepares the folder and forgets dead workers).
Gauges read from the database are computed when /metrics is read, by the collectors apps
register with `scrape_collectors` (sync: the change queue).

/metrics is open on the application port, as the contract says; nginx does not pass it
on, and the README says how to close it further.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django_prometheus.cache.metrics import django_cache_get_fail_total as CACHE_FAILURES
from django_prometheus.cache.metrics import django_cache_get_total as CACHE_GETS
from django_prometheus.cache.metrics import django_cache_hits_total as CACHE_HITS
from django_prometheus.cache.metrics import django_cache_misses_total as CACHE_MISSES
from django_prometheus.conf import PROMETHEUS_LATENCY_BUCKETS
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

SIGNUPS = Counter(
    "referral_signups_total",
    "Accounts created, by whether they came with an invite code.",
    ["referral_code"],
)
# The codes of the errors that refuse an invite code (DomainError.refuses_invite_code); a
# test holds this list to them, since common cannot import the apps that define them.
REFUSAL_REASONS = (
    "invalid",
    "expired",
    "used_up",
    "cycle",
    "too_deep",
    "own_code",
    "already_referred",
    "referral_refused",
)
CODE_REFUSALS = Counter(
    "referral_code_redemptions_refused_total",
    "Invite codes refused at sign-up or as a referrer, by the error code answered.",
    ["reason"],
)
# Every series exists from the start, at 0: a rate over a series born mid-way misses
# its first increments.
for _used in ("yes", "no"):
    SIGNUPS.labels(referral_code=_used)
for _reason in REFUSAL_REASONS:
    CODE_REFUSALS.labels(reason=_reason)


# django-prometheus' two request metrics that answer "how many, how fast, which view,
# which status", under its names. Its middleware pair updates a dozen metrics per request
# (bodies, charsets, transports, AJAX…), which made a request a fifth dearer; these two cost
# a dictionary lookup, an increment and an observation (bench/README.md).
RESPONSES = Counter(
    "django_http_responses_total_by_status_view_method",
    "Responses by status, view and method.",
    ["status", "view", "method"],
)
LATENCY = Histogram(
    "django_http_requests_latency_seconds_by_view_method",
    "Time from the request's arrival to its response (to the first byte of a stream).",
    ["view", "method"],
    buckets=PROMETHEUS_LATENCY_BUCKETS,
)
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"})


class RequestMetricsMiddleware:
    """Counts every response by status, view and method, and its latency by view and
    method. Placed first, it times every other middleware too."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self._series: dict[tuple[int, str, str], tuple[Any, Any]] = {}

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        view = (match.view_name if match is not None else None) or "<unnamed view>"
        method = request.method if request.method in _METHODS else "<invalid method>"
        key = (response.status_code, view, method)
        series = self._series.get(key)
        if series is None:
            series = self._series[key] = (
                RESPONSES.labels(status=str(key[0]), view=view, method=method),
                LATENCY.labels(view=view, method=method),
            )
        series[0].inc()
        series[1].observe(time.perf_counter() - started)
        return response


def signup_count(*, with_referral_code: bool) -> None:
    SIGNUPS.labels(referral_code="yes" if with_referral_code else "no").inc()


def code_refusal_count(*, reason: str) -> None:
    CODE_REFUSALS.labels(reason=reason).inc()


class CacheMetricsMixin:
    """django-prometheus' cache read counters (hits, misses, failures) for a cache
    backend of ours; its own backends replace ours instead of wrapping them."""

    metrics_backend = "default"

    def get(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        backend = self.metrics_backend
        CACHE_GETS.labels(backend=backend).inc()
        missing = object()
        try:
            value = super().get(key, missing, version=version)  # type: ignore[misc]
        except Exception:
            CACHE_FAILURES.labels(backend=backend).inc()
            raise
        if value is missing:
            CACHE_MISSES.labels(backend=backend).inc()
            return default
        CACHE_HITS.labels(backend=backend).inc()
        return value


scrape_collectors: list[Collector] = []


def metrics_view(request: HttpRequest) -> HttpResponse:
    """The metrics of every worker process, then those computed now."""
    if settings.PROMETHEUS_MULTIPROC_DIR:
        workers = CollectorRegistry()
        MultiProcessCollector(workers, path=settings.PROMETHEUS_MULTIPROC_DIR)
    else:
        workers = REGISTRY
    return HttpResponse(
        generate_latest(workers) + generate_latest(_Scrape(scrape_collectors)),
        content_type=CONTENT_TYPE_LATEST,
    )


class _Scrape(Collector):
    """The metrics of `collectors`, read now."""

    def __init__(self, collectors: Iterable[Collector]) -> None:
        self._collectors = list(collectors)

    def collect(self) -> Iterable[Any]:
        for collector in self._collectors:
            yield from collector.collect()
