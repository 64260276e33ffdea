"""The database's own guards on users_user: they hold whatever writes the row."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from tests.users.factories import UserFactory
from users.models import User

pytestmark = pytest.mark.django_db


class TestUserContactConstraints:
    @pytest.mark.parametrize("field", ["email", "username", "phone"])
    def test_refuses_an_empty_string_for_none(self, field: str) -> None:
        user = UserFactory.create(phone="+79990001122")

        with pytest.raises(IntegrityError), transaction.atomic():
            User.objects.filter(pk=user.pk).update(**{field: ""})

    def test_refuses_an_account_with_neither_email_nor_phone(self) -> None:
        user = UserFactory.create(phone=None)

        with pytest.raises(IntegrityError), transaction.atomic():
            User.objects.filter(pk=user.pk).update(email=None)

    @pytest.mark.parametrize(
        "contacts", [{"email": None, "phone": "+79990001122"}, {"phone": None}]
    )
    def test_accepts_an_email_or_a_phone_alone(self, contacts: dict[str, str | None]) -> None:
        user = UserFactory.create(phone="+79990001122")

        User.objects.filter(pk=user.pk).update(**contacts)

        user.refresh_from_db()
        assert user.email or user.phone
