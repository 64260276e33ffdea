from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest
from pytest_django import Settings
from rest_framework_simplejwt.tokens import RefreshToken

from codes.models import ReferralCode
from codes.services import code_issue
from tests.users.factories import UserFactory
from users.errors import (
    TokenRevokedError,
    TokenUserInactiveError,
    TokenUserNotFoundError,
    UserNotFoundError,
)
from users.models import User
from users.selectors import (
    ProfileCode,
    ProfileReferrer,
    token_user_get,
    user_get_by_uuid,
    user_profile_get,
)
from users.services.accounts import user_deactivate

FIELDS = [field.attname for field in User._meta.concrete_fields]


@pytest.mark.django_db
class TestUserGetByUuid:
    def test_loads_every_field_as_the_orm_does(self) -> None:
        referrer = UserFactory.create(is_business_user=True)
        user = UserFactory.create(
            referral_code=ReferralCode.objects.get(owner=referrer).code, phone="+79990001122"
        )
        expected = User.objects.get(pk=user.pk)

        loaded = user_get_by_uuid(uuid=str(user.uuid))

        # Types too: SQLite hands back text and integers for UUIDs, datetimes, booleans.
        for name in FIELDS:
            assert getattr(loaded, name) == getattr(expected, name), name
            assert type(getattr(loaded, name)) is type(getattr(expected, name)), name
        assert loaded._state.adding is False
        assert loaded.referred_by == referrer

    def test_loads_an_inactive_user(self) -> None:
        user = UserFactory.create()
        user_deactivate(user=user)

        assert user_get_by_uuid(uuid=user.uuid).is_active is False

    @pytest.mark.parametrize(
        "public_id", ["0b7e4c1a-2f3d-4e5f-8a9b-0c1d2e3f4a5b", "not-a-uuid", ""]
    )
    def test_refuses_an_unknown_or_malformed_id(self, public_id: str) -> None:
        UserFactory.create()

        with pytest.raises(UserNotFoundError):
            user_get_by_uuid(uuid=public_id)


@pytest.mark.django_db
class TestUserProfileGet:
    def test_without_referrer_or_code(self, settings: Settings) -> None:
        settings.REFERRAL_CODE_ON_SIGNUP = False
        user = UserFactory.create()

        profile = user_profile_get(user=user)

        assert profile.user is user
        assert profile.referred_by is None
        assert profile.referral_code is None
        assert profile.referrals_count == 0

    def test_with_referrer_active_code_and_referrals(self, now: datetime) -> None:
        referrer = UserFactory.create(username=None)
        used = ReferralCode.objects.get(owner=referrer)
        user = UserFactory.create(referral_code=used.code)
        expires_at = (now + timedelta(days=3)).replace(microsecond=0)
        active = code_issue(owner=user, now=now, value="SHARE123", expires_at=expires_at)
        for _ in range(3):
            UserFactory.create(referral_code=active.code)

        profile = user_profile_get(user=user)

        assert profile.referred_by == ProfileReferrer(referrer.uuid, "", used.code)
        assert isinstance(profile.referred_by.uuid, uuid.UUID)
        assert profile.referral_code == ProfileCode("SHARE123", expires_at)
        assert profile.referral_code.expires_at is not None
        assert profile.referral_code.expires_at.tzinfo is not None
        assert profile.referral_code.share_url == "http://127.0.0.1:8000/r/SHARE123/"
        assert profile.referrals_count == 3

    def test_shows_only_the_active_code(self, now: datetime) -> None:
        user = UserFactory.create()
        code_issue(owner=user, now=now, value="OLDCODE1")
        code_issue(owner=user, now=now, value="NEWCODE1")

        assert user_profile_get(user=user).referral_code == ProfileCode("NEWCODE1", None)

    def test_refuses_a_deleted_user(self) -> None:
        user = UserFactory.create()
        User.objects.filter(pk=user.pk).update(referred_by=None)
        ReferralCode.objects.filter(owner=user).delete()
        User.objects.filter(pk=user.pk).delete()

        with pytest.raises(UserNotFoundError):
            user_profile_get(user=user)


@pytest.mark.django_db
class TestTokenUserGet:
    def test_returns_the_tokens_user(self, user: User) -> None:
        assert token_user_get(token=RefreshToken.for_user(user)) == user

    def test_refuses_an_inactive_users_token(self, user: User) -> None:
        token = RefreshToken.for_user(user)
        User.objects.filter(pk=user.pk).update(is_active=False)

        with pytest.raises(TokenUserInactiveError):
            token_user_get(token=token)

    def test_refuses_a_token_issued_before_the_password_changed(self, user: User) -> None:
        token = RefreshToken.for_user(user)
        user.set_password("An0ther-Secret!")
        user.save(update_fields=["password"])

        with pytest.raises(TokenRevokedError):
            token_user_get(token=token)

    def test_refuses_a_token_of_a_user_that_is_gone(self, user: User) -> None:
        token = RefreshToken.for_user(user)
        token["user_id"] = "00000000-0000-4000-8000-000000000000"

        with pytest.raises(TokenUserNotFoundError):
            token_user_get(token=token)
