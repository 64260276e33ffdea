"""users.services: the account and token rules every door (API, admin, factories) meets."""

from __future__ import annotations

from datetime import datetime

import pytest
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from codes.models import ReferralCode
from tests.users.factories import UserFactory
from users.errors import (
    ContactRequiredError,
    FieldTakenError,
    PhoneInvalidError,
    PhoneRequiredError,
    RefreshTokenInvalidError,
    TokenRevokedError,
    TokenUserInactiveError,
    TokenUserNotFoundError,
    UserAlreadyActiveError,
)
from users.models import User
from users.selectors import token_user_get
from users.services.accounts import (
    user_contacts_check,
    user_create,
    user_deactivate,
    user_fields_check_free,
    user_fields_normalize,
)
from users.services.lifecycle import user_restore
from users.services.tokens import token_refresh_rotate

pytestmark = pytest.mark.django_db


class TestUserFieldsNormalize:
    def test_stores_none_as_null_the_email_domain_lower_and_the_phone_in_e164(self) -> None:
        normalized = user_fields_normalize(
            {"email": "Anna@EXAMPLE.com", "username": "", "phone": "8 (999) 123-45-67"}
        )

        assert normalized == {
            "email": "Anna@example.com",
            "username": None,
            "phone": "+79991234567",
        }

    def test_drops_what_is_not_a_profile_field(self) -> None:
        assert user_fields_normalize({"is_staff": True, "first_name": "Ivan"}) == {
            "first_name": "Ivan"
        }

    def test_refuses_a_phone_that_is_no_number(self) -> None:
        with pytest.raises(PhoneInvalidError):
            user_fields_normalize({"phone": "12"})


class TestUserContactsCheck:
    def test_refuses_clearing_the_phone_of_an_account_without_email(self) -> None:
        user = UserFactory.create(email=None, phone="+79991234567")

        with pytest.raises(PhoneRequiredError):
            user_contacts_check(user=user, fields={"phone": None})

    def test_refuses_a_new_account_with_neither(self) -> None:
        with pytest.raises(ContactRequiredError):
            user_contacts_check(user=None, fields={"email": None, "phone": None})

    def test_accepts_clearing_the_phone_of_an_account_with_email(self, user: User) -> None:
        user_contacts_check(user=user, fields={"phone": None})


class TestUserFieldsCheckFree:
    def test_refuses_an_email_another_account_has_in_another_case(self) -> None:
        UserFactory.create(email="anna@example.com")

        with pytest.raises(FieldTakenError) as refused:
            user_fields_check_free(user=None, fields={"email": "ANNA@example.com"})

        assert refused.value.attr == "email"

    def test_an_accounts_own_values_are_free_for_it(self) -> None:
        user = UserFactory.create(phone="+79991234567")

        user_fields_check_free(
            user=user, fields={"email": user.email, "username": user.username, "phone": user.phone}
        )


class TestUserCreate:
    def test_refuses_an_account_with_neither_email_nor_phone(self, now: datetime) -> None:
        with pytest.raises(ContactRequiredError):
            user_create(email=None, phone="", password=None, now=now)

        assert not User.objects.exists()

    def test_without_a_password_gives_an_unusable_one(self, now: datetime) -> None:
        user = user_create(email=None, phone="+79991234567", password=None, now=now)

        assert not user.has_usable_password()


class TestUserRestore:
    def test_signs_in_again_with_its_codes_working_but_old_tokens_dead(
        self, user: User, api_client: APIClient
    ) -> None:
        code = ReferralCode.objects.get(owner=user, is_active=True).code
        old_refresh = str(RefreshToken.for_user(user))
        user_deactivate(user=user)

        user_restore(user=user, now=timezone.now())

        user.refresh_from_db()
        assert user.is_active
        assert api_client.get(f"/api/referral-codes/{code}/").status_code == 200
        refreshed = api_client.post("/api/auth/jwt/refresh/", {"refresh": old_refresh})
        assert refreshed.status_code == 401

    def test_refuses_an_active_user(self, user: User) -> None:
        with pytest.raises(UserAlreadyActiveError):
            user_restore(user=user, now=timezone.now())


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


class TestTokenRefreshRotate:
    def test_gives_a_new_pair_once_per_refresh_token(self, user: User) -> None:
        refresh = str(RefreshToken.for_user(user))

        pair = token_refresh_rotate(raw_refresh=refresh)

        assert pair.refresh != refresh and pair.access
        with pytest.raises(RefreshTokenInvalidError):
            token_refresh_rotate(raw_refresh=refresh)

    def test_refuses_garbage(self) -> None:
        with pytest.raises(RefreshTokenInvalidError):
            token_refresh_rotate(raw_refresh="garbage")

    def test_refuses_an_inactive_users_token(self, user: User) -> None:
        refresh = str(RefreshToken.for_user(user))
        User.objects.filter(pk=user.pk).update(is_active=False)

        with pytest.raises(TokenUserInactiveError):
            token_refresh_rotate(raw_refresh=refresh)
