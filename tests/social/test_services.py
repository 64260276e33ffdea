from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from social.errors import (
    SocialAccountLimitError,
    SocialLinkNetworkMismatchError,
    SocialLinkTakenError,
)
from social.models import MAX_ACCOUNTS_PER_USER, SocialAccount
from social.selectors import social_account_list_for_user
from social.services import social_account_link, social_account_unlink
from tests.helpers import run_in_parallel
from tests.users.factories import UserFactory
from users.errors import UserNotFoundError
from users.models import User
from users.services.lifecycle import user_erase


def link_many(user: User, count: int, now: datetime) -> list[SocialAccount]:
    return [
        social_account_link(user=user, network="github", link=f"https://github.com/u{n}", now=now)
        for n in range(count)
    ]


@pytest.mark.django_db
class TestSocialAccountLink:
    def test_links_with_the_link_normalized(self, user: User, now: datetime) -> None:
        account = social_account_link(
            user=user, network="vk", link="https://www.VK.com/durov/", reason="friends", now=now
        )

        assert (account.network, account.link, account.reason) == (
            "vk",
            "https://vk.com/durov",
            "friends",
        )
        assert account.connected_at == now

    def test_refuses_a_link_anyone_linked_already_however_spelled(self, now: datetime) -> None:
        social_account_link(
            user=UserFactory.create(), network="vk", link="https://vk.com/durov", now=now
        )

        with pytest.raises(SocialLinkTakenError):
            social_account_link(
                user=UserFactory.create(), network="vk", link="HTTPS://www.vk.com/durov/", now=now
            )

    def test_refuses_a_link_on_another_networks_host(self, user: User, now: datetime) -> None:
        with pytest.raises(SocialLinkNetworkMismatchError):
            social_account_link(user=user, network="github", link="https://vk.com/durov", now=now)

        assert not SocialAccount.objects.exists()

    def test_refuses_the_twenty_first_account(self, user: User, now: datetime) -> None:
        link_many(user, MAX_ACCOUNTS_PER_USER, now)

        with pytest.raises(SocialAccountLimitError):
            social_account_link(user=user, network="x", link="https://x.com/one-more", now=now)

        assert SocialAccount.objects.filter(user=user).count() == 20

    def test_an_unlinked_account_frees_its_place_and_its_link(
        self, user: User, now: datetime
    ) -> None:
        accounts = link_many(user, MAX_ACCOUNTS_PER_USER, now)

        social_account_unlink(account=accounts[0])

        again = social_account_link(
            user=user, network="github", link="https://github.com/u0", now=now
        )
        assert again.uuid != accounts[0].uuid

    def test_refuses_an_erased_user(self, user: User, now: datetime) -> None:
        loaded_before = User.objects.get(pk=user.pk)
        user_erase(user=user, now=now)

        with pytest.raises(UserNotFoundError):
            social_account_link(user=loaded_before, network="vk", link="https://vk.com/x", now=now)

    def test_the_list_is_newest_first(self, user: User, now: datetime) -> None:
        older = social_account_link(
            user=user, network="vk", link="https://vk.com/a", now=now - timedelta(days=1)
        )
        newer = social_account_link(user=user, network="vk", link="https://vk.com/b", now=now)
        social_account_link(
            user=UserFactory.create(), network="vk", link="https://vk.com/c", now=now
        )

        assert list(social_account_list_for_user(user=user)) == [newer, older]


@pytest.mark.django_db
class TestSocialAccountConstraints:
    def test_the_database_refuses_a_second_row_with_one_link(
        self, user: User, now: datetime
    ) -> None:
        SocialAccount.objects.create(
            user=user, network="vk", link="https://vk.com/a", connected_at=now
        )

        with pytest.raises(IntegrityError), transaction.atomic():
            SocialAccount.objects.create(
                user=UserFactory.create(), network="vk", link="https://vk.com/a", connected_at=now
            )

    def test_the_database_refuses_an_unknown_network(self, user: User, now: datetime) -> None:
        with pytest.raises(IntegrityError), transaction.atomic():
            SocialAccount.objects.create(
                user=user, network="myspace", link="https://myspace.com/a", connected_at=now
            )


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("postgres_only")
class TestSocialAccountLinkConcurrency:
    def test_parallel_links_stop_at_twenty(self) -> None:
        user = UserFactory.create()
        link_many(user, MAX_ACCOUNTS_PER_USER - 3, timezone.now())

        results = run_in_parallel(
            [
                lambda n=n: social_account_link(
                    user=user, network="x", link=f"https://x.com/racer{n}", now=timezone.now()
                )
                for n in range(8)
            ]
        )

        assert sum(isinstance(r, SocialAccount) for r in results) == 3
        assert all(
            isinstance(r, SocialAccountLimitError)
            for r in results
            if not isinstance(r, SocialAccount)
        ), results
        assert SocialAccount.objects.filter(user=user).count() == MAX_ACCOUNTS_PER_USER

    def test_parallel_links_of_one_link_by_different_users_link_it_once(self) -> None:
        users = [UserFactory.create() for _ in range(4)]

        results = run_in_parallel(
            [
                lambda user=user: social_account_link(
                    user=user, network="telegram", link="https://t.me/same", now=timezone.now()
                )
                for user in users
            ]
        )

        assert sum(isinstance(r, SocialAccount) for r in results) == 1
        assert sum(isinstance(r, SocialLinkTakenError) for r in results) == 3

    def test_a_link_racing_the_erasure_never_outlives_it(self) -> None:
        user = UserFactory.create()

        results = run_in_parallel(
            [
                lambda: user_erase(user=User.objects.get(pk=user.pk), now=timezone.now()),
                lambda: social_account_link(
                    user=user, network="vk", link="https://vk.com/late", now=timezone.now()
                ),
            ]
        )

        assert results[0] is None
        assert isinstance(results[1], SocialAccount | UserNotFoundError), results
        assert not SocialAccount.objects.filter(user=user).exists()
