"""The constraints of social.models: the database itself refuses what they forbid."""

from __future__ import annotations

from datetime import datetime

import pytest
from django.db import IntegrityError, transaction

from social.models import SocialAccount
from tests.users.factories import UserFactory
from users.models import User

pytestmark = pytest.mark.django_db


class TestSocialAccountConstraints:
    def test_refuse_a_second_row_with_one_link(self, user: User, now: datetime) -> None:
        """social_account_link_unique: one link, whoever links it."""
        SocialAccount.objects.create(
            user=user, network="vk", link="https://vk.com/a", connected_at=now
        )

        with pytest.raises(IntegrityError), transaction.atomic():
            SocialAccount.objects.create(
                user=UserFactory.create(), network="vk", link="https://vk.com/a", connected_at=now
            )

    def test_refuse_an_unknown_network(self, user: User, now: datetime) -> None:
        """social_account_network_known."""
        with pytest.raises(IntegrityError), transaction.atomic():
            SocialAccount.objects.create(
                user=user, network="myspace", link="https://myspace.com/a", connected_at=now
            )
