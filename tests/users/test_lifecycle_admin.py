"""Restoring and erasing in the Django admin: list actions with a confirmation page,
through the same services as the staff API."""

from __future__ import annotations

from datetime import datetime

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from social.services import social_account_link
from tests.helpers import invite
from tests.users.factories import UserFactory
from users.models import User
from users.services.accounts import user_deactivate
from users.services.lifecycle import user_erase

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:users_user_changelist")


def act(client: Client, action: str, users: list[User], *, confirm: bool) -> object:
    data: dict[str, object] = {"action": action, "_selected_action": [u.pk for u in users]}
    if confirm:
        data["post"] = "yes"
    return client.post(CHANGELIST, data)


class TestEraseAction:
    def test_asks_for_confirmation_first_and_changes_nothing(self, admin_client: Client) -> None:
        referrer = UserFactory.create(email="referrer@example.com")
        user = invite(referrer, email="anna@example.com")
        invite(user)
        invite(user)

        response = act(admin_client, "erase_selected", [user], confirm=False)

        assert response.status_code == 200  # type: ignore[attr-defined]
        page = response.content.decode()  # type: ignore[attr-defined]
        assert "anna@example.com: 2 direct referrals move to referrer@example.com" in page
        assert 'name="post" value="yes"' in page
        assert not User.objects.get(pk=user.pk).is_erased

    def test_erases_once_confirmed(self, admin_client: Client) -> None:
        referrer = UserFactory.create()
        user = invite(referrer)
        referral = invite(user)

        response = act(admin_client, "erase_selected", [user], confirm=True)

        assert response.status_code == 302  # type: ignore[attr-defined]
        assert User.objects.get(pk=user.pk).is_erased
        assert User.objects.get(pk=referral.pk).referred_by == referrer
        messages = [str(m) for m in response.wsgi_request._messages]  # type: ignore[attr-defined]
        assert messages == ["Erased 1 users."]

    def test_a_root_s_confirmation_says_its_referrals_become_roots(
        self, admin_client: Client
    ) -> None:
        root = UserFactory.create(email="root-user@example.com")
        invite(root)

        response = act(admin_client, "erase_selected", [root], confirm=False)

        assert "root-user@example.com: 1 direct referrals become roots" in response.content.decode()  # type: ignore[attr-defined]

    def test_needs_the_permission_to_delete_users(self, client: Client) -> None:
        staff = UserFactory.create(is_staff=True)
        staff.user_permissions.add(
            Permission.objects.get(codename="view_user"),
            Permission.objects.get(codename="change_user"),
        )
        client.force_login(staff)
        user = UserFactory.create()

        act(client, "erase_selected", [user], confirm=True)

        assert not User.objects.get(pk=user.pk).is_erased

    def test_an_erased_user_s_page_is_read_only(self, admin_client: Client, now: datetime) -> None:
        user = UserFactory.create()
        social_account_link(user=user, network="vk", link="https://vk.com/anna", now=now)
        user_erase(user=user, now=now)
        url = reverse("admin:users_user_change", args=[user.pk])

        page = admin_client.get(url)
        posted = admin_client.post(url, {"email": "back@example.com"})

        assert page.status_code == 200
        assert page.context["has_change_permission"] is False
        assert posted.status_code == 403
        assert User.objects.get(pk=user.pk).email is None


class TestRestoreAction:
    def test_asks_for_confirmation_first(self, admin_client: Client) -> None:
        user = UserFactory.create(email="anna@example.com")
        user_deactivate(user=user)

        response = act(admin_client, "restore_selected", [user], confirm=False)

        assert response.status_code == 200  # type: ignore[attr-defined]
        assert "anna@example.com" in response.content.decode()  # type: ignore[attr-defined]
        assert not User.objects.get(pk=user.pk).is_active

    def test_restores_once_confirmed_leaving_out_active_and_erased_users(
        self, admin_client: Client, now: datetime
    ) -> None:
        deactivated, active, erased = (UserFactory.create() for _ in range(3))
        user_deactivate(user=deactivated)
        user_erase(user=erased, now=now)

        response = act(
            admin_client, "restore_selected", [deactivated, active, erased], confirm=True
        )

        assert response.status_code == 302  # type: ignore[attr-defined]
        assert User.objects.get(pk=deactivated.pk).is_active
        assert not User.objects.get(pk=erased.pk).is_active
        messages = [str(m) for m in response.wsgi_request._messages]  # type: ignore[attr-defined]
        assert messages == ["Restored 1 users."]

    def test_with_nothing_to_restore_the_page_says_so(self, admin_client: Client) -> None:
        response = act(admin_client, "restore_selected", [UserFactory.create()], confirm=False)

        assert "None of the selected users can take this action." in response.content.decode()  # type: ignore[attr-defined]


class TestSocialAccountsOnTheUserPage:
    def test_the_user_page_lists_them(
        self, admin_client: Client, user: User, now: datetime
    ) -> None:
        social_account_link(user=user, network="github", link="https://github.com/anna", now=now)

        page = admin_client.get(reverse("admin:users_user_change", args=[user.pk]))

        assert "https://github.com/anna" in page.content.decode()

    def test_the_change_form_still_saves_without_the_inline(
        self, admin_client: Client, user: User, now: datetime
    ) -> None:
        social_account_link(user=user, network="github", link="https://github.com/anna", now=now)
        url = reverse("admin:users_user_change", args=[user.pk])
        form = admin_client.get(url).context["adminform"].form
        data = {
            k: v
            for k, v in form.initial.items()
            if v is not None and k not in ("groups", "user_permissions")
        }
        data.update(
            first_name="Anna",
            is_active="on",
            date_joined_0=str(user.date_joined.date()),
            date_joined_1=user.date_joined.strftime("%H:%M:%S"),
        )

        response = admin_client.post(url, data)

        assert response.status_code == 302, response.context["adminform"].form.errors
        assert User.objects.get(pk=user.pk).first_name == "Anna"
