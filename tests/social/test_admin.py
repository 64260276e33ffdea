from __future__ import annotations

from datetime import datetime

import pytest
from django.test import Client
from django.urls import reverse

from social.models import MAX_ACCOUNTS_PER_USER, SocialAccount
from social.services import social_account_link
from tests.users.factories import UserFactory
from users.models import User

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:social_socialaccount_changelist")
ADD = reverse("admin:social_socialaccount_add")


class TestSocialAccountChangelist:
    def test_finds_an_account_by_part_of_its_link(
        self, admin_client: Client, user: User, now: datetime
    ) -> None:
        social_account_link(user=user, network="vk", link="https://vk.com/durov", now=now)
        social_account_link(user=user, network="vk", link="https://vk.com/other", now=now)

        response = admin_client.get(CHANGELIST, {"q": "durov"})

        assert [a.link for a in response.context["cl"].result_list] == ["https://vk.com/durov"]

    def test_finds_an_account_by_the_link_as_the_user_wrote_it(
        self, admin_client: Client, user: User, now: datetime
    ) -> None:
        social_account_link(user=user, network="vk", link="https://vk.com/durov", now=now)

        response = admin_client.get(CHANGELIST, {"q": "HTTPS://www.vk.com/durov/"})

        assert [a.link for a in response.context["cl"].result_list] == ["https://vk.com/durov"]


class TestSocialAccountAdd:
    def test_links_through_the_service_normalized(self, admin_client: Client, user: User) -> None:
        response = admin_client.post(
            ADD,
            {
                "user": user.pk,
                "network": "github",
                "link": "https://www.GitHub.com/anna/",
                "reason": "",
            },
        )

        assert response.status_code == 302
        assert SocialAccount.objects.get(user=user).link == "https://github.com/anna"

    @pytest.mark.parametrize(
        ("link", "code"),
        [
            ("https://evil.com/?github.com", "link_network_mismatch"),
            ("ftp://github.com/a", "invalid"),
        ],
    )
    def test_refuses_a_bad_link_on_the_field(
        self, admin_client: Client, user: User, link: str, code: str
    ) -> None:
        response = admin_client.post(ADD, {"user": user.pk, "network": "github", "link": link})

        assert response.status_code == 200
        errors = response.context["adminform"].form.errors.as_data()
        assert [e.code for e in errors["link"]] == [code]
        assert not SocialAccount.objects.exists()

    def test_refuses_a_link_taken_however_spelled(
        self, admin_client: Client, user: User, now: datetime
    ) -> None:
        social_account_link(
            user=UserFactory.create(), network="github", link="https://github.com/a", now=now
        )

        response = admin_client.post(
            ADD, {"user": user.pk, "network": "github", "link": "https://GITHUB.com/a/"}
        )

        assert response.status_code == 200
        assert "link" in response.context["adminform"].form.errors

    def test_refuses_the_twenty_first(
        self, admin_client: Client, user: User, now: datetime
    ) -> None:
        for n in range(MAX_ACCOUNTS_PER_USER):
            social_account_link(user=user, network="x", link=f"https://x.com/u{n}", now=now)

        response = admin_client.post(
            ADD, {"user": user.pk, "network": "x", "link": "https://x.com/more"}
        )

        assert response.status_code == 200
        errors = response.context["adminform"].form.non_field_errors().as_data()
        assert [e.code for e in errors] == ["too_many_accounts"]


class TestSocialAccountChangeAndDelete:
    def test_only_the_reason_changes(self, admin_client: Client, user: User, now: datetime) -> None:
        account = social_account_link(user=user, network="vk", link="https://vk.com/a", now=now)
        url = reverse("admin:social_socialaccount_change", args=[account.pk])

        response = admin_client.post(url, {"reason": "work", "link": "https://vk.com/b"})

        assert response.status_code == 302
        account.refresh_from_db()
        assert (account.reason, account.link) == ("work", "https://vk.com/a")

    def test_deletes_through_the_service(
        self, admin_client: Client, user: User, now: datetime
    ) -> None:
        account = social_account_link(user=user, network="vk", link="https://vk.com/a", now=now)
        url = reverse("admin:social_socialaccount_delete", args=[account.pk])

        response = admin_client.post(url, {"post": "yes"})

        assert response.status_code == 302
        assert not SocialAccount.objects.exists()
