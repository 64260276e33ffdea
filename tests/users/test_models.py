"""The database's own guards on users_user and users_phonecode: they hold whatever writes
the row. One test per constraint of users/models.py (and so of the migrations: the users
app has no raw-SQL constraint or trigger of its own)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.db import IntegrityError, transaction

from tests.helpers import invite
from tests.users.factories import UserFactory
from users.models import PhoneCode, User
from users.services.lifecycle import user_erase

pytestmark = pytest.mark.django_db


class TestUserUniqueConstraints:
    """users_user_email_ci_unique, users_user_username_ci_unique, users_user_phone_unique."""

    @pytest.mark.parametrize(
        ("field", "taken", "again"),
        [
            ("email", "anna@example.com", "ANNA@example.com"),
            ("username", "Anna", "anna"),
            ("phone", "+79990001122", "+79990001122"),
        ],
    )
    def test_refuses_a_value_another_account_has_in_any_case(
        self, field: str, taken: str, again: str
    ) -> None:
        UserFactory.create(**{field: taken})
        other = UserFactory.create()

        with pytest.raises(IntegrityError), transaction.atomic():
            User.objects.filter(pk=other.pk).update(**{field: again})

    def test_allows_any_number_of_accounts_without_username_or_phone(self) -> None:
        UserFactory.create(username=None, phone=None)

        UserFactory.create(username=None, phone=None)

        assert User.objects.filter(username=None, phone=None).count() == 2


class TestUserContactConstraints:
    """users_user_no_empty_contacts, users_user_has_email_or_phone."""

    @pytest.mark.parametrize("field", ["email", "username", "phone"])
    def test_refuses_an_empty_string_for_none(self, field: str) -> None:
        user = UserFactory.create(phone="+79990001122")

        with pytest.raises(IntegrityError), transaction.atomic():
            User.objects.filter(pk=user.pk).update(**{field: ""})

    def test_refuses_an_account_with_neither_email_nor_phone(self) -> None:
        user = UserFactory.create(phone=None)

        with pytest.raises(IntegrityError), transaction.atomic():
            User.objects.filter(pk=user.pk).update(email=None)

    def test_refuses_clearing_both_at_once_on_an_account_not_erased(self) -> None:
        user = UserFactory.create(phone="+79990001122")

        with pytest.raises(IntegrityError), transaction.atomic():
            User.objects.filter(pk=user.pk).update(email=None, phone=None)

    @pytest.mark.parametrize(
        "contacts", [{"email": None, "phone": "+79990001122"}, {"phone": None}]
    )
    def test_accepts_an_email_or_a_phone_alone(self, contacts: dict[str, str | None]) -> None:
        user = UserFactory.create(phone="+79990001122")

        User.objects.filter(pk=user.pk).update(**contacts)

        user.refresh_from_db()
        assert user.email or user.phone


class TestUserTombstoneConstraints:
    """users_user_erased_is_blank (and the tombstone's exception to has_email_or_phone)."""

    def test_a_tombstone_needs_neither_email_nor_phone(self, user: User, now: datetime) -> None:
        User.objects.filter(pk=user.pk).update(
            email=None,
            phone=None,
            username=None,
            first_name="",
            last_name="",
            is_active=False,
            erased_at=now,
        )

        assert User.objects.get(pk=user.pk).is_erased

    @pytest.mark.parametrize(
        "leftover",
        [
            {"email": "back@example.com"},
            {"phone": "+79990001122"},
            {"username": "back"},
            {"first_name": "Anna"},
            {"last_name": "Ivanova"},
            {"middle_name": "Petrovna"},
            {"is_active": True},
            {"is_staff": True},
            {"is_superuser": True},
        ],
    )
    def test_refuses_personal_data_or_activity_on_a_tombstone(
        self, user: User, now: datetime, leftover: dict[str, object]
    ) -> None:
        user_erase(user=user, now=now)

        with pytest.raises(IntegrityError), transaction.atomic():
            User.objects.filter(pk=user.pk).update(**leftover)

    def test_refuses_a_tombstone_with_a_referrer(self, now: datetime) -> None:
        referee = invite(UserFactory.create())
        user_erase(user=referee, now=now)

        with pytest.raises(IntegrityError), transaction.atomic():
            User.objects.filter(pk=referee.pk).update(referred_by=referee.pk - 1)


class TestUserTreeConstraints:
    """users_user_not_self_referred (the tree's nodes: tests/referral/test_models.py)."""

    def test_refuses_a_user_referred_by_itself(self) -> None:
        user = UserFactory.create()

        with pytest.raises(IntegrityError), transaction.atomic():
            User.objects.filter(pk=user.pk).update(referred_by=user.pk)


class TestPhoneCodeConstraints:
    """users_phonecode_phone_unique."""

    def test_refuses_a_second_code_for_a_phone(self, now: datetime) -> None:
        fields = {"code_hash": "0" * 64, "created_at": now, "expires_at": now + timedelta(1)}
        PhoneCode.objects.create(phone="+79990001122", **fields)

        with pytest.raises(IntegrityError), transaction.atomic():
            PhoneCode.objects.create(phone="+79990001122", **fields)
