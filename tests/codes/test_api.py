from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.db import IntegrityError, transaction
from pytest_django import DjangoCaptureOnCommitCallbacks, Settings
from rest_framework.test import APIClient

from codes.models import ReferralCode
from codes.services import code_issue
from tests.helpers import client_for, only_error
from tests.users.factories import UserFactory
from users.models import User

pytestmark = pytest.mark.django_db


def active_codes(user: User) -> list[str]:
    return list(
        ReferralCode.objects.filter(owner=user, is_active=True).values_list("code", flat=True)
    )


class TestCodeCreate:
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

    def test_custom_code_is_stored_upper_cased(self, auth_client: APIClient) -> None:
        response = auth_client.post("/api/codes/", {"code": "my_Code-1"}, format="json")

        assert response.json()["code"] == "MY_CODE-1"

    @pytest.mark.parametrize("value", ["abc", "x" * 33, "has space", "кириллица"])
    def test_custom_code_must_have_the_allowed_shape(
        self, auth_client: APIClient, value: str
    ) -> None:
        response = auth_client.post("/api/codes/", {"code": value}, format="json")

        assert (only_error(response)["code"], only_error(response)["attr"]) == ("invalid", "code")

    def test_custom_code_is_unique_case_insensitively_deleted_ones_included(
        self, auth_client: APIClient
    ) -> None:
        other = UserFactory.create()
        taken = code_issue(owner=other, value="TAKEN1", now=datetime.now().astimezone())
        client_for(other).delete(f"/api/codes/{taken.code}/")

        response = auth_client.post("/api/codes/", {"code": "taken1"}, format="json")

        assert (only_error(response)["code"], only_error(response)["attr"]) == ("unique", "code")
        assert ReferralCode.objects.get(code="TAKEN1").owner == other

    def test_failed_creation_keeps_the_current_code_active(
        self, user: User, auth_client: APIClient
    ) -> None:
        before = active_codes(user)
        UserFactory.create(referral_code=None)
        code_issue(owner=UserFactory.create(), value="OTHERS", now=datetime.now().astimezone())

        auth_client.post("/api/codes/", {"code": "others"}, format="json")

        assert active_codes(user) == before

    def test_live_days_sets_the_expiry(self, auth_client: APIClient, now: datetime) -> None:
        response = auth_client.post("/api/codes/", {"live_days": 10}, format="json")

        expires_at = datetime.fromisoformat(response.json()["expires_at"])
        assert timedelta(days=9, hours=23) < expires_at - now < timedelta(days=10, minutes=1)

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
        ],
    )
    def test_rejects_bad_limits(
        self, auth_client: APIClient, body: dict, code: str, attr: str
    ) -> None:
        response = auth_client.post("/api/codes/", body, format="json")

        assert response.status_code == 400
        assert (only_error(response)["code"], only_error(response)["attr"]) == (code, attr)

    def test_needs_authentication(self, api_client: APIClient) -> None:
        assert api_client.post("/api/codes/", {}, format="json").status_code == 401


class TestCodeList:
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


class TestCodeDetail:
    def test_another_users_code_is_404(self, auth_client: APIClient) -> None:
        others = active_codes(UserFactory.create())[0]

        for method in ("get", "patch", "delete"):
            response = getattr(auth_client, method)(f"/api/codes/{others}/", {}, format="json")
            assert response.status_code == 404
            assert only_error(response)["code"] == "not_found"

    def test_lookup_is_case_insensitive(self, user: User, auth_client: APIClient) -> None:
        code = active_codes(user)[0]

        assert auth_client.get(f"/api/codes/{code.lower()}/").json()["code"] == code

    def test_patch_rejects_max_uses_below_uses(self, user: User, auth_client: APIClient) -> None:
        code = active_codes(user)[0]
        ReferralCode.objects.filter(code=code).update(uses=3)

        response = auth_client.patch(f"/api/codes/{code}/", {"max_uses": 2}, format="json")

        assert (only_error(response)["code"], only_error(response)["attr"]) == (
            "invalid",
            "max_uses",
        )

    def test_patch_reactivating_an_old_code_deactivates_the_current(
        self, user: User, auth_client: APIClient
    ) -> None:
        old = active_codes(user)[0]
        current = auth_client.post("/api/codes/", {}, format="json").json()["code"]

        response = auth_client.patch(f"/api/codes/{old}/", {"is_active": True}, format="json")

        assert response.status_code == 200 and response.json()["is_active"] is True
        assert active_codes(user) == [old]
        assert ReferralCode.objects.get(code=current).is_active is False

    def test_patch_rejects_expiry_in_the_past(self, user: User, auth_client: APIClient) -> None:
        code = active_codes(user)[0]

        response = auth_client.patch(
            f"/api/codes/{code}/", {"expires_at": "2001-01-01T00:00:00Z"}, format="json"
        )

        assert only_error(response)["code"] == "expires_in_past"

    def test_delete_keeps_referrers_of_those_who_used_it(
        self, user: User, auth_client: APIClient
    ) -> None:
        code = active_codes(user)[0]
        referee = UserFactory.create(referral_code=code)

        response = auth_client.delete(f"/api/codes/{code}/")

        assert response.status_code == 204
        referee.refresh_from_db()
        assert referee.referred_by_id == user.pk
        assert auth_client.get(f"/api/codes/{code}/").status_code == 404


class TestPublicLookup:
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

    def test_unknown_code_is_404(self, api_client: APIClient) -> None:
        assert api_client.get("/api/referral-codes/NOPE1234/").status_code == 404

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

    def test_a_cached_entry_is_not_trusted_past_the_expiry(
        self, user: User, api_client: APIClient
    ) -> None:
        from codes.errors import CodeNotFoundError
        from codes.selectors import code_public_get

        soon = datetime.now().astimezone() + timedelta(minutes=5)
        code = code_issue(owner=user, expires_at=soon, now=datetime.now().astimezone())
        code_public_get(value=code.code, now=soon - timedelta(minutes=1))  # caches it

        with pytest.raises(CodeNotFoundError):
            code_public_get(value=code.code, now=soon + timedelta(seconds=1))

    def test_is_throttled_per_ip(self, api_client: APIClient, settings: Settings) -> None:
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


class TestConstraints:
    def test_one_active_code_per_owner(self, user: User) -> None:
        with pytest.raises(IntegrityError), transaction.atomic():
            ReferralCode.objects.create(owner=user, code="SECONDACTIVE")

    def test_uses_cannot_pass_max_uses(self, user: User) -> None:
        code = ReferralCode.objects.get(owner=user, is_active=True)

        with pytest.raises(IntegrityError), transaction.atomic():
            ReferralCode.objects.filter(pk=code.pk).update(max_uses=1, uses=2)

    def test_codes_are_stored_upper_cased(self, user: User) -> None:
        with pytest.raises(IntegrityError), transaction.atomic():
            ReferralCode.objects.create(owner=user, code="lower", is_active=False)


class TestReviewRegressions:
    @pytest.mark.parametrize("value", [2**31, 2**63, 10**30])
    def test_huge_max_uses_is_400(self, user: User, auth_client: APIClient, value: int) -> None:
        created = auth_client.post("/api/codes/", {"max_uses": value}, format="json")
        patched = auth_client.patch(
            f"/api/codes/{active_codes(user)[0]}/", {"max_uses": value}, format="json"
        )

        assert (created.status_code, patched.status_code) == (400, 400)
        assert only_error(created)["code"] == "max_value"

    @pytest.mark.parametrize(
        "path", ["/api/referral-codes/%00abc/", "/api/codes/%00abc/", "/api/codes/a%20b/"]
    )
    def test_impossible_code_strings_are_404(self, auth_client: APIClient, path: str) -> None:
        assert auth_client.get(path).status_code == 404

    def test_a_signup_code_with_a_nul_byte_is_invalid(self, api_client: APIClient) -> None:
        response = api_client.post(
            "/api/users/",
            {"email": "n@example.com", "password": "s3cret-Passw0rd!", "referral_code": "AB\x00CD"},
            format="json",
        )

        assert response.status_code == 400

    def test_patching_a_code_deleted_meanwhile_is_404(self, user: User, now: datetime) -> None:
        from codes.errors import CodeNotFoundError
        from codes.services import code_delete, code_update

        code = ReferralCode.objects.get(owner=user, is_active=True)
        code_delete(code=code, now=now)

        with pytest.raises(CodeNotFoundError):
            code_update(code=code, now=now, is_active=True)

    def test_a_reader_racing_an_invalidation_cannot_cache_the_old_answer(
        self,
        user: User,
        auth_client: APIClient,
        api_client: APIClient,
        django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
        now: datetime,
    ) -> None:
        from django.core.cache import cache

        from codes.cache import public_code_entry_key
        from codes.selectors import _public_entry_from_db

        value = active_codes(user)[0]
        # A reader computes its key and reads the database before the delete commits…
        reader_key = public_code_entry_key(value)
        stale_entry = _public_entry_from_db(value=value, now=now)
        with django_capture_on_commit_callbacks(execute=True):
            auth_client.delete(f"/api/codes/{value}/")
        # …and writes its (stale) entry after the invalidation ran.
        cache.set(reader_key, stale_entry)

        assert api_client.get(f"/api/referral-codes/{value}/").status_code == 404
