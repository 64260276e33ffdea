from __future__ import annotations

import uuid
from datetime import datetime

import pytest
from rest_framework.test import APIClient

from social.models import MAX_ACCOUNTS_PER_USER, SocialAccount
from social.services import social_account_link
from tests.helpers import client_for, only_error
from tests.users.factories import UserFactory
from users.models import User

pytestmark = pytest.mark.django_db

LIST = "/api/users/me/social-accounts/"


class TestSocialAccountCreate:
    def test_links_an_account(self, auth_client: APIClient, user: User) -> None:
        response = auth_client.post(
            LIST, {"network": "telegram", "link": "https://www.T.me/anna_k/", "reason": "chat"}
        )

        assert response.status_code == 201
        body = response.json()
        assert set(body) == {"uuid", "network", "link", "reason", "connected_at"}
        assert (body["network"], body["link"], body["reason"]) == (
            "telegram",
            "https://t.me/anna_k",
            "chat",
        )
        assert body["connected_at"].endswith("+00:00")
        assert SocialAccount.objects.get(user=user).uuid == uuid.UUID(body["uuid"])

    def test_the_reason_is_optional(self, auth_client: APIClient) -> None:
        response = auth_client.post(LIST, {"network": "github", "link": "https://github.com/a"})

        assert response.status_code == 201
        assert response.json()["reason"] == ""

    @pytest.mark.parametrize(
        ("link", "code"),
        [
            # One link per code: social/test_links.py has every variant of each.
            ("https://vk.com.evil.com/x", "link_network_mismatch"),
            ("javascript:alert(1)", "invalid"),
            ("https://vk.com/" + "x" * 10_000, "max_length"),
        ],
    )
    def test_refuses_a_hostile_link_on_the_link(
        self, auth_client: APIClient, link: str, code: str
    ) -> None:
        response = auth_client.post(LIST, {"network": "vk", "link": link})

        assert response.status_code == 400
        assert only_error(response)["code"] == code
        assert only_error(response)["attr"] == "link"
        assert not SocialAccount.objects.exists()

    def test_refuses_an_unknown_network(self, auth_client: APIClient) -> None:
        response = auth_client.post(LIST, {"network": "myspace", "link": "https://vk.com/x"})

        assert response.status_code == 400
        assert only_error(response)["code"] == "invalid_choice"
        assert only_error(response)["attr"] == "network"

    def test_refuses_a_link_someone_else_linked(
        self, auth_client: APIClient, now: datetime
    ) -> None:
        social_account_link(
            user=UserFactory.create(), network="vk", link="https://vk.com/durov", now=now
        )

        response = auth_client.post(LIST, {"network": "vk", "link": "https://www.vk.com/durov/"})

        assert response.status_code == 400
        assert only_error(response) == {
            "code": "unique",
            "detail": "This account is already linked.",
            "attr": "link",
        }

    def test_refuses_the_twenty_first(
        self, auth_client: APIClient, user: User, now: datetime
    ) -> None:
        for n in range(MAX_ACCOUNTS_PER_USER):
            social_account_link(user=user, network="x", link=f"https://x.com/u{n}", now=now)

        response = auth_client.post(LIST, {"network": "x", "link": "https://x.com/more"})

        assert response.status_code == 400
        assert only_error(response) == {
            "code": "too_many_accounts",
            "detail": "A user can link at most 20 social accounts.",
            "attr": None,
        }

    def test_errors_are_in_russian_when_asked(self, auth_client: APIClient) -> None:
        response = auth_client.post(
            LIST, {"network": "vk", "link": "https://t.me/x"}, HTTP_ACCEPT_LANGUAGE="ru"
        )

        assert only_error(response)["detail"] == "Эта ссылка не на сайте этой сети."

    def test_needs_a_token(self, api_client: APIClient) -> None:
        assert (
            api_client.post(LIST, {"network": "vk", "link": "https://vk.com/x"}).status_code == 401
        )


class TestSocialAccountList:
    def test_lists_my_accounts_only_unpaginated(
        self, auth_client: APIClient, user: User, now: datetime
    ) -> None:
        for n in range(MAX_ACCOUNTS_PER_USER):
            social_account_link(
                user=user, network="github", link=f"https://github.com/u{n}", now=now
            )
        social_account_link(
            user=UserFactory.create(), network="vk", link="https://vk.com/x", now=now
        )

        response = auth_client.get(LIST)

        assert response.status_code == 200
        body = response.json()
        assert isinstance(body, list) and len(body) == 20
        assert {row["network"] for row in body} == {"github"}

    def test_needs_a_token(self, api_client: APIClient) -> None:
        assert api_client.get(LIST).status_code == 401


@pytest.fixture
def account(user: User, now: datetime) -> SocialAccount:
    return social_account_link(
        user=user, network="ok", link="https://ok.ru/anna", reason="family", now=now
    )


class TestSocialAccountUpdate:
    def test_changes_the_reason_only(self, auth_client: APIClient, account: SocialAccount) -> None:
        response = auth_client.patch(
            f"{LIST}{account.uuid}/", {"reason": "old friends", "link": "https://ok.ru/other"}
        )

        assert response.status_code == 200
        assert response.json()["reason"] == "old friends"
        assert response.json()["link"] == "https://ok.ru/anna"
        account.refresh_from_db()
        assert (account.reason, account.link) == ("old friends", "https://ok.ru/anna")

    def test_a_reason_is_required_to_change_it(
        self, auth_client: APIClient, account: SocialAccount
    ) -> None:
        response = auth_client.patch(f"{LIST}{account.uuid}/", {})

        assert response.status_code == 400
        assert only_error(response)["code"] == "required"
        assert only_error(response)["attr"] == "reason"

    def test_another_users_account_is_not_found(self, account: SocialAccount) -> None:
        stranger = client_for(UserFactory.create())

        response = stranger.patch(f"{LIST}{account.uuid}/", {"reason": "mine now"})

        assert response.status_code == 404
        assert only_error(response)["code"] == "not_found"
        account.refresh_from_db()
        assert account.reason == "family"

    def test_needs_a_token(self, api_client: APIClient, account: SocialAccount) -> None:
        response = api_client.patch(f"{LIST}{account.uuid}/", {"reason": "x"})

        assert response.status_code == 401
        account.refresh_from_db()
        assert account.reason == "family"


class TestSocialAccountUnlink:
    def test_unlinks(self, auth_client: APIClient, account: SocialAccount) -> None:
        response = auth_client.delete(f"{LIST}{account.uuid}/")

        assert response.status_code == 204
        assert not SocialAccount.objects.exists()

    def test_another_users_account_is_not_found(self, account: SocialAccount) -> None:
        stranger = client_for(UserFactory.create())

        response = stranger.delete(f"{LIST}{account.uuid}/")

        assert response.status_code == 404
        assert only_error(response)["code"] == "not_found"
        assert SocialAccount.objects.filter(pk=account.pk).exists()

    def test_an_unknown_uuid_is_not_found(self, auth_client: APIClient) -> None:
        response = auth_client.delete(f"{LIST}{uuid.uuid4()}/")

        assert response.status_code == 404
        assert only_error(response)["code"] == "not_found"

    def test_needs_a_token(self, api_client: APIClient, account: SocialAccount) -> None:
        response = api_client.delete(f"{LIST}{account.uuid}/")

        assert response.status_code == 401
        assert SocialAccount.objects.filter(pk=account.pk).exists()
