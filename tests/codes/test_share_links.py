"""Share links (`/r/<code>/`): where they send a visitor, and which visits count."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from pytest_django import Settings
from rest_framework.test import APIClient

from codes.models import ReferralClick, ReferralCode
from codes.services import code_delete, code_issue
from common.network import user_agent_hash
from tests.codes.helpers import active_code
from tests.users.factories import UserFactory
from users.models import User

pytestmark = pytest.mark.django_db

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36"


def visit(client: Client, code: str, **environ: Any) -> str:
    """Follow `code`'s share link as a browser; `environ` adds WSGI keys (REMOTE_ADDR, …)."""
    response = client.get(f"/r/{code}/", HTTP_USER_AGENT=BROWSER, **environ)
    assert response.status_code == 302
    return response["Location"]


class TestShareLinkRedirect:
    def test_a_usable_code_lands_with_its_code(self, client: Client, user: User) -> None:
        code = active_code(user).code

        assert visit(client, code.lower()) == f"/invite/?ref={code}"

    @pytest.mark.parametrize("state", ["expired", "deleted", "owner_inactive", "unknown"])
    def test_an_unusable_code_lands_without_one(
        self, client: Client, user: User, state: str, now: datetime
    ) -> None:
        code = active_code(user)
        if state == "expired":
            ReferralCode.objects.filter(pk=code.pk).update(expires_at=now - timedelta(seconds=1))
        elif state == "deleted":
            code_delete(code=code, now=now)
        elif state == "owner_inactive":
            User.objects.filter(pk=user.pk).update(is_active=False)
        value = "NOSUCHCODE" if state == "unknown" else code.code

        assert visit(client, value) == "/invite/"

    def test_lands_on_the_configured_page_keeping_its_query(
        self, client: Client, user: User, settings: Settings
    ) -> None:
        settings.REFERRAL_LANDING_URL = "https://shop.example/join?lang=ru&ref=OLD#form"
        code = active_code(user).code

        assert visit(client, code) == f"https://shop.example/join?lang=ru&ref={code}#form"

    def test_is_the_share_url_of_the_code(self, auth_client: APIClient, user: User) -> None:
        listed = auth_client.get("/api/codes/").json()["results"][0]

        assert listed["share_url"] == f"http://127.0.0.1:8000/r/{active_code(user).code}/"

    def test_is_throttled_per_address(self, client: Client, user: User, settings: Settings) -> None:
        settings.REST_FRAMEWORK = {
            **settings.REST_FRAMEWORK,
            "DEFAULT_THROTTLE_RATES": {
                **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
                "code_lookup": "2/min",
            },
        }
        code = active_code(user).code

        statuses = [client.get(f"/r/{code}/").status_code for _ in range(3)]

        assert statuses == [302, 302, 429]


class TestShareLinkClicks:
    def test_a_visit_counts_with_the_network_and_a_hash_of_the_agent(
        self, client: Client, user: User
    ) -> None:
        code = active_code(user)

        visit(client, code.code, REMOTE_ADDR="203.0.113.77")

        (click,) = ReferralClick.objects.all()
        assert (click.code_id, click.network) == (code.pk, "203.0.113.0/24")
        assert click.user_agent_hash == user_agent_hash(BROWSER) != BROWSER
        code.refresh_from_db()
        assert code.clicks == 1

    def test_a_burst_from_one_network_counts_once_a_minute(
        self, client: Client, user: User
    ) -> None:
        code = active_code(user)

        visit(client, code.code, REMOTE_ADDR="203.0.113.7")
        visit(client, code.code, REMOTE_ADDR="203.0.113.8")
        visit(client, code.code, REMOTE_ADDR="198.51.100.1")
        cache.delete(f"codes:click:{code.pk}:203.0.113.0/24")  # the minute is over
        visit(client, code.code, REMOTE_ADDR="203.0.113.9")

        code.refresh_from_db()
        assert code.clicks == 3
        assert sorted(ReferralClick.objects.values_list("network", flat=True)) == [
            "198.51.100.0/24",
            "203.0.113.0/24",
            "203.0.113.0/24",
        ]

    def test_head_requests_and_crawlers_do_not_count(self, client: Client, user: User) -> None:
        code = active_code(user).code

        head = client.head(f"/r/{code}/", HTTP_USER_AGENT=BROWSER)
        bot = client.get(f"/r/{code}/", HTTP_USER_AGENT="TelegramBot (like TwitterBot)")

        assert (head.status_code, bot.status_code) == (302, 302)
        assert not ReferralClick.objects.exists()

    def test_a_click_of_an_unusable_code_still_counts(
        self, client: Client, user: User, now: datetime
    ) -> None:
        old = active_code(user)
        code_issue(owner=user, now=now)  # the old code is deactivated

        assert visit(client, old.code) == "/invite/"

        old.refresh_from_db()
        assert old.clicks == 1

    def test_an_unknown_code_records_nothing(self, client: Client) -> None:
        visit(client, "NOSUCHCODE")

        assert not ReferralClick.objects.exists()

    def test_the_client_address_is_taken_behind_the_trusted_proxies(
        self, client: Client, user: User, settings: Settings
    ) -> None:
        settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}

        visit(
            client,
            active_code(user).code,
            REMOTE_ADDR="10.0.0.2",
            HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.23",
        )

        assert ReferralClick.objects.get().network == "198.51.100.0/24"

    def test_clicks_show_beside_uses(
        self, auth_client: APIClient, client: Client, user: User
    ) -> None:
        code = active_code(user).code
        UserFactory.create(referral_code=code)
        visit(client, code)

        listed = auth_client.get("/api/codes/").json()["results"][0]

        assert (listed["uses"], listed["clicks"]) == (1, 1)


class TestInviteLanding:
    def test_shows_the_invite_code(self, client: Client) -> None:
        response = client.get("/invite/?ref=ab12cd34")

        assert response.status_code == 200
        assert '<p class="code" id="invite-code">AB12CD34</p>' in response.content.decode()

    def test_shows_no_text_that_cannot_be_a_code(self, client: Client) -> None:
        response = client.get("/invite/?ref=Call+us+at+555")

        assert response.status_code == 200
        assert "555" not in response.content.decode()
        assert 'id="invite-code"' not in response.content.decode()

    def test_speaks_russian_when_asked(self, client: Client) -> None:
        response = client.get("/invite/?ref=AB12CD34", HTTP_ACCEPT_LANGUAGE="ru")

        assert 'lang="ru"' in response.content.decode()
        assert "Вы приглашены" in response.content.decode()
