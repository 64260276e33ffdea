"""The codes endpoints, one class each: the happy path, authentication, and each error
code the endpoint answers (the rules behind them: test_services.py, test_selectors.py)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from pytest_django import DjangoCaptureOnCommitCallbacks, Settings
from rest_framework.test import APIClient

from codes.models import ReferralCode
from codes.services import code_issue
from tests.codes.helpers import active_codes
from tests.helpers import only_error
from tests.users.factories import UserFactory
from users.models import User

pytestmark = pytest.mark.django_db

IMPOSSIBLE_CODES = ["%00abc", "a%20b"]


def error_of(response: object) -> tuple[int, str, str | None]:
    error = only_error(response)  # type: ignore[arg-type]
    return response.status_code, error["code"], error["attr"]  # type: ignore[attr-defined]


class TestCodeCreate:
    """POST /api/codes/"""

    def test_generates_a_code_and_deactivates_the_previous_one(
        self, user: User, auth_client: APIClient
    ) -> None:
        previous = active_codes(user)

        response = auth_client.post("/api/codes/", {}, format="json")

        assert response.status_code == 201
        body = response.json()
        assert set(body) == {
            "code",
            "is_active",
            "expires_at",
            "max_uses",
            "uses",
            "clicks",
            "created_at",
            "share_url",
        }
        assert body["is_active"] is True and body["expires_at"] is None and body["max_uses"] is None
        assert active_codes(user) == [body["code"]]
        assert ReferralCode.objects.get(code=previous[0]).is_active is False

    def test_stores_a_chosen_code_upper_cased(self, auth_client: APIClient) -> None:
        response = auth_client.post("/api/codes/", {"code": "my_Code-1"}, format="json")

        assert (response.status_code, response.json()["code"]) == (201, "MY_CODE-1")

    def test_live_days_sets_the_expiry(self, auth_client: APIClient, now: datetime) -> None:
        response = auth_client.post("/api/codes/", {"live_days": 10}, format="json")

        expires_at = datetime.fromisoformat(response.json()["expires_at"])
        assert timedelta(days=9, hours=23) < expires_at - now < timedelta(days=10, minutes=1)

    @pytest.mark.parametrize("value", ["abc", "x" * 33, "has space", "кириллица"])
    def test_400_invalid_for_a_code_of_the_wrong_shape(
        self, auth_client: APIClient, value: str
    ) -> None:
        response = auth_client.post("/api/codes/", {"code": value}, format="json")

        assert error_of(response) == (400, "invalid", "code")

    def test_400_unique_for_a_taken_code(self, auth_client: APIClient) -> None:
        code_issue(owner=UserFactory.create(), value="TAKEN1", now=datetime.now().astimezone())

        response = auth_client.post("/api/codes/", {"code": "taken1"}, format="json")

        assert error_of(response) == (400, "unique", "code")

    @pytest.mark.parametrize(
        ("body", "code", "attr"),
        [
            ({"live_days": 0}, "invalid", "live_days"),
            ({"live_days": 3651}, "invalid", "live_days"),
            ({"live_days": "abc"}, "invalid", "live_days"),
            ({"live_days": "9" * 1200}, "invalid", "live_days"),
            ({"expires_at": "2020-01-01T00:00:00Z"}, "expires_in_past", "expires_at"),
            ({"expires_at": "2099-01-01T00:00:00Z", "live_days": 5}, "invalid", "live_days"),
            ({"max_uses": 0}, "min_value", "max_uses"),
            ({"max_uses": 2**31}, "max_value", "max_uses"),
            ({"max_uses": 2**63}, "max_value", "max_uses"),
            ({"max_uses": 10**30}, "max_value", "max_uses"),
        ],
    )
    def test_400_for_bad_terms(
        self, auth_client: APIClient, body: dict, code: str, attr: str
    ) -> None:
        response = auth_client.post("/api/codes/", body, format="json")

        assert error_of(response) == (400, code, attr)

    def test_401_without_credentials(self, api_client: APIClient) -> None:
        assert api_client.post("/api/codes/", {}, format="json").status_code == 401


class TestCodeList:
    """GET /api/codes/"""

    def test_lists_my_codes_newest_first_without_deleted_ones(
        self, user: User, auth_client: APIClient
    ) -> None:
        first = active_codes(user)[0]
        second = auth_client.post("/api/codes/", {}, format="json").json()["code"]
        third = auth_client.post("/api/codes/", {}, format="json").json()["code"]
        auth_client.delete(f"/api/codes/{second}/")

        body = auth_client.get("/api/codes/").json()

        assert [row["code"] for row in body["results"]] == [third, first]
        assert body["count"] == 2 and body["next"] is None

    def test_page_size_is_at_most_100(self, user: User, auth_client: APIClient) -> None:
        ReferralCode.objects.bulk_create(
            ReferralCode(owner=user, code=f"OLD{n:04d}", is_active=False) for n in range(120)
        )

        body = auth_client.get("/api/codes/?page_size=100").json()
        over = auth_client.get("/api/codes/?page_size=1000")

        assert body["count"] == 121
        assert len(body["results"]) == 100
        assert (over.status_code, over.json()["errors"][0]["attr"]) == (400, "page_size")

    def test_401_without_credentials(self, api_client: APIClient) -> None:
        assert api_client.get("/api/codes/").status_code == 401


class TestCodeRetrieve:
    """GET /api/codes/<code>/"""

    def test_finds_my_code_in_any_case(self, user: User, auth_client: APIClient) -> None:
        code = active_codes(user)[0]

        response = auth_client.get(f"/api/codes/{code.lower()}/")

        assert (response.status_code, response.json()["code"]) == (200, code)

    def test_404_for_another_users_code(self, auth_client: APIClient) -> None:
        others = active_codes(UserFactory.create())[0]

        response = auth_client.get(f"/api/codes/{others}/")

        assert error_of(response) == (404, "not_found", None)

    @pytest.mark.parametrize("value", IMPOSSIBLE_CODES)
    def test_404_for_a_string_no_code_can_have(self, auth_client: APIClient, value: str) -> None:
        assert auth_client.get(f"/api/codes/{value}/").status_code == 404

    def test_401_without_credentials(self, user: User, api_client: APIClient) -> None:
        assert api_client.get(f"/api/codes/{active_codes(user)[0]}/").status_code == 401


class TestCodeUpdate:
    """PATCH /api/codes/<code>/"""

    def test_reactivating_an_old_code_deactivates_the_current(
        self, user: User, auth_client: APIClient
    ) -> None:
        old = active_codes(user)[0]
        current = auth_client.post("/api/codes/", {}, format="json").json()["code"]

        response = auth_client.patch(f"/api/codes/{old}/", {"is_active": True}, format="json")

        assert response.status_code == 200 and response.json()["is_active"] is True
        assert active_codes(user) == [old]
        assert ReferralCode.objects.get(code=current).is_active is False

    def test_400_invalid_for_a_limit_below_the_uses(
        self, user: User, auth_client: APIClient
    ) -> None:
        code = active_codes(user)[0]
        ReferralCode.objects.filter(code=code).update(uses=3)

        response = auth_client.patch(f"/api/codes/{code}/", {"max_uses": 2}, format="json")

        assert error_of(response) == (400, "invalid", "max_uses")

    def test_400_expires_in_past(self, user: User, auth_client: APIClient) -> None:
        code = active_codes(user)[0]

        response = auth_client.patch(
            f"/api/codes/{code}/", {"expires_at": "2001-01-01T00:00:00Z"}, format="json"
        )

        assert error_of(response) == (400, "expires_in_past", "expires_at")

    @pytest.mark.parametrize("value", [2**31, 2**63, 10**30])
    def test_400_max_value_for_a_huge_limit(
        self, user: User, auth_client: APIClient, value: int
    ) -> None:
        response = auth_client.patch(
            f"/api/codes/{active_codes(user)[0]}/", {"max_uses": value}, format="json"
        )

        assert error_of(response) == (400, "max_value", "max_uses")

    def test_404_for_another_users_code(self, auth_client: APIClient) -> None:
        others = active_codes(UserFactory.create())[0]

        response = auth_client.patch(f"/api/codes/{others}/", {}, format="json")

        assert error_of(response) == (404, "not_found", None)

    def test_401_without_credentials(self, user: User, api_client: APIClient) -> None:
        response = api_client.patch(f"/api/codes/{active_codes(user)[0]}/", {}, format="json")

        assert response.status_code == 401


class TestCodeDelete:
    """DELETE /api/codes/<code>/"""

    def test_keeps_referrers_of_those_who_used_it(self, user: User, auth_client: APIClient) -> None:
        code = active_codes(user)[0]
        referee = UserFactory.create(referral_code=code)

        response = auth_client.delete(f"/api/codes/{code}/")

        assert response.status_code == 204
        referee.refresh_from_db()
        assert referee.referred_by_id == user.pk
        assert auth_client.get(f"/api/codes/{code}/").status_code == 404

    def test_404_for_another_users_code(self, auth_client: APIClient) -> None:
        others = active_codes(UserFactory.create())[0]

        response = auth_client.delete(f"/api/codes/{others}/")

        assert error_of(response) == (404, "not_found", None)
        assert ReferralCode.objects.get(code=others).deleted_at is None

    def test_401_without_credentials(self, user: User, api_client: APIClient) -> None:
        assert api_client.delete(f"/api/codes/{active_codes(user)[0]}/").status_code == 401


class TestPublicCodeLookup:
    """GET /api/referral-codes/<code>/"""

    def test_shows_a_usable_code_without_authentication(self, api_client: APIClient) -> None:
        owner = UserFactory.create(username="anna")
        code = active_codes(owner)[0]

        response = api_client.get(f"/api/referral-codes/{code.lower()}/")

        assert response.status_code == 200
        assert response.json() == {
            "code": code,
            "referrer": {"username": "anna"},
            "expires_at": None,
        }

    def test_username_is_empty_when_the_owner_has_none(self, api_client: APIClient) -> None:
        code = active_codes(UserFactory.create(username=None))[0]

        assert api_client.get(f"/api/referral-codes/{code}/").json()["referrer"] == {"username": ""}

    def test_404_for_an_unknown_code(self, api_client: APIClient) -> None:
        response = api_client.get("/api/referral-codes/NOPE1234/")

        assert error_of(response) == (404, "not_found", None)

    @pytest.mark.parametrize("value", IMPOSSIBLE_CODES)
    def test_404_for_a_string_no_code_can_have(self, api_client: APIClient, value: str) -> None:
        assert api_client.get(f"/api/referral-codes/{value}/").status_code == 404

    @pytest.mark.parametrize(
        "change", ["deactivate", "delete", "use_up", "expire_soon", "rename_owner"]
    )
    def test_every_change_clears_the_cached_answer(
        self,
        user: User,
        auth_client: APIClient,
        api_client: APIClient,
        change: str,
        django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
    ) -> None:
        code = active_codes(user)[0]
        assert api_client.get(f"/api/referral-codes/{code}/").status_code == 200  # now cached

        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            self._change(change, code, auth_client)

        assert callbacks, "the change scheduled no invalidation"
        response = api_client.get(f"/api/referral-codes/{code}/")
        if change == "expire_soon":
            assert response.json()["expires_at"] is not None
        elif change == "rename_owner":
            assert response.json()["referrer"]["username"] == "renamed"
        else:
            assert response.status_code == 404

    def test_invalidation_waits_for_the_commit(
        self,
        user: User,
        auth_client: APIClient,
        api_client: APIClient,
        django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
    ) -> None:
        code = active_codes(user)[0]
        api_client.get(f"/api/referral-codes/{code}/")

        with django_capture_on_commit_callbacks(execute=False):
            auth_client.delete(f"/api/codes/{code}/")

        # Not committed yet: the cached answer still stands (a rollback would keep it right).
        assert api_client.get(f"/api/referral-codes/{code}/").status_code == 200

    def test_429_past_the_per_address_rate(self, api_client: APIClient, settings: Settings) -> None:
        settings.REST_FRAMEWORK = {
            **settings.REST_FRAMEWORK,
            "DEFAULT_THROTTLE_RATES": {
                **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
                "code_lookup": "2/min",
            },
        }
        for _ in range(2):
            api_client.get("/api/referral-codes/NOPE1234/")

        response = api_client.get("/api/referral-codes/NOPE1234/")

        assert response.status_code == 429
        assert "Retry-After" in response

    @staticmethod
    def _change(change: str, code: str, auth_client: APIClient) -> None:
        if change == "deactivate":
            auth_client.patch(f"/api/codes/{code}/", {"is_active": False}, format="json")
        elif change == "delete":
            auth_client.delete(f"/api/codes/{code}/")
        elif change == "use_up":
            auth_client.patch(f"/api/codes/{code}/", {"max_uses": 1}, format="json")
            UserFactory.create(referral_code=code)
        elif change == "expire_soon":
            future = (datetime.now().astimezone() + timedelta(hours=1)).isoformat()
            auth_client.patch(f"/api/codes/{code}/", {"expires_at": future}, format="json")
        elif change == "rename_owner":
            auth_client.patch("/api/users/me/", {"username": "renamed"}, format="json")


class TestInviteCodeAtSignUp:
    """POST /api/users/ with `referral_code`: a string no code can have is refused like an
    unknown code, never reaching the database (a NUL byte would fail Postgres)."""

    def test_400_invalid_for_a_code_with_a_nul_byte(self, api_client: APIClient) -> None:
        response = api_client.post(
            "/api/users/",
            {"email": "n@example.com", "password": "s3cret-Passw0rd!", "referral_code": "AB\x00CD"},
            format="json",
        )

        assert response.status_code == 400
        assert not User.objects.filter(email="n@example.com").exists()
