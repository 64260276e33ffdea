"""How an account was made is recorded once, at its creation (users.SignupChannel)."""

from __future__ import annotations

import importlib
from datetime import datetime

import pytest
from django.apps import apps

from tests.users.factories import UserFactory
from users.models import SignupChannel, User
from users.services.accounts import user_create, user_update
from users.services.phone import phone_code_store, phone_sign_in

pytestmark = pytest.mark.django_db

backfill = importlib.import_module("users.migrations.0008_user_signup_channel_backfill")


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


class TestSignupChannelBackfill:
    def test_fills_the_accounts_without_one_from_their_contacts(self) -> None:
        by_email = UserFactory.create(email="anna@example.com", phone="+79990001122")
        by_phone = UserFactory.create(email=None, phone="+79990003344")
        recorded = UserFactory.create(email="boris@example.com")
        User.objects.filter(pk__in=[by_email.pk, by_phone.pk]).update(signup_channel=None)
        User.objects.filter(pk=recorded.pk).update(signup_channel=SignupChannel.PHONE)

        backfill.backfill(apps, None)

        channels = dict(User.objects.values_list("email", "signup_channel"))
        assert channels == {
            "anna@example.com": "email",
            None: "phone",
            "boris@example.com": "phone",
        }

    def test_reaches_ids_beyond_the_first_batch(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(backfill, "BATCH", 1)
        users = [UserFactory.create() for _ in range(3)]
        User.objects.update(signup_channel=None)

        backfill.backfill(apps, None)

        assert set(
            User.objects.filter(pk__in=[u.pk for u in users]).values_list(
                "signup_channel", flat=True
            )
        ) == {"email"}
