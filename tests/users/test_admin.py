from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any, cast

import pytest
from django.contrib import admin
from django.forms import ModelForm
from django.test import Client
from django.urls import reverse
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken
from rest_framework_simplejwt.tokens import RefreshToken

from codes.models import ReferralCode
from tests.users.factories import UserFactory
from users.admin import UserAdmin, UserAdminPasswordChangeForm
from users.models import User

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:users_user_changelist")
CODES_CHANGELIST = reverse("admin:codes_referralcode_changelist")
# Session, admin user, page count, page rows (referrers and referral counts included).
CHANGELIST_MAX_QUERIES = 4

MaxQueries = Callable[[int], AbstractContextManager[Any]]


@pytest.fixture
def referrer() -> User:
    return UserFactory.create(email="referrer@example.com", password="pw-12345678")


@pytest.fixture
def referee(referrer: User) -> User:
    code = ReferralCode.objects.get(owner=referrer, is_active=True)
    return UserFactory.create(
        email="referee@example.com",
        password="pw-12345678",
        phone="+79991234567",
        referral_code=code.code,
    )


def move_behind_the_back(user: User) -> tuple[int, datetime]:
    """Put `user` under another referrer, as a tree change by another request would;
    returns the new (referred_by_id, referred_at)."""
    moved = (UserFactory.create().pk, datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))
    User.objects.filter(pk=user.pk).update(referred_by=moved[0], referred_at=moved[1])
    return moved


def _shown_emails(response: Any) -> set[str]:
    return {user.email for user in response.context["cl"].result_list}


class TestUserChangelist:
    def test_lists_users_with_referrer_link_and_referral_count(
        self, admin_client: Client, referrer: User, referee: User
    ) -> None:
        response = admin_client.get(CHANGELIST)

        assert response.status_code == 200
        body = response.content.decode()
        assert reverse("admin:users_user_change", args=[referrer.pk]) in body
        assert f"?referred_by__id__exact={referrer.pk}" in body

    def test_finds_a_user_by_exact_uuid(
        self, admin_client: Client, referrer: User, referee: User
    ) -> None:
        response = admin_client.get(CHANGELIST, {"q": str(referee.uuid)})

        assert response.status_code == 200
        assert _shown_emails(response) == {"referee@example.com"}

    def test_finds_a_user_by_partial_email(
        self, admin_client: Client, referrer: User, referee: User
    ) -> None:
        response = admin_client.get(CHANGELIST, {"q": "referee@"})

        assert response.status_code == 200
        assert _shown_emails(response) == {"referee@example.com"}

    def test_finds_a_user_by_phone_in_local_notation(
        self, admin_client: Client, referee: User
    ) -> None:
        response = admin_client.get(CHANGELIST, {"q": "8 (999) 123-45-67"})

        assert response.status_code == 200
        assert _shown_emails(response) == {"referee@example.com"}

    @pytest.mark.parametrize(
        "lookup", ["is_active__exact", "is_business_user__exact", "is_staff__exact"]
    )
    @pytest.mark.parametrize("value", ["0", "1"])
    def test_filters(self, admin_client: Client, referee: User, lookup: str, value: str) -> None:
        response = admin_client.get(CHANGELIST, {lookup: value})

        assert response.status_code == 200

    def test_filters_by_referrer(self, admin_client: Client, referrer: User, referee: User) -> None:
        response = admin_client.get(CHANGELIST, {"referred_by__id__exact": referrer.pk})

        assert response.status_code == 200
        assert _shown_emails(response) == {"referee@example.com"}

    def test_sorts_by_referral_count(
        self, admin_client: Client, referrer: User, referee: User
    ) -> None:
        # Sort indexes count the action checkbox column, which the changelist prepends.
        columns = ["action_checkbox", *UserAdmin.list_display]

        response = admin_client.get(CHANGELIST, {"o": f"-{columns.index('referral_count_link')}"})

        assert response.status_code == 200
        assert response.context["cl"].result_list[0] == referrer

    def test_runs_a_bounded_number_of_queries(
        self, admin_client: Client, referrer: User, django_assert_max_num_queries: MaxQueries
    ) -> None:
        code = ReferralCode.objects.get(owner=referrer, is_active=True)
        for number in range(30):
            UserFactory.create(
                email=f"user{number}@example.com", password="pw-12345678", referral_code=code.code
            )

        with django_assert_max_num_queries(CHANGELIST_MAX_QUERIES):
            response = admin_client.get(CHANGELIST)

        assert response.status_code == 200
        assert len(response.context["cl"].result_list) == 32


class TestUserChangePage:
    def test_shows_the_tree_read_only_with_links(
        self, admin_client: Client, referrer: User, referee: User
    ) -> None:
        response = admin_client.get(reverse("admin:users_user_change", args=[referee.pk]))

        assert response.status_code == 200
        form_fields = response.context["adminform"].form.fields
        assert not {
            "referred_by",
            "referred_with_code",
            "referred_at",
            "tree_depth",
            "date_joined",  # the tree's node keeps a copy
        } & set(form_fields)
        assert reverse("admin:users_user_change", args=[referrer.pk]) in response.content.decode()

    def test_opens_the_password_change_page(self, admin_client: Client, referee: User) -> None:
        response = admin_client.get(reverse("admin:auth_user_password_change", args=[referee.pk]))

        assert response.status_code == 200

    def test_saves_a_profile_change(self, admin_client: Client, referee: User) -> None:
        url = reverse("admin:users_user_change", args=[referee.pk])
        form = response_form_data(admin_client.get(url))
        form.update(first_name="Ivan", phone="8 999 765-43-21")

        response = admin_client.post(url, form)

        assert response.status_code == 302
        referee.refresh_from_db()
        assert (referee.first_name, referee.phone) == ("Ivan", "+79997654321")
        assert referee.referred_by is not None  # the tree is untouched

    def test_a_change_writes_only_the_changed_fields(
        self, admin_client: Client, referrer: User, referee: User
    ) -> None:
        """The user is loaded before the save; a subtree move committed in between (an
        ancestor entering an invite code) must survive the admin's save."""
        loaded = User.objects.get(pk=referee.pk)
        moved = move_behind_the_back(referee)
        loaded.first_name = "Ivan"
        request = admin_client.get(CHANGELIST).wsgi_request

        # save_model reads only the bound form's changed_data.
        form = cast("ModelForm[User]", SimpleNamespace(changed_data=["first_name"]))

        UserAdmin(User, admin.site).save_model(request, loaded, form, change=True)

        referee.refresh_from_db()
        assert (referee.first_name, referee.referred_by_id, referee.referred_at) == ("Ivan", *moved)

    def test_a_password_change_writes_only_the_password(self, referee: User) -> None:
        loaded = User.objects.get(pk=referee.pk)
        moved = move_behind_the_back(referee)
        form = UserAdminPasswordChangeForm(
            loaded, {"password1": "An0ther-Secret!", "password2": "An0ther-Secret!"}
        )
        assert form.is_valid(), form.errors

        form.save()

        referee.refresh_from_db()
        assert (referee.referred_by_id, referee.referred_at) == moved
        assert referee.check_password("An0ther-Secret!")

    def test_refuses_an_email_taken_in_another_case(
        self, admin_client: Client, referrer: User, referee: User
    ) -> None:
        url = reverse("admin:users_user_change", args=[referee.pk])
        form = response_form_data(admin_client.get(url))
        form["email"] = "REFERRER@example.com"

        response = admin_client.post(url, form)

        assert response.status_code == 200
        assert response.context["adminform"].form.errors.as_data()["email"][0].code == "unique"

    def test_refuses_to_clear_both_email_and_phone(
        self, admin_client: Client, referee: User
    ) -> None:
        url = reverse("admin:users_user_change", args=[referee.pk])
        form = response_form_data(admin_client.get(url))
        form.update(email="", phone="")

        response = admin_client.post(url, form)

        assert response.status_code == 200
        assert response.context["adminform"].form.non_field_errors().as_data()[0].code == (
            "no_login"
        )
        referee.refresh_from_db()
        assert (referee.email, referee.phone) == ("referee@example.com", "+79991234567")


class TestTokenBlacklistAdmin:
    def test_entries_can_be_seen_but_not_removed_or_forged(
        self, admin_client: Client, referee: User
    ) -> None:
        refresh = RefreshToken.for_user(referee)
        refresh.blacklist()
        entry = BlacklistedToken.objects.get(token__jti=refresh["jti"])

        listed = admin_client.get(reverse("admin:token_blacklist_blacklistedtoken_changelist"))
        delete_page = admin_client.get(
            reverse("admin:token_blacklist_blacklistedtoken_delete", args=[entry.pk])
        )
        bulk_delete = admin_client.post(
            reverse("admin:token_blacklist_blacklistedtoken_changelist"),
            {"action": "delete_selected", "_selected_action": [entry.pk]},
        )
        add_page = admin_client.get(reverse("admin:token_blacklist_blacklistedtoken_add"))

        assert listed.status_code == 200
        assert (delete_page.status_code, add_page.status_code) == (403, 403)
        # No actions at all (ReadOnlyAdminMixin.actions = None): the POST is not taken as
        # one, the changelist is shown again without an action form.
        assert (bulk_delete.status_code, bulk_delete.context["action_form"]) == (200, None)
        assert BlacklistedToken.objects.filter(pk=entry.pk).exists()


class TestUserDeactivation:
    def test_action_deactivates_through_the_service_and_ends_refresh_tokens(
        self, admin_client: Client, referee: User
    ) -> None:
        refresh = RefreshToken.for_user(referee)

        response = admin_client.post(
            CHANGELIST, {"action": "deactivate_selected", "_selected_action": [referee.pk]}
        )

        assert response.status_code == 302
        referee.refresh_from_db()
        assert not referee.is_active
        assert BlacklistedToken.objects.filter(token__jti=refresh["jti"]).exists()

    def test_offers_no_hard_delete(self, admin_client: Client, referee: User) -> None:
        response = admin_client.get(reverse("admin:users_user_delete", args=[referee.pk]))

        assert response.status_code == 403


class TestUserAdd:
    def test_creates_a_user_with_a_referral_code(self, admin_client: Client) -> None:
        response = admin_client.post(
            reverse("admin:users_user_add"),
            {
                "email": "new@EXAMPLE.com",
                "username": "",
                "phone": "",
                "usable_password": "true",
                "password1": "a-long-Passw0rd!",
                "password2": "a-long-Passw0rd!",
            },
        )

        assert response.status_code == 302
        created = User.objects.get(email="new@example.com")
        assert created.username is None
        assert created.check_password("a-long-Passw0rd!")
        assert ReferralCode.objects.filter(owner=created, is_active=True).exists()

    def test_refuses_a_user_without_email_or_phone(self, admin_client: Client) -> None:
        response = admin_client.post(
            reverse("admin:users_user_add"),
            {"email": "", "username": "nobody", "phone": "", "usable_password": "false"},
        )

        assert response.status_code == 200
        assert response.context["adminform"].form.non_field_errors()
        assert not User.objects.filter(username="nobody").exists()


class TestCodesAdmin:
    def test_lists_and_searches_codes(self, admin_client: Client, referrer: User) -> None:
        code = ReferralCode.objects.get(owner=referrer, is_active=True)

        responses = [
            admin_client.get(CODES_CHANGELIST),
            admin_client.get(CODES_CHANGELIST, {"q": code.code.lower()}),
            admin_client.get(CODES_CHANGELIST, {"q": "referrer@"}),
            admin_client.get(CODES_CHANGELIST, {"is_active__exact": "1"}),
            admin_client.get(CODES_CHANGELIST, {"deleted": "yes"}),
            admin_client.get(CODES_CHANGELIST, {"deleted": "no"}),
        ]

        assert [response.status_code for response in responses] == [200] * 6
        assert list(responses[1].context["cl"].result_list) == [code]

    def test_changelist_runs_a_bounded_number_of_queries(
        self, admin_client: Client, django_assert_max_num_queries: MaxQueries
    ) -> None:
        for number in range(30):
            UserFactory.create(email=f"owner{number}@example.com", password="pw-12345678")

        with django_assert_max_num_queries(CHANGELIST_MAX_QUERIES):
            response = admin_client.get(CODES_CHANGELIST)

        assert response.status_code == 200
        # The 30 owners' codes: the superuser, built by the manager, has none.
        assert len(response.context["cl"].result_list) == 30

    def test_change_page_keeps_the_code_read_only(
        self, admin_client: Client, referrer: User
    ) -> None:
        code = ReferralCode.objects.get(owner=referrer, is_active=True)

        response = admin_client.get(reverse("admin:codes_referralcode_change", args=[code.pk]))

        assert response.status_code == 200
        assert "code" not in response.context["adminform"].form.fields
        assert "owner" not in response.context["adminform"].form.fields

    def test_adding_a_code_deactivates_the_previous_one(
        self, admin_client: Client, referrer: User
    ) -> None:
        previous = ReferralCode.objects.get(owner=referrer, is_active=True)

        response = admin_client.post(
            reverse("admin:codes_referralcode_add"),
            {"owner": referrer.pk, "code": "admin-made", "expires_at_0": "", "max_uses": ""},
        )

        assert response.status_code == 302
        previous.refresh_from_db()
        assert not previous.is_active
        assert ReferralCode.objects.get(owner=referrer, is_active=True).code == "ADMIN-MADE"

    def test_reactivating_a_code_deactivates_the_current_one(
        self, admin_client: Client, referrer: User
    ) -> None:
        old = ReferralCode.objects.get(owner=referrer, is_active=True)
        admin_client.post(
            reverse("admin:codes_referralcode_add"),
            {"owner": referrer.pk, "code": "", "max_uses": ""},
        )
        url = reverse("admin:codes_referralcode_change", args=[old.pk])
        form = response_form_data(admin_client.get(url))
        form["is_active"] = "on"

        response = admin_client.post(url, form)

        assert response.status_code == 302
        assert list(ReferralCode.objects.filter(owner=referrer, is_active=True)) == [old]


def response_form_data(response: Any) -> dict[str, Any]:
    """The POST body a browser would send for the change form in `response`."""
    form = response.context["adminform"].form
    data: dict[str, Any] = {}
    for name, bound in ((name, form[name]) for name in form.fields):
        value = bound.value()
        widget_data = bound.field.widget.format_value(value) if value is not None else ""
        if isinstance(value, bool):
            if value:
                data[name] = "on"
            continue
        if isinstance(value, list):
            data[name] = [str(item) for item in value]
            continue
        if hasattr(bound.field.widget, "widgets"):  # split date/time
            for index, part in enumerate(bound.field.widget.decompress(value)):
                data[f"{name}_{index}"] = "" if part is None else str(part)
            continue
        data[name] = widget_data if widget_data is not None else ""
    return data
