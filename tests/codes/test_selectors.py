"""codes.selectors, called directly."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.core.cache import cache
from pytest_django import DjangoCaptureOnCommitCallbacks, Settings

from codes.cache import public_code_entry_key
from codes.errors import (
    CodeExpiredError,
    CodeInvalidError,
    CodeNoActiveError,
    CodeNotFoundError,
    CodeUsedUpError,
)
from codes.models import ReferralCode
from codes.selectors import (
    _public_entry_from_db,
    code_check_redeemable,
    code_get_active_for_owner,
    code_get_for_owner,
    code_landing_url,
    code_list_for_owner,
    code_normalize,
    code_public_get,
)
from codes.services import code_delete, code_issue
from tests.codes.helpers import active_code
from tests.users.factories import UserFactory
from users.models import User

pytestmark = pytest.mark.django_db


class TestCodeNormalize:
    def test_strips_and_upper_cases(self) -> None:
        assert code_normalize(" ab_c-9 ") == "AB_C-9"

    @pytest.mark.parametrize("value", ["", "x" * 33, "has space", "кириллица", "AB\x00CD"])
    def test_refuses_a_string_no_code_can_have(self, value: str) -> None:
        with pytest.raises(CodeInvalidError):
            code_normalize(value)


class TestCodeListForOwner:
    def test_lists_the_owners_codes_newest_first_without_deleted_ones(
        self, user: User, now: datetime
    ) -> None:
        first = active_code(user)
        second = code_issue(owner=user, now=now + timedelta(seconds=1))
        third = code_issue(owner=user, now=now + timedelta(seconds=2))
        code_delete(code=second, now=now)
        code_issue(owner=UserFactory.create(), now=now)

        assert list(code_list_for_owner(owner=user)) == [third, first]


class TestCodeGetForOwner:
    def test_finds_the_owners_code_in_any_case(self, user: User) -> None:
        code = active_code(user)

        assert code_get_for_owner(owner=user, value=code.code.lower()) == code

    def test_refuses_another_users_code(self, user: User) -> None:
        others = active_code(UserFactory.create())

        with pytest.raises(CodeNotFoundError):
            code_get_for_owner(owner=user, value=others.code)

    def test_refuses_a_deleted_code(self, user: User, now: datetime) -> None:
        code = active_code(user)
        code_delete(code=code, now=now)

        with pytest.raises(CodeNotFoundError):
            code_get_for_owner(owner=user, value=code.code)

    def test_refuses_a_string_no_code_can_have(self, user: User) -> None:
        with pytest.raises(CodeNotFoundError):
            code_get_for_owner(owner=user, value="\x00abc")


class TestCodeGetActiveForOwner:
    def test_finds_the_active_code_even_expired(self, user: User, now: datetime) -> None:
        code = active_code(user)
        ReferralCode.objects.filter(pk=code.pk).update(expires_at=now - timedelta(days=1))

        assert code_get_active_for_owner(owner=user) == code

    def test_refuses_an_owner_without_one(self, user: User) -> None:
        user.referral_codes.update(is_active=False)

        with pytest.raises(CodeNoActiveError):
            code_get_active_for_owner(owner=user)


class TestCodeCheckRedeemable:
    def test_accepts_a_code_with_a_use_left_before_its_expiry(
        self, user: User, now: datetime
    ) -> None:
        code = code_issue(owner=user, expires_at=now + timedelta(seconds=1), max_uses=2, now=now)
        code.uses = 1

        code_check_redeemable(code=code, now=now)

    @pytest.mark.parametrize(
        ("change", "error"),
        [
            ({"is_active": False}, CodeInvalidError),
            ({"is_active": False, "deleted_at": "now"}, CodeInvalidError),
            ({"expires_at": "now"}, CodeExpiredError),
            ({"max_uses": 2, "uses": 2}, CodeUsedUpError),
        ],
    )
    def test_refuses_a_code_by_its_state(
        self, user: User, now: datetime, change: dict, error: type[Exception]
    ) -> None:
        code = active_code(user)
        for field, value in change.items():
            setattr(code, field, now if value == "now" else value)

        with pytest.raises(error):
            code_check_redeemable(code=code, now=now)

    def test_refuses_the_code_of_an_inactive_owner(self, user: User, now: datetime) -> None:
        code = active_code(user)
        code.owner.is_active = False

        with pytest.raises(CodeInvalidError):
            code_check_redeemable(code=code, now=now)


class TestCodePublicGet:
    def test_shows_a_usable_code_with_its_owners_username(self, now: datetime) -> None:
        code = active_code(UserFactory.create(username="anna"))

        public = code_public_get(value=code.code.lower(), now=now)

        assert (public.code, public.username, public.expires_at) == (code.code, "anna", None)

    @pytest.mark.parametrize("value", ["NOSUCHCODE", "\x00abc", "a b"])
    def test_refuses_an_unknown_or_impossible_code(self, value: str, now: datetime) -> None:
        with pytest.raises(CodeNotFoundError):
            code_public_get(value=value, now=now)

    def test_does_not_trust_a_cached_entry_past_the_expiry(self, user: User, now: datetime) -> None:
        soon = now + timedelta(minutes=5)
        code = code_issue(owner=user, expires_at=soon, now=now)
        code_public_get(value=code.code, now=soon - timedelta(minutes=1))  # caches it

        with pytest.raises(CodeNotFoundError):
            code_public_get(value=code.code, now=soon + timedelta(seconds=1))

    def test_a_reader_racing_an_invalidation_cannot_cache_the_old_answer(
        self,
        user: User,
        now: datetime,
        django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
    ) -> None:
        code = active_code(user)
        # A reader computes its key and reads the database before the delete commits…
        reader_key = public_code_entry_key(code.code)
        stale_entry = _public_entry_from_db(value=code.code, now=now)
        with django_capture_on_commit_callbacks(execute=True):
            code_delete(code=code, now=now)
        # …and writes its (stale) entry after the invalidation ran.
        cache.set(reader_key, stale_entry)

        with pytest.raises(CodeNotFoundError):
            code_public_get(value=code.code, now=now)


class TestCodeLandingUrl:
    def test_is_the_services_own_page_by_default(self) -> None:
        assert (code_landing_url(code=None), code_landing_url(code="AB12")) == (
            "/invite/",
            "/invite/?ref=AB12",
        )

    def test_keeps_the_configured_pages_query_and_replaces_its_ref(
        self, settings: Settings
    ) -> None:
        settings.REFERRAL_LANDING_URL = "https://shop.example/join?lang=ru&ref=OLD#form"

        assert code_landing_url(code="AB12") == "https://shop.example/join?lang=ru&ref=AB12#form"
