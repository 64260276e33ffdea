from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest

from social.errors import SocialAccountNotFoundError
from social.selectors import social_account_get_for_user, social_account_list_for_user
from social.services import social_account_link
from tests.users.factories import UserFactory
from users.models import User

pytestmark = pytest.mark.django_db


class TestSocialAccountListForUser:
    def test_lists_the_users_own_accounts_newest_first(self, user: User, now: datetime) -> None:
        older = social_account_link(
            user=user, network="vk", link="https://vk.com/a", now=now - timedelta(days=1)
        )
        newer = social_account_link(user=user, network="vk", link="https://vk.com/b", now=now)
        social_account_link(
            user=UserFactory.create(), network="vk", link="https://vk.com/c", now=now
        )

        listed = list(social_account_list_for_user(user=user))

        assert listed == [newer, older]

    def test_orders_accounts_linked_in_one_instant_newest_row_first(
        self, user: User, now: datetime
    ) -> None:
        first = social_account_link(user=user, network="vk", link="https://vk.com/a", now=now)
        second = social_account_link(user=user, network="vk", link="https://vk.com/b", now=now)

        listed = list(social_account_list_for_user(user=user))

        assert listed == [second, first]


class TestSocialAccountGetForUser:
    def test_finds_the_users_own_account(self, user: User, now: datetime) -> None:
        account = social_account_link(user=user, network="ok", link="https://ok.ru/a", now=now)

        found = social_account_get_for_user(user=user, uuid=account.uuid)

        assert found == account

    def test_does_not_find_another_users_account(self, user: User, now: datetime) -> None:
        strangers = social_account_link(
            user=UserFactory.create(), network="ok", link="https://ok.ru/a", now=now
        )

        with pytest.raises(SocialAccountNotFoundError):
            social_account_get_for_user(user=user, uuid=strangers.uuid)

    def test_does_not_find_an_unknown_uuid(self, user: User) -> None:
        with pytest.raises(SocialAccountNotFoundError):
            social_account_get_for_user(user=user, uuid=uuid.uuid4())
