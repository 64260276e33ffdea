"""The users app's data migrations, run as functions: 0008 fills the sign-up channel of
accounts made before it was recorded (users.SignupChannel)."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps

from tests.users.factories import UserFactory
from users.models import SignupChannel, User

pytestmark = pytest.mark.django_db

backfill = importlib.import_module("users.migrations.0008_user_signup_channel_backfill")


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
