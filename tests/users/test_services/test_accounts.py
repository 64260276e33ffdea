"""users.services.accounts: the account rules every door (API, admin, factories) meets."""

from __future__ import annotations

from datetime import datetime

import pytest
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken
from rest_framework_simplejwt.tokens import RefreshToken

from codes.errors import CodeInvalidError
from codes.services import code_redeem
from tests.helpers import code_of, invite
from tests.users.factories import UserFactory
from users.errors import (
    ContactRequiredError,
    FieldTakenError,
    PhoneInvalidError,
    PhoneRequiredError,
)
from users.models import SignupChannel, User
from users.services.accounts import (
    user_contacts_check,
    user_create,
    user_deactivate,
    user_fields_check_free,
    user_fields_normalize,
    user_update,
)
from users.services.phone import phone_code_store, phone_sign_in

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


class TestSignupChannel:
    def test_an_account_with_an_email_is_an_email_sign_up(self, now: datetime) -> None:
        user = user_create(email="anna@example.com", phone="+79990001122", password=None, now=now)

        assert user.signup_channel == SignupChannel.EMAIL

    def test_an_account_with_a_phone_and_no_email_is_a_phone_sign_up(self, now: datetime) -> None:
        user = user_create(email=None, phone="+79990001122", password=None, now=now)

        assert user.signup_channel == SignupChannel.PHONE

    def test_phone_sign_in_makes_phone_sign_ups(self, now: datetime) -> None:
        phone_code_store(phone="+79990001122", code="123456", now=now)

        signed_in = phone_sign_in(phone="+79990001122", code="123456", now=now)

        assert signed_in.user.signup_channel == SignupChannel.PHONE

    def test_adding_an_email_later_keeps_the_channel(self, now: datetime) -> None:
        user = user_create(email=None, phone="+79990001122", password=None, now=now)

        user_update(user=user, changes={"email": "anna@example.com"})

        user.refresh_from_db()
        assert user.signup_channel == SignupChannel.PHONE

    def test_an_operators_account_has_none(self) -> None:
        operator = User.objects.create_superuser(email="root@example.com", password="pw")

        assert operator.signup_channel is None


class TestUserUpdate:
    def test_refuses_a_value_another_account_has_on_its_field(self, user: User) -> None:
        UserFactory.create(username="Maria")
        own_username = user.username

        with pytest.raises(FieldTakenError) as refused:
            user_update(user=user, changes={"username": "maria"})

        assert refused.value.attr == "username"
        assert User.objects.get(pk=user.pk).username == own_username

    def test_refuses_clearing_the_phone_of_an_account_without_email(self) -> None:
        user = UserFactory.create(email=None, phone="+79991234567")

        with pytest.raises(PhoneRequiredError):
            user_update(user=user, changes={"phone": ""})

        assert User.objects.get(pk=user.pk).phone == "+79991234567"

    def test_ignores_what_is_not_a_profile_field(self, user: User) -> None:
        user_update(user=user, changes={"first_name": "Pyotr", "is_staff": True})

        user.refresh_from_db()
        assert (user.first_name, user.is_staff) == ("Pyotr", False)


class TestUserDeactivate:
    def test_ends_sign_in_tokens_and_codes_and_keeps_the_tree(self, now: datetime) -> None:
        referrer = UserFactory.create()
        referee = invite(referrer)
        refresh = str(RefreshToken.for_user(referee))

        user_deactivate(user=referee)

        referee.refresh_from_db()
        assert referee.is_active is False
        assert referee.referred_by == referrer
        assert BlacklistedToken.objects.filter(token__token=refresh).exists()
        with pytest.raises(CodeInvalidError):
            code_redeem(value=code_of(referee), now=now)
