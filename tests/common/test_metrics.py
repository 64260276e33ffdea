"""/metrics: the request, database and cache metrics, and the service's own."""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.apps import apps
from django.core.cache import cache, caches
from django.db import connection
from django.utils import timezone
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families
from pytest_django import Settings
from rest_framework.test import APIClient

from codes.models import ReferralCode
from common.errors import DomainError
from common.metrics import REFUSAL_REASONS
from tests.codes.factories import ReferralCodeFactory
from tests.helpers import client_for, queued_uuids
from tests.users.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "s3cret-Passw0rd!"


def scrape(client: APIClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """/metrics as {(sample name, labels): value}."""
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


def counted(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def grows(name: str, **labels: str) -> Callable[[], float]:
    """How much the counter grew since this call."""
    before = counted(name, **labels)
    return lambda: counted(name, **labels) - before


class TestRequestMetrics:
    def test_requests_are_counted_by_view_and_status_with_their_latency(
        self, api_client: APIClient
    ) -> None:
        api_client.get("/api/referral-codes/NOPE1234/")

        samples = scrape(api_client)
        by_view = {
            dict(labels)["view"]: value
            for (name, labels), value in samples.items()
            if name == "django_http_responses_total_by_status_view_method_total"
            and dict(labels)["status"] == "404"
        }
        assert by_view.get("codes:public-code-detail", 0) >= 1
        assert any(
            name == "django_http_requests_latency_seconds_by_view_method_bucket"
            and dict(labels)["view"] == "codes:public-code-detail"
            for name, labels in samples
        )

    def test_database_queries_and_cache_reads_are_counted(self, api_client: APIClient) -> None:
        queries = grows("django_db_execute_total", alias="default", vendor=connection.vendor)
        backend = getattr(caches["default"], "metrics_backend")  # noqa: B009  ours only
        misses = grows("django_cache_get_misses_total", backend=backend)
        hits = grows("django_cache_get_hits_total", backend=backend)

        cache.get("metrics-test")
        cache.set("metrics-test", 1)
        cache.get("metrics-test")
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")

        assert (misses(), hits()) == (1, 1)
        assert queries() >= 1

    def test_metrics_need_no_credentials_and_are_not_under_api(self, api_client: APIClient) -> None:
        assert api_client.get("/metrics").status_code == 200
        assert api_client.get("/api/metrics").status_code == 404


class TestSignups:
    @pytest.mark.parametrize(("with_code", "label"), [(True, "yes"), (False, "no")])
    def test_are_counted_once_committed_by_whether_a_code_came_with_them(
        self,
        api_client: APIClient,
        django_capture_on_commit_callbacks: Any,
        with_code: bool,
        label: str,
    ) -> None:
        body = {"email": "new@example.com", "password": PASSWORD}
        if with_code:
            body["referral_code"] = ReferralCodeFactory.create().code
        signups = grows("referral_signups_total", referral_code=label)

        with django_capture_on_commit_callbacks(execute=False) as pending:
            response = api_client.post("/api/users/", body)
        before_commit = signups()
        for callback in pending:
            callback()

        assert response.status_code == 201
        assert (before_commit, signups()) == (0, 1)

    def test_a_refused_sign_up_is_not_counted(self, api_client: APIClient) -> None:
        signups = grows("referral_signups_total", referral_code="yes")

        api_client.post(
            "/api/users/",
            {"email": "new@example.com", "password": PASSWORD, "referral_code": "NOSUCHCODE"},
        )

        assert signups() == 0


def _expired_code() -> str:
    code = ReferralCodeFactory.create()
    ReferralCode.objects.filter(pk=code.pk).update(expires_at=timezone.now() - timedelta(days=1))
    return code.code


def _used_up_code() -> str:
    code = ReferralCodeFactory.create(max_uses=1)
    ReferralCode.objects.filter(pk=code.pk).update(uses=1)
    return code.code


class TestRefusedCodes:
    @pytest.mark.parametrize(
        ("reason", "code_of"),
        [
            ("invalid", lambda: "NOSUCHCODE"),
            ("expired", _expired_code),
            ("used_up", _used_up_code),
        ],
    )
    def test_sign_ups_refused_by_their_code_are_counted_by_reason(
        self, api_client: APIClient, reason: str, code_of: Callable[[], str]
    ) -> None:
        refused = grows("referral_code_redemptions_refused_total", reason=reason)

        response = api_client.post(
            "/api/users/",
            {"email": "new@example.com", "password": PASSWORD, "referral_code": code_of()},
        )

        assert (response.status_code, refused()) == (400, 1)

    def test_a_referrer_refused_is_counted_by_reason(self) -> None:
        referrer = UserFactory.create()
        referred = UserFactory.create(referral_code=ReferralCodeFactory.create(owner=referrer).code)
        refusals = {
            reason: grows("referral_code_redemptions_refused_total", reason=reason)
            for reason in ("own_code", "already_referred", "cycle")
        }

        own = client_for(referrer).post(
            "/api/users/me/referrer/",
            {"code": ReferralCode.objects.get(owner=referrer, is_active=True).code},
        )
        again = client_for(referred).post(
            "/api/users/me/referrer/", {"code": ReferralCodeFactory.create().code}
        )
        cycle = client_for(referrer).post(
            "/api/users/me/referrer/",
            {"code": ReferralCode.objects.get(owner=referred, is_active=True).code},
        )

        assert [r.status_code for r in (own, again, cycle)] == [400, 400, 400]
        assert {reason: grew() for reason, grew in refusals.items()} == {
            "own_code": 1,
            "already_referred": 1,
            "cycle": 1,
        }

    def test_a_chain_too_deep_is_counted(self, api_client: APIClient, settings: Settings) -> None:
        settings.REFERRAL_MAX_DEPTH = 0
        refused = grows("referral_code_redemptions_refused_total", reason="too_deep")

        api_client.post(
            "/api/users/",
            {
                "email": "new@example.com",
                "password": PASSWORD,
                "referral_code": ReferralCodeFactory.create().code,
            },
        )

        assert refused() == 1

    def test_every_reason_is_there_from_the_start(self, api_client: APIClient) -> None:
        reasons = {
            dict(labels)["reason"]
            for name, labels in scrape(api_client)
            if name == "referral_code_redemptions_refused_total"
        }

        assert reasons == set(REFUSAL_REASONS)

    def test_the_reasons_are_the_codes_of_every_error_that_refuses_a_code(self) -> None:
        for app in apps.get_app_configs():
            if importlib.util.find_spec(f"{app.name}.errors") is not None:
                importlib.import_module(f"{app.name}.errors")
        errors, refusing = [DomainError], set()
        while errors:
            error = errors.pop()
            errors.extend(error.__subclasses__())
            if error.refuses_invite_code:
                refusing.add(error.code)

        assert refusing == set(REFUSAL_REASONS)


class TestChangeQueue:
    def test_the_queue_shows_its_size_and_both_ends(self, api_client: APIClient) -> None:
        first = UserFactory.create()
        UserFactory.create()
        queued_uuids()  # the deferred triggers of this (test) transaction fire
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE sync_userchange")  # the estimate, as autovacuum keeps it

        samples = scrape(api_client)

        rows = samples[("referral_change_queue_rows", ())]
        oldest = samples[("referral_change_queue_oldest_timestamp_seconds", ())]
        newest = samples[("referral_change_queue_newest_timestamp_seconds", ())]
        assert rows >= 2
        assert oldest <= newest
        assert abs(oldest - first.date_joined.timestamp()) < 3600

    def test_an_empty_queue_has_no_rows_and_no_ends(self, api_client: APIClient) -> None:
        samples = scrape(api_client)

        assert samples[("referral_change_queue_rows", ())] == 0
        assert ("referral_change_queue_oldest_timestamp_seconds", ()) not in samples
