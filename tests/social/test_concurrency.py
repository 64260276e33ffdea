"""Links under concurrent requests: the limit, the one link and an erasure hold."""

from __future__ import annotations

import pytest
from django.utils import timezone

from social.errors import SocialAccountLimitError, SocialLinkTakenError
from social.models import MAX_ACCOUNTS_PER_USER, SocialAccount
from social.services import social_account_link
from tests.helpers import run_in_parallel
from tests.social.helpers import link_many
from tests.users.factories import UserFactory
from users.errors import UserNotFoundError
from users.models import User
from users.services.lifecycle import user_erase


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
