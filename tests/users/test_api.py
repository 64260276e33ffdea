"""The users API, a class per endpoint: the happy path, authentication, and one test per
error code the endpoint answers (status, code and attr)."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.core import mail
from django.core.mail import EmailMessage
from django.utils import timezone
from djoser.utils import decode_uid, encode_uid
from drf_spectacular.generators import SchemaGenerator
from pytest_django import DjangoCaptureOnCommitCallbacks, Settings
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from codes.models import ReferralCode
from codes.services import code_issue
from sync.services import api_key_create
from tests.helpers import client_for, invite, only_error
from tests.queue import deferred_tasks_due, run_tasks
from tests.servers import FakeSmtpService
from tests.users.factories import DEFAULT_PASSWORD, UserFactory
from users.models import User
from users.services.accounts import user_deactivate
from users.services.lifecycle import user_erase

if TYPE_CHECKING:
    from tests.helpers import ApiResponse

pytestmark = pytest.mark.django_db

STRONG_PASSWORD = "s3cret-Passw0rd!"
WEAK_PASSWORD_CODES = {"password_too_short", "password_too_common", "password_entirely_numeric"}


def register(client: APIClient, **fields: object) -> ApiResponse:
    body = {"email": "new@example.com", "password": STRONG_PASSWORD, **fields}
    return client.post("/api/users/", body, format="json")


def codes(response: ApiResponse) -> set[tuple[str, str | None]]:
    return {(error["code"], error["attr"]) for error in response.json()["errors"]}


def outbox() -> list[EmailMessage]:
    """Django's test outbox once the task worker has sent the queued mail."""
    run_tasks()
    return mail.outbox


def delivered(server: FakeSmtpService) -> list[dict[str, Any]]:
    run_tasks()
    return server.messages


def reset_link(user: User) -> dict[str, str]:
    return {"uid": encode_uid(str(user.uuid)), "token": default_token_generator.make_token(user)}


@pytest.fixture
def staff_client(db: None) -> APIClient:
    return client_for(UserFactory.create(is_staff=True))


@pytest.fixture
def api_key() -> str:
    return api_key_create(name="tree-service")[1]


class TestUserRegister:
    """POST /api/users/"""

    def test_creates_user_with_profile_and_a_generated_code(self, api_client: APIClient) -> None:
        response = register(api_client, username="ivan", phone="+7 (999) 999-99-99")

        assert response.status_code == 201
        body = response.json()
        assert body["email"] == "new@example.com"
        assert body["username"] == "ivan"
        assert body["phone"] == "+79999999999"
        assert body["referred_by"] is None
        assert body["referrals_count"] == 0
        assert re.fullmatch(r"[ABCDEFGHJKMNPQRSTUVWXYZ23456789]{8}", body["referral_code"]["code"])
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", body["date_joined"])
        assert "id" not in body

    def test_stores_email_as_given_with_lower_cased_domain(self, api_client: APIClient) -> None:
        response = register(api_client, email="Anna.K@Example.COM")

        assert response.json()["email"] == "Anna.K@example.com"

    def test_rejects_an_email_taken_in_another_case(self, api_client: APIClient) -> None:
        UserFactory.create(email="taken@example.com")

        response = register(api_client, email="TAKEN@example.com")

        assert response.status_code == 400
        assert only_error(response) | {"detail": ""} == {
            "code": "unique",
            "attr": "email",
            "detail": "",
        }

    def test_rejects_a_phone_taken_in_another_notation(self, api_client: APIClient) -> None:
        UserFactory.create(phone="+79991112233")

        response = register(api_client, phone="8 999 111-22-33")

        assert response.status_code == 400
        assert only_error(response)["attr"] == "phone"
        assert only_error(response)["code"] == "unique"

    def test_rejects_a_username_taken_in_another_case(self, api_client: APIClient) -> None:
        UserFactory.create(username="Anna")

        response = register(api_client, username="anna")

        assert (only_error(response)["code"], only_error(response)["attr"]) == (
            "unique",
            "username",
        )

    def test_rejects_an_invalid_phone(self, api_client: APIClient) -> None:
        response = register(api_client, phone="12345")

        assert (only_error(response)["code"], only_error(response)["attr"]) == ("invalid", "phone")

    def test_applies_django_password_validators(self, api_client: APIClient) -> None:
        response = register(api_client, password="1234")

        codes = {error["code"] for error in response.json()["errors"]}
        assert response.status_code == 400
        assert {"password_too_short", "password_too_common", "password_entirely_numeric"} <= codes

    def test_requires_email_and_password(self, api_client: APIClient) -> None:
        response = api_client.post("/api/users/", {}, format="json")

        assert response.status_code == 400
        assert {(e["code"], e["attr"]) for e in response.json()["errors"]} == {
            ("required", "email"),
            ("required", "password"),
        }

    def test_makes_the_code_owner_the_referrer(self, api_client: APIClient) -> None:
        referrer = UserFactory.create(username="anna")
        code = ReferralCode.objects.get(owner=referrer, is_active=True)

        response = register(api_client, referral_code=code.code.lower())

        assert response.status_code == 201
        assert response.json()["referred_by"] == {
            "uuid": str(referrer.uuid),
            "username": "anna",
            "code": code.code,
        }
        code.refresh_from_db()
        assert code.uses == 1

    @pytest.mark.parametrize(
        ("setup", "expected_code"),
        [
            ("unknown", "invalid"),
            ("longer_than_any_code", "invalid"),
            ("deactivated", "invalid"),
            ("deleted", "invalid"),
            ("owner_inactive", "invalid"),
            ("expired", "expired"),
            ("used_up", "used_up"),
        ],
    )
    def test_refuses_a_code_that_cannot_be_used(
        self, api_client: APIClient, setup: str, expected_code: str
    ) -> None:
        owner = UserFactory.create()
        code = ReferralCode.objects.get(owner=owner, is_active=True)
        value = code.code
        if setup == "unknown":
            value = "NOSUCHCODE"
        elif setup == "longer_than_any_code":
            value = "X" * 33
        elif setup == "deactivated":
            ReferralCode.objects.filter(pk=code.pk).update(is_active=False)
        elif setup == "deleted":
            ReferralCode.objects.filter(pk=code.pk).update(
                is_active=False, deleted_at="2026-01-01T00:00Z"
            )
        elif setup == "owner_inactive":
            User.objects.filter(pk=owner.pk).update(is_active=False)
        elif setup == "expired":
            ReferralCode.objects.filter(pk=code.pk).update(expires_at="2020-01-01T00:00Z")
        elif setup == "used_up":
            ReferralCode.objects.filter(pk=code.pk).update(max_uses=1, uses=1)

        response = register(api_client, referral_code=value)

        assert response.status_code == 400
        assert only_error(response)["code"] == expected_code
        assert only_error(response)["attr"] == "referral_code"
        assert not User.objects.filter(email="new@example.com").exists()

    def test_without_signup_codes_setting_gives_no_code(
        self, api_client: APIClient, settings: Settings
    ) -> None:
        settings.REFERRAL_CODE_ON_SIGNUP = False

        response = register(api_client)

        assert response.status_code == 201
        assert response.json()["referral_code"] is None

    def test_is_throttled_per_ip_with_retry_after(
        self, api_client: APIClient, settings: Settings
    ) -> None:
        settings.REST_FRAMEWORK = {
            **settings.REST_FRAMEWORK,
            "DEFAULT_THROTTLE_RATES": {
                **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
                "register": "2/hour",
            },
        }
        for n in range(2):
            assert register(api_client, email=f"u{n}@example.com").status_code == 201

        response = register(api_client, email="third@example.com")

        assert response.status_code == 429
        assert int(response["Retry-After"]) > 0
        assert only_error(response)["code"] == "throttled"


class TestJwtCreate:
    """POST /api/auth/jwt/create/"""

    def test_signs_in_with_the_email_in_any_case(self, api_client: APIClient) -> None:
        UserFactory.create(email="anna@example.com")

        response = api_client.post(
            "/api/auth/jwt/create/",
            {"email": "ANNA@example.com", "password": DEFAULT_PASSWORD},
            format="json",
        )

        assert response.status_code == 200
        assert set(response.json()) == {"access", "refresh"}

    @pytest.mark.parametrize("case", ["wrong_password", "unknown_email", "inactive"])
    def test_refuses_bad_credentials_with_401_no_active_account(
        self, api_client: APIClient, case: str
    ) -> None:
        user = UserFactory.create(email="anna@example.com", is_active=case != "inactive")
        email = "nobody@example.com" if case == "unknown_email" else user.email
        password = "wrong" if case == "wrong_password" else DEFAULT_PASSWORD

        response = api_client.post(
            "/api/auth/jwt/create/", {"email": email, "password": password}, format="json"
        )

        assert response.status_code == 401
        assert only_error(response)["code"] == "no_active_account"

    def test_tokens_carry_the_uuid_not_the_integer_id(self, user: User) -> None:
        token = RefreshToken.for_user(user)

        assert token["user_id"] == str(user.uuid)

    def test_is_throttled_per_ip_with_retry_after(
        self, api_client: APIClient, settings: Settings
    ) -> None:
        settings.REST_FRAMEWORK = {
            **settings.REST_FRAMEWORK,
            "DEFAULT_THROTTLE_RATES": {
                **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
                "login": "1/min",
            },
        }
        body = {"email": "x@example.com", "password": "nope"}
        api_client.post("/api/auth/jwt/create/", body, format="json")

        response = api_client.post("/api/auth/jwt/create/", body, format="json")

        assert response.status_code == 429
        assert "Retry-After" in response


class TestJwtRefresh:
    """POST /api/auth/jwt/refresh/"""

    def test_rotates_and_blacklists_the_old_token(self, api_client: APIClient, user: User) -> None:
        refresh = str(RefreshToken.for_user(user))

        first = api_client.post("/api/auth/jwt/refresh/", {"refresh": refresh}, format="json")
        replay = api_client.post("/api/auth/jwt/refresh/", {"refresh": refresh}, format="json")

        assert first.status_code == 200
        assert set(first.json()) == {"access", "refresh"}
        assert first.json()["refresh"] != refresh
        assert replay.status_code == 401
        assert only_error(replay)["code"] == "token_not_valid"


class TestJwtVerify:
    """POST /api/auth/jwt/verify/"""

    def test_accepts_a_good_token_and_refuses_a_forged_one_with_401(
        self, api_client: APIClient, user: User
    ) -> None:
        access = str(RefreshToken.for_user(user).access_token)

        good = api_client.post("/api/auth/jwt/verify/", {"token": access}, format="json")
        bad = api_client.post("/api/auth/jwt/verify/", {"token": access + "x"}, format="json")

        assert (good.status_code, good.json()) == (200, {})
        assert bad.status_code == 401


class TestJwtLogout:
    """POST /api/auth/jwt/logout/"""

    def test_ends_the_refresh_token(self, user: User) -> None:
        refresh = str(RefreshToken.for_user(user))
        client = client_for(user)

        response = client.post("/api/auth/jwt/logout/", {"refresh": refresh}, format="json")
        after = client.post("/api/auth/jwt/refresh/", {"refresh": refresh}, format="json")

        assert response.status_code == 205
        assert after.status_code == 401

    def test_needs_authentication(self, api_client: APIClient, user: User) -> None:
        refresh = str(RefreshToken.for_user(user))

        response = api_client.post("/api/auth/jwt/logout/", {"refresh": refresh}, format="json")

        assert response.status_code == 401

    def test_refuses_a_garbage_token_with_401_token_not_valid(self, auth_client: APIClient) -> None:
        response = auth_client.post("/api/auth/jwt/logout/", {"refresh": "garbage"}, format="json")

        assert response.status_code == 401
        assert only_error(response)["code"] == "token_not_valid"

    def test_refuses_another_users_token_and_ends_nothing(self, user: User) -> None:
        other = UserFactory.create()
        others_refresh = str(RefreshToken.for_user(other))

        response = client_for(user).post(
            "/api/auth/jwt/logout/", {"refresh": others_refresh}, format="json"
        )
        still_works = APIClient().post(
            "/api/auth/jwt/refresh/", {"refresh": others_refresh}, format="json"
        )

        assert response.status_code == 401
        assert only_error(response)["code"] == "token_not_valid"
        assert still_works.status_code == 200


class TestUserMe:
    """GET /api/users/me/"""

    def test_shows_referrer_code_and_count(self) -> None:
        referrer = UserFactory.create(username="anna")
        code = ReferralCode.objects.get(owner=referrer, is_active=True)
        user = UserFactory.create(referral_code=code.code)
        UserFactory.create(referral_code=ReferralCode.objects.get(owner=user, is_active=True).code)

        body = client_for(user).get("/api/users/me/").json()

        assert body["referred_by"] == {
            "uuid": str(referrer.uuid),
            "username": "anna",
            "code": code.code,
        }
        assert body["referrals_count"] == 1
        assert body["referral_code"]["share_url"].endswith(f"/r/{body['referral_code']['code']}/")

    def test_shows_the_active_code_expiry_in_the_api_format(
        self, now: datetime, settings: Settings
    ) -> None:
        settings.SHARE_URL_TEMPLATE = "https://shop.example/join?ref={code}"
        user = UserFactory.create()
        code_issue(
            owner=user,
            now=now,
            value="WINTER26",
            expires_at=datetime(2031, 1, 2, 3, 4, 5, tzinfo=UTC),
        )

        body = client_for(user).get("/api/users/me/").json()

        assert body["referral_code"] == {
            "code": "WINTER26",
            "expires_at": "2031-01-02T03:04:05+00:00",
            "share_url": "https://shop.example/join?ref=WINTER26",
        }

    def test_needs_authentication(self, api_client: APIClient) -> None:
        response = api_client.get("/api/users/me/")

        assert response.status_code == 401
        assert response.json()["type"] == "client_error"


class TestUserMeUpdate:
    """PATCH /api/users/me/"""

    def test_changes_the_profile_and_ignores_read_only_fields(
        self, user: User, auth_client: APIClient
    ) -> None:
        response = auth_client.patch(
            "/api/users/me/",
            {
                "first_name": "Пётр",
                "phone": "89990001122",
                "is_staff": True,
                "is_business_user": True,
                "uuid": "00000000-0000-4000-8000-000000000000",
            },
            format="json",
        )

        assert response.status_code == 200
        user.refresh_from_db()
        assert (user.first_name, user.phone) == ("Пётр", "+79990001122")
        assert (user.is_staff, user.is_business_user) == (False, False)
        assert str(user.uuid) != "00000000-0000-4000-8000-000000000000"

    @pytest.mark.parametrize("cleared", ["", None])
    def test_clears_the_phone(self, cleared: str | None) -> None:
        user = UserFactory.create(phone="+79991234567")

        response = client_for(user).patch("/api/users/me/", {"phone": cleared}, format="json")

        assert (response.status_code, response.json()["phone"]) == (200, "")
        assert User.objects.get(pk=user.pk).phone is None

    def test_refuses_clearing_the_phone_of_an_account_without_email_with_400_required(self) -> None:
        user = UserFactory.create(email=None, phone="+79991234567")

        response = client_for(user).patch("/api/users/me/", {"phone": ""}, format="json")

        assert response.status_code == 400
        assert (only_error(response)["code"], only_error(response)["attr"]) == ("required", "phone")
        assert User.objects.get(pk=user.pk).phone == "+79991234567"

    @pytest.mark.parametrize(
        ("field", "taken", "sent"),
        [
            ("email", "taken@example.com", "Taken@Example.com"),
            ("username", "Maria", "maria"),
            ("phone", "+79991234567", "8 (999) 123-45-67"),
        ],
    )
    def test_refuses_a_taken_value_with_400_unique(
        self, user: User, auth_client: APIClient, field: str, taken: str, sent: str
    ) -> None:
        UserFactory.create(**{field: taken})

        response = auth_client.patch("/api/users/me/", {field: sent}, format="json")

        assert (only_error(response)["code"], only_error(response)["attr"]) == ("unique", field)
        assert getattr(User.objects.get(pk=user.pk), field) == getattr(user, field)

    def test_needs_authentication(self, api_client: APIClient) -> None:
        response = api_client.patch("/api/users/me/", {"first_name": "Pyotr"}, format="json")

        assert response.status_code == 401
        assert only_error(response)["code"] == "not_authenticated"


class TestUserMeDelete:
    """DELETE /api/users/me/"""

    def test_deactivates_and_ends_tokens_and_codes(
        self,
        api_client: APIClient,
        django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
    ) -> None:
        user = UserFactory.create()
        code = ReferralCode.objects.get(owner=user, is_active=True)
        refresh = str(RefreshToken.for_user(user))
        access = str(RefreshToken.for_user(user).access_token)
        client = client_for(user)
        assert api_client.get(f"/api/referral-codes/{code.code}/").status_code == 200  # cached

        with django_capture_on_commit_callbacks(execute=True):
            response = client.delete("/api/users/me/")

        assert response.status_code == 204
        assert client.get("/api/users/me/").status_code == 401
        assert (
            api_client.post(
                "/api/auth/jwt/refresh/", {"refresh": refresh}, format="json"
            ).status_code
            == 401
        )
        assert api_client.get(f"/api/referral-codes/{code.code}/").status_code == 404
        verify = api_client.post("/api/auth/jwt/verify/", {"token": access}, format="json")
        assert verify.status_code == 401
        signup = register(api_client, referral_code=code.code)
        assert only_error(signup)["code"] == "invalid"
        user.refresh_from_db()
        assert user.is_active is False

    def test_needs_authentication(self, api_client: APIClient, user: User) -> None:
        response = api_client.delete("/api/users/me/")

        assert response.status_code == 401
        assert only_error(response)["code"] == "not_authenticated"
        assert User.objects.get(pk=user.pk).is_active


class TestPasswordSet:
    """POST /api/users/set_password/"""

    def test_changes_the_password_and_ends_outstanding_tokens(self, user: User) -> None:
        refresh = str(RefreshToken.for_user(user))
        client = client_for(user)

        response = client.post(
            "/api/users/set_password/",
            {"current_password": DEFAULT_PASSWORD, "new_password": "An0ther-Secret!"},
            format="json",
        )
        after = APIClient().post("/api/auth/jwt/refresh/", {"refresh": refresh}, format="json")
        old_access = client.get("/api/users/me/")

        assert response.status_code == 204
        assert after.status_code == 401
        assert old_access.status_code == 401

    def test_refuses_a_weak_new_password_with_djangos_codes(self, auth_client: APIClient) -> None:
        response = auth_client.post(
            "/api/users/set_password/",
            {"current_password": DEFAULT_PASSWORD, "new_password": "1234"},
            format="json",
        )

        assert response.status_code == 400
        assert codes(response) == {(code, "new_password") for code in WEAK_PASSWORD_CODES}

    def test_refuses_a_wrong_current_password_with_400_invalid_password(
        self, auth_client: APIClient
    ) -> None:
        response = auth_client.post(
            "/api/users/set_password/",
            {"current_password": "wrong", "new_password": "An0ther-Secret!"},
            format="json",
        )

        assert codes(response) == {("invalid_password", "current_password")}

    def test_requires_authentication(self, api_client: APIClient) -> None:
        response = api_client.post(
            "/api/users/set_password/",
            {"current_password": DEFAULT_PASSWORD, "new_password": "An0ther-Secret!"},
            format="json",
        )

        assert response.status_code == 401


class TestPasswordReset:
    """POST /api/users/reset_password/"""

    def test_answers_204_for_an_unknown_email_and_sends_nothing(
        self, api_client: APIClient
    ) -> None:
        response = api_client.post(
            "/api/users/reset_password/", {"email": "nobody@example.com"}, format="json"
        )

        assert response.status_code == 204
        assert outbox() == []

    def test_round_trip_uses_the_uuid_and_the_token_is_single_use(
        self, api_client: APIClient
    ) -> None:
        user = UserFactory.create(email="anna@example.com")
        refresh = str(RefreshToken.for_user(user))

        api_client.post("/api/users/reset_password/", {"email": "anna@example.com"}, format="json")
        link = re.search(
            r"password/reset/confirm/(?P<uid>[^/\s]+)/(?P<token>[^/\s]+)", str(outbox()[0].body)
        )
        assert link is not None
        body = {**link.groupdict(), "new_password": "Brand-new-Secret-1"}
        confirmed = api_client.post("/api/users/reset_password_confirm/", body, format="json")
        replayed = api_client.post("/api/users/reset_password_confirm/", body, format="json")
        old_refresh = api_client.post("/api/auth/jwt/refresh/", {"refresh": refresh}, format="json")

        assert decode_uid(link["uid"]) == str(user.uuid)
        assert confirmed.status_code == 204
        assert replayed.status_code == 400
        assert old_refresh.status_code == 401
        user.refresh_from_db()
        assert user.check_password("Brand-new-Secret-1")

    def test_the_link_points_at_the_configured_frontend(
        self, api_client: APIClient, settings: Settings
    ) -> None:
        settings.DJOSER = {
            **settings.DJOSER,
            "EMAIL_FRONTEND_PROTOCOL": "https",
            "EMAIL_FRONTEND_DOMAIN": "app.example.com",
        }
        UserFactory.create(email="anna@example.com")

        api_client.post("/api/users/reset_password/", {"email": "anna@example.com"}, format="json")

        assert "https://app.example.com/password/reset/confirm/" in str(outbox()[0].body)

    def test_the_email_follows_the_request_language(self, api_client: APIClient) -> None:
        UserFactory.create(email="anna@example.com")

        api_client.post(
            "/api/users/reset_password/",
            {"email": "anna@example.com"},
            format="json",
            HTTP_ACCEPT_LANGUAGE="ru",
        )

        assert re.search("[а-яА-Я]", str(outbox()[0].subject) + str(outbox()[0].body))

    def test_matches_the_email_case_insensitively(self, api_client: APIClient) -> None:
        UserFactory.create(email="Anna@Example.com")

        response = api_client.post(
            "/api/users/reset_password/", {"email": "ANNA@example.COM"}, format="json"
        )

        assert response.status_code == 204
        assert [message.to for message in outbox()] == [["Anna@example.com"]]

    @pytest.mark.parametrize("who", ["inactive", "no_password"])
    def test_sends_nothing_to_inactive_or_passwordless_users(
        self, api_client: APIClient, who: str
    ) -> None:
        user = UserFactory.create(email="anna@example.com")
        if who == "inactive":
            User.objects.filter(pk=user.pk).update(is_active=False)
        else:
            user.set_unusable_password()
            user.save(update_fields=["password"])

        response = api_client.post(
            "/api/users/reset_password/", {"email": "anna@example.com"}, format="json"
        )

        assert response.status_code == 204
        assert outbox() == []

    def test_sends_one_email_per_interval(self, api_client: APIClient) -> None:
        UserFactory.create(email="anna@example.com")

        for spelling in ("anna@example.com", "ANNA@example.com", "anna@example.com"):
            response = api_client.post(
                "/api/users/reset_password/", {"email": spelling}, format="json"
            )
            assert response.status_code == 204

        assert len(outbox()) == 1

    def test_sends_the_link_over_smtp(
        self, api_client: APIClient, fake_smtp: FakeSmtpService
    ) -> None:
        user = UserFactory.create(email="anna@example.com")

        response = api_client.post(
            "/api/users/reset_password/", {"email": "anna@example.com"}, format="json"
        )

        assert response.status_code == 204
        [message] = delivered(fake_smtp)
        assert message["to"] == ["anna@example.com"]
        assert encode_uid(str(user.uuid)) in message["data"]

    @pytest.mark.parametrize("failure", ["refuse", "reject", "garbage", "hang", "closed_port"])
    def test_mail_server_failure_is_logged_not_told(
        self,
        api_client: APIClient,
        fake_smtp: FakeSmtpService,
        failure: str,
        caplog: pytest.LogCaptureFixture,
        settings: object,
    ) -> None:
        """204 as for an unknown address, so that an outage never reveals which
        addresses have accounts; the failure is in the log, and the worker tries again."""
        UserFactory.create(email="anna@example.com")
        if failure == "closed_port":
            fake_smtp.port = 1
            settings.EMAIL_PORT = 1  # type: ignore[attr-defined]
        else:
            fake_smtp.failure = failure

        response = api_client.post(
            "/api/users/reset_password/", {"email": "anna@example.com"}, format="json"
        )

        assert response.status_code == 204
        assert delivered(fake_smtp) == []
        [failure_log] = [r for r in caplog.records if r.getMessage() == "Email not sent yet"]
        assert failure_log.email_kind == "password_reset"  # type: ignore[attr-defined]

    def test_the_queued_email_goes_out_once_the_mail_server_is_back(
        self, api_client: APIClient, fake_smtp: FakeSmtpService
    ) -> None:
        """A request while the first email waits for its retry queues no second one: the
        interval holds, and the retry delivers."""
        UserFactory.create(email="anna@example.com")
        body = {"email": "anna@example.com"}
        fake_smtp.failure = "refuse"
        api_client.post("/api/users/reset_password/", body, format="json")
        run_tasks()
        api_client.post("/api/users/reset_password/", body, format="json")

        fake_smtp.failure = None
        deferred_tasks_due(now=timezone.now())

        assert [message["to"] for message in delivered(fake_smtp)] == [["anna@example.com"]]


class TestPasswordResetConfirm:
    """POST /api/users/reset_password_confirm/"""

    @pytest.mark.parametrize(
        "body",
        [
            {"uid": "!!!"},
            {"uid": encode_uid("not-a-uuid")},
            {"uid": encode_uid("00000000-0000-4000-8000-000000000000")},
            {"uid": "gA"},  # base64 of a byte that is not UTF-8
        ],
    )
    def test_refuses_a_bad_uid_with_400_invalid_uid(
        self, api_client: APIClient, user: User, body: dict[str, object]
    ) -> None:
        request = {**reset_link(user), "new_password": "Brand-new-Secret-1", **body}

        response = api_client.post("/api/users/reset_password_confirm/", request, format="json")

        assert response.status_code == 400
        assert codes(response) == {("invalid_uid", "uid")}

    @pytest.mark.parametrize("body", [{"uid": 123}, {"uid": 1.5}, {"token": 123}])
    def test_refuses_a_uid_or_token_that_is_no_string_with_400_invalid(
        self, api_client: APIClient, user: User, body: dict[str, object]
    ) -> None:
        request = {**reset_link(user), "new_password": "Brand-new-Secret-1", **body}

        response = api_client.post("/api/users/reset_password_confirm/", request, format="json")

        assert response.status_code == 400
        assert codes(response) == {("invalid", next(iter(body)))}

    @pytest.mark.parametrize("token", ["1-2", "wrong-token"])
    def test_refuses_a_bad_token_with_400_invalid_token(
        self, api_client: APIClient, user: User, token: object
    ) -> None:
        request = {**reset_link(user), "token": token, "new_password": "Brand-new-Secret-1"}

        response = api_client.post("/api/users/reset_password_confirm/", request, format="json")

        assert response.status_code == 400
        assert codes(response) == {("invalid_token", "token")}

    def test_refuses_an_inactive_user_with_400_invalid_uid(
        self, api_client: APIClient, user: User
    ) -> None:
        link = reset_link(user)
        User.objects.filter(pk=user.pk).update(is_active=False)

        response = api_client.post(
            "/api/users/reset_password_confirm/",
            {**link, "new_password": "Brand-new-Secret-1"},
            format="json",
        )

        assert codes(response) == {("invalid_uid", "uid")}

    def test_refuses_a_weak_new_password_with_djangos_codes(
        self, api_client: APIClient, user: User
    ) -> None:
        response = api_client.post(
            "/api/users/reset_password_confirm/",
            {**reset_link(user), "new_password": "1234"},
            format="json",
        )

        assert codes(response) == {(code, "new_password") for code in WEAK_PASSWORD_CODES}
        user.refresh_from_db()
        assert user.check_password(DEFAULT_PASSWORD)


class TestUserErase:
    """DELETE /api/users/<uuid>/ (staff)"""

    def test_staff_erase_a_user_who_is_then_gone(
        self, staff_client: APIClient, api_key: str
    ) -> None:
        referrer = UserFactory.create()
        user = invite(referrer)
        referral = invite(user)

        response = staff_client.delete(f"/api/users/{user.uuid}/")

        assert response.status_code == 204
        assert User.objects.get(pk=user.pk).is_erased
        assert User.objects.get(pk=referral.pk).referred_by == referrer
        exported = APIClient().get(f"/api/users/{user.uuid}/", HTTP_X_API_KEY=api_key)
        assert exported.status_code == 404
        assert staff_client.delete(f"/api/users/{user.uuid}/").status_code == 404

    def test_a_non_staff_token_is_forbidden_whether_or_not_the_user_exists(
        self, auth_client: APIClient
    ) -> None:
        other = UserFactory.create()

        existing = auth_client.delete(f"/api/users/{other.uuid}/")
        missing = auth_client.delete(f"/api/users/{uuid.uuid4()}/")

        assert existing.status_code == missing.status_code == 403
        assert existing.json() == missing.json()
        assert only_error(existing)["code"] == "permission_denied"
        assert not User.objects.get(pk=other.pk).is_erased

    def test_no_token_is_unauthenticated(self, api_client: APIClient, user: User) -> None:
        response = api_client.delete(f"/api/users/{user.uuid}/")

        assert response.status_code == 401
        assert only_error(response)["code"] == "not_authenticated"

    def test_an_api_key_does_not_erase(
        self, api_client: APIClient, user: User, api_key: str
    ) -> None:
        response = api_client.delete(f"/api/users/{user.uuid}/", HTTP_X_API_KEY=api_key)

        assert response.status_code == 401
        assert not User.objects.get(pk=user.pk).is_erased

    def test_a_missing_user_is_not_found_for_staff(self, staff_client: APIClient) -> None:
        response = staff_client.delete(f"/api/users/{uuid.uuid4()}/")

        assert response.status_code == 404
        assert only_error(response)["code"] == "not_found"

    def test_leaves_the_users_referrals_not_found_even_for_staff(
        self, staff_client: APIClient, user: User, now: datetime
    ) -> None:
        assert staff_client.get(f"/api/users/{user.uuid}/referrals/").status_code == 200
        user_erase(user=user, now=now)

        assert staff_client.get(f"/api/users/{user.uuid}/referrals/").status_code == 404


class TestUserExportOnTheSamePath:
    """GET and HEAD /api/users/<uuid>/ (the tree service's export, X-API-Key)"""

    def test_a_bearer_token_alone_cannot_read_the_export(
        self, staff_client: APIClient, user: User
    ) -> None:
        response = staff_client.get(f"/api/users/{user.uuid}/")

        assert response.status_code == 401

    def test_the_api_key_still_reads_it(
        self, api_client: APIClient, user: User, api_key: str
    ) -> None:
        response = api_client.get(f"/api/users/{user.uuid}/", HTTP_X_API_KEY=api_key)

        assert response.status_code == 200
        assert response.json()["uuid"] == str(user.uuid)

    def test_head_takes_the_api_key_as_get_does(
        self, api_client: APIClient, user: User, api_key: str
    ) -> None:
        assert api_client.head(f"/api/users/{user.uuid}/").status_code == 401
        assert (
            api_client.head(f"/api/users/{user.uuid}/", HTTP_X_API_KEY=api_key).status_code == 200
        )


class TestUserRestore:
    """POST /api/users/<uuid>/restore/ (staff)"""

    def test_staff_restore_a_deactivated_user(self, staff_client: APIClient, user: User) -> None:
        user_deactivate(user=user)

        response = staff_client.post(f"/api/users/{user.uuid}/restore/")

        assert response.status_code == 200
        assert response.json() == {"uuid": str(user.uuid), "is_active": True}
        assert User.objects.get(pk=user.pk).is_active

    def test_an_active_user_is_already_active(self, staff_client: APIClient, user: User) -> None:
        response = staff_client.post(f"/api/users/{user.uuid}/restore/")

        assert response.status_code == 400
        assert only_error(response) == {
            "code": "already_active",
            "detail": "This user is already active.",
            "attr": None,
        }

    def test_an_erased_user_is_not_found(
        self, staff_client: APIClient, user: User, now: datetime
    ) -> None:
        user_erase(user=user, now=now)

        response = staff_client.post(f"/api/users/{user.uuid}/restore/")

        assert response.status_code == 404

    def test_a_non_staff_token_is_forbidden_whether_or_not_the_user_exists(
        self, auth_client: APIClient
    ) -> None:
        other = UserFactory.create()
        user_deactivate(user=other)

        existing = auth_client.post(f"/api/users/{other.uuid}/restore/")
        missing = auth_client.post(f"/api/users/{uuid.uuid4()}/restore/")

        assert existing.status_code == missing.status_code == 403
        assert existing.json() == missing.json()
        assert not User.objects.get(pk=other.pk).is_active

    def test_no_token_is_unauthenticated(self, api_client: APIClient, user: User) -> None:
        assert api_client.post(f"/api/users/{user.uuid}/restore/").status_code == 401

    def test_the_answer_is_in_russian_when_asked(self, staff_client: APIClient, user: User) -> None:
        response = staff_client.post(f"/api/users/{user.uuid}/restore/", HTTP_ACCEPT_LANGUAGE="ru")

        assert only_error(response)["detail"] == "Этот пользователь уже активен."


class TestStaffEndpointsSchema:
    def test_documents_each_operation_with_its_own_credentials(self) -> None:
        paths = SchemaGenerator().get_schema(request=None, public=True)["paths"]

        detail = paths["/api/users/{uuid}/"]
        assert detail["get"]["security"] == [{"ApiKeyAuth": []}]
        assert detail["delete"]["security"] == [{"jwtAuth": []}]
        assert {"204", "401", "403", "404"} <= set(detail["delete"]["responses"])
        restore = paths["/api/users/{uuid}/restore/"]["post"]
        assert restore["security"] == [{"jwtAuth": []}]
        assert {"200", "400", "401", "403", "404"} <= set(restore["responses"])
