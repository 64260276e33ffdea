"""Abuse signals on referred sign-ups: each signal recorded through each door (time and
the client's address as inputs), each rule, the block policy, and staff's review."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import pytest
from django.test import Client
from django.urls import reverse
from pytest_django import Settings
from rest_framework.test import APIClient

from codes.models import ReferralCode, RefusalDay
from common.network import ClientFacts, user_agent_hash
from referral.abuse import AbuseThresholds, SignupSignals, abuse_reasons
from referral.errors import ReferralRefusedError
from referral.models import ReferredSignup
from referral.services import referrer_set
from tests.helpers import client_for
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
HOME = ClientFacts(network="203.0.113.0/24", user_agent_hash="a" * 64)
ELSEWHERE = ClientFacts(network="198.51.100.0/24", user_agent_hash="b" * 64)


def code_of(user: User) -> ReferralCode:
    return ReferralCode.objects.get(owner=user, is_active=True)


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


def sign_up(code: ReferralCode, now: datetime, client: ClientFacts = HOME) -> ReferredSignup:
    """A phone sign-up with `code` from `client` at `now`."""
    phone = f"+7999{User.objects.count():07d}"
    user = user_create(
        email=None, phone=phone, password=None, now=now, referral_code=code.code, client=client
    )
    return ReferredSignup.objects.get(referee=user)


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


@pytest.fixture
def flagged(now: datetime) -> ReferredSignup:
    referrer = UserFactory.create(email="referrer@example.com")
    user_sign_in_network_record(user=referrer, network=HOME.network)
    return sign_up(code_of(referrer), now)


CHANGELIST = reverse("admin:referral_referredsignup_changelist")


class TestReview:
    def test_lists_the_flagged_sign_ups_by_reason(
        self, admin_client: Client, flagged: ReferredSignup, now: datetime
    ) -> None:
        sign_up(code_of(UserFactory.create()), now, client=ELSEWHERE)  # not flagged

        by_reason = admin_client.get(CHANGELIST, {"reason": "same_network_as_referrer"})
        by_flag = admin_client.get(CHANGELIST, {"is_flagged__exact": "1"})
        bursts = admin_client.get(CHANGELIST, {"reason": "burst_from_network"})

        assert list(by_reason.context["cl"].result_list) == [flagged]
        assert list(by_flag.context["cl"].result_list) == [flagged]
        assert list(bursts.context["cl"].result_list) == []

    def test_shows_the_two_users_side_by_side(
        self, admin_client: Client, flagged: ReferredSignup
    ) -> None:
        page = admin_client.get(
            reverse("admin:referral_referredsignup_change", args=[flagged.pk])
        ).content.decode()

        table = page.split('class="referral-side-by-side"', 1)[1].split("</table>", 1)[0]
        assert str(flagged.referee) in table and "referrer@example.com" in table
        assert table.count(HOME.network) == 2  # the sign-up's, and the referrer's last

    def test_clears_a_flag(self, admin_client: Client, flagged: ReferredSignup) -> None:
        admin_client.post(CHANGELIST, {"action": "clear_flags", "_selected_action": [flagged.pk]})

        flagged.refresh_from_db()
        assert (flagged.is_flagged, flagged.reasons) == (False, "same_network_as_referrer")
        assert (
            flagged.cleared_by is not None and flagged.cleared_by.email == "superuser@example.com"
        )

    def test_deactivates_the_code_used(self, admin_client: Client, flagged: ReferredSignup) -> None:
        admin_client.post(
            CHANGELIST, {"action": "deactivate_codes", "_selected_action": [flagged.pk]}
        )

        flagged.code.refresh_from_db()
        assert flagged.code.is_active is False

    def test_erases_the_referred_user_after_a_confirmation(
        self, admin_client: Client, flagged: ReferredSignup
    ) -> None:
        selected = {"action": "erase_referees", "_selected_action": [flagged.pk]}
        phone = flagged.referee.phone

        confirmation = admin_client.post(CHANGELIST, selected)
        admin_client.post(CHANGELIST, {**selected, "post": "yes"})

        assert phone and phone in confirmation.content.decode()
        flagged.referee.refresh_from_db()
        assert flagged.referee.erased_at is not None
        # The erased user's network and agent's hash go with them.
        assert not ReferredSignup.objects.filter(pk=flagged.pk).exists()

    def test_rows_cannot_be_added_or_deleted(
        self, admin_client: Client, flagged: ReferredSignup
    ) -> None:
        assert admin_client.get(reverse("admin:referral_referredsignup_add")).status_code == 403
        delete = reverse("admin:referral_referredsignup_delete", args=[flagged.pk])
        assert admin_client.get(delete).status_code == 403
