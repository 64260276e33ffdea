"""The users API, a class per endpoint: the happy path, authentication, and one test per
error code the endpoint answers (status, code and attr)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pytest
from pytest_django import DjangoCaptureOnCommitCallbacks, Settings
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from codes.models import ReferralCode
from codes.services import code_issue
from tests.helpers import client_for, only_error
from tests.users.factories import DEFAULT_PASSWORD, UserFactory
from users.models import User

if TYPE_CHECKING:
    from tests.helpers import ApiResponse


pytestmark = pytest.mark.django_db

STRONG_PASSWORD = "s3cret-Passw0rd!"


def register(client: APIClient, **fields: object) -> ApiResponse:
    body = {"email": "new@example.com", "password": STRONG_PASSWORD, **fields}
    return client.post("/api/users/", body, format="json")


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
