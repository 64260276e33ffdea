from __future__ import annotations

from datetime import datetime

import pytest

from social.errors import (
    SocialAccountLimitError,
    SocialLinkInvalidError,
    SocialLinkNetworkMismatchError,
    SocialLinkTakenError,
)
from social.models import MAX_ACCOUNTS_PER_USER, SocialAccount
from social.services import (
    social_account_limit_check,
    social_account_link,
    social_account_unlink,
    social_account_update,
    social_accounts_unlink_all,
)
from tests.social.helpers import link_many
from tests.users.factories import UserFactory
from users.errors import UserNotFoundError
from users.models import User
from users.services.lifecycle import user_erase

pytestmark = pytest.mark.django_db


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

    def test_links_the_same_account_on_another_scheme_as_another_link(self, now: datetime) -> None:
        social_account_link(
            user=UserFactory.create(), network="vk", link="https://vk.com/durov", now=now
        )

        on_http = social_account_link(
            user=UserFactory.create(), network="vk", link="http://VK.com/durov", now=now
        )

        assert on_http.link == "http://vk.com/durov"

    def test_refuses_a_link_on_another_networks_host(self, user: User, now: datetime) -> None:
        with pytest.raises(SocialLinkNetworkMismatchError):
            social_account_link(user=user, network="github", link="https://vk.com/durov", now=now)

        assert not SocialAccount.objects.exists()

    def test_refuses_a_link_that_names_no_account(self, user: User, now: datetime) -> None:
        with pytest.raises(SocialLinkInvalidError):
            social_account_link(user=user, network="vk", link="https://vk.com/", now=now)

        assert not SocialAccount.objects.exists()

    def test_refuses_the_twenty_first_account(self, user: User, now: datetime) -> None:
        link_many(user, MAX_ACCOUNTS_PER_USER, now)

        with pytest.raises(SocialAccountLimitError):
            social_account_link(user=user, network="x", link="https://x.com/one-more", now=now)

        assert SocialAccount.objects.filter(user=user).count() == 20

    def test_counts_the_limit_per_user(self, user: User, now: datetime) -> None:
        link_many(user, MAX_ACCOUNTS_PER_USER, now)

        other_users = social_account_link(
            user=UserFactory.create(), network="x", link="https://x.com/other", now=now
        )

        assert other_users.link == "https://x.com/other"

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


class TestSocialAccountLimitCheck:
    def test_passes_below_the_limit(self, user: User, now: datetime) -> None:
        link_many(user, MAX_ACCOUNTS_PER_USER - 1, now)

        social_account_limit_check(user=user)

    def test_refuses_at_the_limit(self, user: User, now: datetime) -> None:
        link_many(user, MAX_ACCOUNTS_PER_USER, now)

        with pytest.raises(SocialAccountLimitError) as refused:
            social_account_limit_check(user=user)

        assert refused.value.code == "too_many_accounts"


class TestSocialAccountUpdate:
    def test_changes_the_reason_only(self, user: User, now: datetime) -> None:
        account = social_account_link(
            user=user, network="ok", link="https://ok.ru/anna", reason="family", now=now
        )

        social_account_update(account=account, reason="old friends")

        stored = SocialAccount.objects.get(pk=account.pk)
        assert (stored.reason, stored.link, stored.network) == (
            "old friends",
            "https://ok.ru/anna",
            "ok",
        )


class TestSocialAccountUnlink:
    def test_deletes_that_account_only(self, user: User, now: datetime) -> None:
        unlinked, kept = link_many(user, 2, now)

        social_account_unlink(account=unlinked)

        assert list(SocialAccount.objects.all()) == [kept]


class TestSocialAccountsUnlinkAll:
    def test_unlinks_every_account_of_the_user_and_counts_them(
        self, user: User, now: datetime
    ) -> None:
        link_many(user, 3, now)
        others = social_account_link(
            user=UserFactory.create(), network="vk", link="https://vk.com/other", now=now
        )

        unlinked = social_accounts_unlink_all(user=user)

        assert unlinked == 3
        assert list(SocialAccount.objects.all()) == [others]
