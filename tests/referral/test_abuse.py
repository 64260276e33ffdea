"""Abuse signals on referred sign-ups: each signal recorded through each door (time and
the client's address as inputs), each rule and the block policy (staff's review of them:
tests/referral/test_admin.py)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import pytest
from pytest_django import Settings
from rest_framework.test import APIClient

from codes.models import ReferralCode, RefusalDay
from common.network import user_agent_hash
from referral.abuse import AbuseThresholds, SignupSignals, abuse_reasons
from referral.errors import ReferralRefusedError
from referral.models import ReferredSignup
from referral.services import referrer_set
from tests.helpers import client_for
from tests.referral.helpers import ELSEWHERE, HOME, code_of, sign_up
from tests.servers import FakeHttpService
from tests.users.factories import UserFactory
from users.models import User
from users.services.accounts import user_create
from users.services.phone import phone_code_store, phone_sign_in
from users.services.tokens import user_sign_in_network_record

if TYPE_CHECKING:
    from tests.helpers import ApiResponse

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-enough-password-1"


def signals(**overrides: object) -> SignupSignals:
    values: dict[str, object] = {
        "network": "203.0.113.0/24",
        "user_agent_hash": "a" * 64,
        "referrer_network": None,
        "email_verdict": None,
        "network_signups_last_hour": 1,
    }
    values.update(overrides)
    return SignupSignals(**values)  # type: ignore[arg-type]


THRESHOLDS = AbuseThresholds(burst_max=3)


class TestAbuseReasons:
    def test_nothing_suspicious_gives_no_reason(self) -> None:
        assert abuse_reasons(signals=signals(), thresholds=THRESHOLDS) == []

    def test_the_referrers_own_network(self) -> None:
        found = abuse_reasons(
            signals=signals(referrer_network="203.0.113.0/24"), thresholds=THRESHOLDS
        )

        assert found == ["same_network_as_referrer"]

    def test_an_unknown_network_matches_nothing(self) -> None:
        unknown = signals(
            network="unknown", referrer_network="unknown", network_signups_last_hour=50
        )

        assert abuse_reasons(signals=unknown, thresholds=THRESHOLDS) == []

    def test_more_sign_ups_from_one_network_than_the_threshold(self) -> None:
        at_limit = signals(network_signups_last_hour=3)
        beyond = signals(network_signups_last_hour=4)

        assert abuse_reasons(signals=at_limit, thresholds=THRESHOLDS) == []
        assert abuse_reasons(signals=beyond, thresholds=THRESHOLDS) == ["burst_from_network"]

    def test_a_disposable_email(self) -> None:
        assert abuse_reasons(
            signals=signals(email_verdict="disposable"), thresholds=THRESHOLDS
        ) == ["disposable_email"]
        assert abuse_reasons(signals=signals(email_verdict="webmail"), thresholds=THRESHOLDS) == []

    def test_every_reason_at_once_in_a_fixed_order(self) -> None:
        everything = signals(
            referrer_network="203.0.113.0/24",
            network_signups_last_hour=9,
            email_verdict="disposable",
        )

        assert abuse_reasons(signals=everything, thresholds=THRESHOLDS) == [
            "same_network_as_referrer",
            "burst_from_network",
            "disposable_email",
        ]


class TestSignalsRecorded:
    def test_a_referred_sign_up_keeps_its_network_agent_and_referrer(self, now: datetime) -> None:
        referrer = UserFactory.create()

        signup = sign_up(code_of(referrer), now)

        assert (signup.referrer, signup.code, signup.created_at) == (
            referrer,
            code_of(referrer),
            now,
        )
        assert (signup.network, signup.user_agent_hash) == (HOME.network, HOME.user_agent_hash)
        assert (signup.door, signup.network_signups_last_hour) == ("phone", 1)
        assert (signup.is_flagged, signup.reasons) == (False, "")

    def test_a_sign_up_without_a_code_keeps_nothing(self, now: datetime) -> None:
        user_create(email="anna@example.com", password=None, now=now, client=HOME)

        assert not ReferredSignup.objects.exists()

    def test_from_the_network_the_referrer_last_signed_in_from(self, now: datetime) -> None:
        referrer = UserFactory.create()
        user_sign_in_network_record(user=referrer, network=HOME.network)

        at_home = sign_up(code_of(referrer), now, client=HOME)
        elsewhere = sign_up(code_of(referrer), now, client=ELSEWHERE)

        assert (at_home.is_same_network_as_referrer, at_home.reasons) == (
            True,
            "same_network_as_referrer",
        )
        assert at_home.is_flagged
        assert (elsewhere.is_same_network_as_referrer, elsewhere.is_flagged) == (False, False)

    def test_counts_the_codes_sign_ups_from_the_network_in_the_last_hour(
        self, now: datetime
    ) -> None:
        code = code_of(UserFactory.create())
        other_code = code_of(UserFactory.create())
        sign_up(code, now - timedelta(minutes=120))  # before the hour
        sign_up(other_code, now - timedelta(minutes=5))  # another code
        sign_up(code, now - timedelta(minutes=5), client=ELSEWHERE)  # another network
        for minutes in (50, 30, 10):
            sign_up(code, now - timedelta(minutes=minutes))

        fourth = sign_up(code, now)

        assert fourth.network_signups_last_hour == 4
        assert fourth.reasons == "burst_from_network" and fourth.is_flagged
        assert ReferredSignup.objects.filter(is_flagged=True).count() == 1

    def test_the_burst_threshold_is_a_setting(self, now: datetime, settings: Settings) -> None:
        settings.REFERRAL_ABUSE_BURST_MAX = 1
        code = code_of(UserFactory.create())
        sign_up(code, now - timedelta(minutes=1))

        assert sign_up(code, now).reasons == "burst_from_network"

    def test_the_burst_window_is_a_setting(self, now: datetime, settings: Settings) -> None:
        settings.REFERRAL_ABUSE_BURST_MAX = 1
        settings.REFERRAL_ABUSE_BURST_WINDOW = 60
        code = code_of(UserFactory.create())
        sign_up(code, now - timedelta(minutes=2))

        assert sign_up(code, now).network_signups_last_hour == 1

    def test_entering_a_code_later_is_recorded_too(self, now: datetime) -> None:
        referrer, user = UserFactory.create(), UserFactory.create()
        user_sign_in_network_record(user=referrer, network=HOME.network)

        referrer_set(user=user, code_value=code_of(referrer).code, now=now, client=HOME)

        signup = ReferredSignup.objects.get(referee=user)
        assert (signup.door, signup.reasons) == ("referrer_set", "same_network_as_referrer")

    def test_phone_sign_in_records_the_sign_up_and_the_sign_in_network(self, now: datetime) -> None:
        code = code_of(UserFactory.create())
        phone_code_store(phone="+79990001122", code="123456", now=now)

        signed_in = phone_sign_in(
            phone="+79990001122", code="123456", now=now, referral_code=code.code, client=HOME
        )

        signup = ReferredSignup.objects.get(referee=signed_in.user)
        assert (signup.door, signup.network) == ("phone", HOME.network)
        signed_in.user.refresh_from_db()
        assert signed_in.user.last_sign_in_network == HOME.network


class TestSignalsThroughTheApi:
    def test_registration_keeps_the_clients_network_not_its_address(
        self, api_client: APIClient
    ) -> None:
        code = code_of(UserFactory.create())

        response = api_client.post(
            "/api/users/",
            {"email": "anna@example.com", "password": PASSWORD, "referral_code": code.code},
            REMOTE_ADDR="203.0.113.77",
            HTTP_USER_AGENT="Mozilla/5.0 (test)",
        )

        assert response.status_code == 201
        signup = ReferredSignup.objects.get()
        assert signup.network == "203.0.113.0/24"
        assert signup.user_agent_hash == user_agent_hash("Mozilla/5.0 (test)")
        assert signup.door == "signup"

    def test_behind_trusted_proxies_the_forwarded_address_counts(
        self, api_client: APIClient, settings: Settings
    ) -> None:
        settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
        code = code_of(UserFactory.create())

        api_client.post(
            "/api/users/",
            {"email": "anna@example.com", "password": PASSWORD, "referral_code": code.code},
            REMOTE_ADDR="10.0.0.2",
            HTTP_X_FORWARDED_FOR="2001:db8:1:2:3:4:5:6",
        )

        assert ReferredSignup.objects.get().network == "2001:db8:1:2::/64"

    def test_signing_in_with_a_password_keeps_the_network(self, api_client: APIClient) -> None:
        user = UserFactory.create(email="anna@example.com", password=PASSWORD)

        response = api_client.post(
            "/api/auth/jwt/create/",
            {"email": "anna@example.com", "password": PASSWORD},
            REMOTE_ADDR="198.51.100.9",
        )

        assert response.status_code == 200
        user.refresh_from_db()
        assert user.last_sign_in_network == "198.51.100.0/24"

    def test_a_wrong_password_keeps_nothing(self, api_client: APIClient) -> None:
        user = UserFactory.create(email="anna@example.com", password=PASSWORD)

        api_client.post(
            "/api/auth/jwt/create/",
            {"email": "anna@example.com", "password": "wrong"},
            REMOTE_ADDR="198.51.100.9",
        )

        user.refresh_from_db()
        assert user.last_sign_in_network is None

    def test_hunters_verdict_is_kept(
        self, api_client: APIClient, fake_http: FakeHttpService, settings: Settings
    ) -> None:
        settings.HUNTER_API_KEY = "test-key"
        settings.HUNTER_API_URL = fake_http.url + "v2/email-verifier"
        fake_http.answer_json({"data": {"status": "webmail", "result": "deliverable"}})
        code = code_of(UserFactory.create())

        api_client.post(
            "/api/users/",
            {"email": "anna@example.com", "password": PASSWORD, "referral_code": code.code},
        )

        assert ReferredSignup.objects.get().email_verdict == "webmail"


def register_from(client: APIClient, code: ReferralCode, address: str) -> ApiResponse:
    return client.post(
        "/api/users/",
        {"email": "anna@example.com", "password": PASSWORD, "referral_code": code.code},
        REMOTE_ADDR=address,
    )


class TestBlockPolicy:
    def test_flag_is_the_default_and_lets_the_sign_up_through(self, api_client: APIClient) -> None:
        referrer = UserFactory.create()
        user_sign_in_network_record(user=referrer, network="203.0.113.0/24")

        response = register_from(api_client, code_of(referrer), "203.0.113.5")

        assert response.status_code == 201
        assert ReferredSignup.objects.get().is_flagged

    def test_block_refuses_the_code_on_referral_code(
        self, api_client: APIClient, settings: Settings
    ) -> None:
        settings.REFERRAL_ABUSE_POLICY = "block"
        referrer = UserFactory.create()
        user_sign_in_network_record(user=referrer, network="203.0.113.0/24")

        response = register_from(api_client, code_of(referrer), "203.0.113.5")

        assert response.status_code == 400
        assert response.json()["errors"] == [
            {
                "code": "referral_refused",
                "detail": "This invite code cannot be used for this sign-up.",
                "attr": "referral_code",
            }
        ]
        assert not User.objects.filter(email="anna@example.com").exists()
        assert list(RefusalDay.objects.values_list("reason", "count")) == [("referral_refused", 1)]

    def test_block_lets_a_clean_sign_up_through(
        self, api_client: APIClient, settings: Settings
    ) -> None:
        settings.REFERRAL_ABUSE_POLICY = "block"
        referrer = UserFactory.create()
        user_sign_in_network_record(user=referrer, network="203.0.113.0/24")

        response = register_from(api_client, code_of(referrer), "198.51.100.5")

        assert response.status_code == 201

    def test_block_refuses_a_code_entered_later_on_code(self, settings: Settings) -> None:
        settings.REFERRAL_ABUSE_POLICY = "block"
        referrer, user = UserFactory.create(), UserFactory.create()
        user_sign_in_network_record(user=referrer, network="203.0.113.0/24")

        response = client_for(user).post(
            "/api/users/me/referrer/",
            {"code": code_of(referrer).code},
            format="json",
            REMOTE_ADDR="203.0.113.5",
        )

        assert response.json()["errors"][0] | {"detail": ""} == {
            "code": "referral_refused",
            "detail": "",
            "attr": "code",
        }
        user.refresh_from_db()
        assert user.referred_by is None

    def test_block_refuses_a_phone_sign_in_with_the_code(
        self, now: datetime, settings: Settings
    ) -> None:
        settings.REFERRAL_ABUSE_POLICY = "block"
        referrer = UserFactory.create()
        user_sign_in_network_record(user=referrer, network=HOME.network)
        phone_code_store(phone="+79990001122", code="123456", now=now)

        with pytest.raises(ReferralRefusedError) as refused:
            phone_sign_in(
                phone="+79990001122",
                code="123456",
                now=now,
                referral_code=code_of(referrer).code,
                client=HOME,
            )

        assert refused.value.attr == "referral_code"
        assert not User.objects.filter(phone="+79990001122").exists()
