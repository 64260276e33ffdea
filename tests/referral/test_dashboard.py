"""The staff dashboard: each figure on a small forest with known answers, and the admin
page that shows them (rendered through the admin, its tables and CSV checked)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from codes.models import ReferralCode
from codes.services import code_refusal_count
from referral.dashboard import (
    REFUSAL_REASONS,
    _utc_midnight,
    dashboard_conversion,
    dashboard_forest,
    dashboard_refusals,
    dashboard_signups,
    dashboard_top_direct,
    dashboard_top_downline,
)
from tests.helpers import code_of
from tests.users.factories import UserFactory
from users.models import User
from users.services.lifecycle import user_erase

pytestmark = pytest.mark.django_db

DASHBOARD = reverse("admin:referral_dashboard")


@dataclass
class Forest:
    """anna ─┬─ boris ── carol (phone only)
             └─ dmitry
    elena (no referrer), fedor (no referrer, 40 days ago)."""

    today: datetime
    anna: User
    boris: User
    carol: User
    dmitry: User
    elena: User
    fedor: User


@pytest.fixture
def forest() -> Forest:
    today = _utc_midnight(timezone.now())
    two_days_ago, yesterday = today - timedelta(days=2), today - timedelta(hours=12)
    anna = UserFactory.create(email="anna@example.com", now=two_days_ago + timedelta(hours=1))
    boris = UserFactory.create(
        email="boris@example.com",
        referral_code=code_of(anna),
        now=two_days_ago + timedelta(hours=2),
    )
    carol = UserFactory.create(
        email=None, phone="+79990000001", referral_code=code_of(boris), now=yesterday
    )
    dmitry = UserFactory.create(
        email="dmitry@example.com", referral_code=code_of(anna), now=today + timedelta(seconds=1)
    )
    elena = UserFactory.create(email="elena@example.com", now=today + timedelta(seconds=2))
    fedor = UserFactory.create(email="fedor@example.com", now=today - timedelta(days=40))
    return Forest(today, anna, boris, carol, dmitry, elena, fedor)


class TestDashboardSignups:
    def test_counts_each_day_of_the_window_by_referral_and_channel(self, forest: Forest) -> None:
        days = dashboard_signups(days=30, now=forest.today + timedelta(hours=6))

        assert len(days) == 30
        assert days[-1].day == forest.today.date()
        by_day = {day.day: (day.total, day.referred, day.email, day.phone) for day in days}
        assert by_day[(forest.today - timedelta(days=2)).date()] == (2, 1, 2, 0)
        assert by_day[(forest.today - timedelta(days=1)).date()] == (1, 1, 0, 1)
        assert by_day[forest.today.date()] == (2, 1, 2, 0)
        assert sum(day.total for day in days) == 5  # fedor joined before the window

    def test_a_longer_window_reaches_older_sign_ups(self, forest: Forest) -> None:
        days = dashboard_signups(days=90, now=forest.today)

        assert sum(day.total for day in days) == 6
        assert days[-41].day == (forest.today - timedelta(days=40)).date()
        assert days[-41].total == 1

    def test_share_by_referral_is_none_on_a_day_without_sign_ups(self, forest: Forest) -> None:
        days = dashboard_signups(days=30, now=forest.today)

        assert days[0].referred_share is None
        assert days[-1].referred_share == 0.5


class TestDashboardForest:
    def test_counts_users_roots_levels_and_the_deepest_chain(self, forest: Forest) -> None:
        overview = dashboard_forest()

        assert (overview.users, overview.roots, overview.deepest) == (6, 3, 2)
        assert overview.levels == [(0, 3), (1, 2), (2, 1)]

    def test_leaves_erased_accounts_out(self, forest: Forest, now: datetime) -> None:
        user_erase(user=forest.elena, now=now)

        overview = dashboard_forest()

        assert (overview.users, overview.roots) == (5, 2)
        assert overview.levels == [(0, 2), (1, 2), (2, 1)]

    def test_an_empty_forest_has_no_levels(self) -> None:
        overview = dashboard_forest()

        assert (overview.users, overview.roots, overview.deepest, overview.levels) == (0, 0, 0, [])


class TestDashboardTopReferrers:
    def test_ranks_by_direct_referrals(self, forest: Forest) -> None:
        top = dashboard_top_direct()

        assert [(row.user_id, row.label, row.count) for row in top] == [
            (forest.anna.pk, "anna@example.com", 2),
            (forest.boris.pk, "boris@example.com", 1),
        ]

    def test_ranks_by_whole_downline(self, forest: Forest) -> None:
        top = dashboard_top_downline()

        assert [(row.user_id, row.count) for row in top] == [
            (forest.anna.pk, 3),
            (forest.boris.pk, 1),
        ]

    def test_the_downline_search_goes_below_the_largest_trees_first_level(self) -> None:
        # root ── a ─┬─ b ── (3 leaves)      other_root ── (2 leaves)
        #            └─ leaf
        root = UserFactory.create()
        a = UserFactory.create(referral_code=code_of(root))
        b = UserFactory.create(referral_code=code_of(a))
        UserFactory.create(referral_code=code_of(a))
        for _ in range(3):
            UserFactory.create(referral_code=code_of(b))
        other_root = UserFactory.create()
        for _ in range(2):
            UserFactory.create(referral_code=code_of(other_root))

        top = dashboard_top_downline(limit=3)

        assert [(row.user_id, row.count) for row in top] == [(root.pk, 6), (a.pk, 5), (b.pk, 3)]

    def test_a_shorter_list_stops_at_its_limit(self, forest: Forest) -> None:
        assert [row.user_id for row in dashboard_top_downline(limit=1)] == [forest.anna.pk]
        assert [row.user_id for row in dashboard_top_direct(limit=1)] == [forest.anna.pk]


class TestDashboardRefusals:
    def test_adds_up_the_days_of_the_window_by_reason(self, now: datetime) -> None:
        code_refusal_count(reason="invalid", now=now)
        code_refusal_count(reason="invalid", now=now - timedelta(days=3))
        code_refusal_count(reason="too_deep", now=now)
        code_refusal_count(reason="own_code", now=now)
        code_refusal_count(reason="expired", now=now - timedelta(days=31))

        refusals = dict(dashboard_refusals(days=30, now=now))

        assert refusals == {
            "invalid": 2,
            "expired": 0,
            "used_up": 0,
            "cycle": 0,
            "too_deep": 1,
            "own_code": 1,
        }
        assert [reason for reason, _count in dashboard_refusals(days=30, now=now)][:5] == list(
            REFUSAL_REASONS
        )


class TestDashboardConversion:
    def test_relates_clicks_to_sign_ups_per_code_and_per_referrer(self, forest: Forest) -> None:
        ReferralCode.objects.filter(owner=forest.anna).update(clicks=4)
        ReferralCode.objects.filter(owner=forest.boris).update(clicks=2)

        figures = dashboard_conversion()

        assert (figures.clicks, figures.uses, figures.rate) == (6, 3, 0.5)
        assert [(row.label, row.clicks, row.uses, row.rate) for row in figures.codes] == [
            (code_of(forest.anna), 4, 2, 0.5),
            (code_of(forest.boris), 2, 1, 0.5),
        ]
        assert [(row.user_id, row.clicks, row.uses) for row in figures.referrers] == [
            (forest.anna.pk, 4, 2),
            (forest.boris.pk, 2, 1),
        ]

    def test_a_referrers_codes_add_up(self, forest: Forest) -> None:
        ReferralCode.objects.filter(owner=forest.anna).update(clicks=4)
        newer = ReferralCode.objects.create(owner=forest.anna, code="ANNA2", is_active=False)
        ReferralCode.objects.filter(pk=newer.pk).update(clicks=6, uses=1)

        figures = dashboard_conversion()

        assert [(row.user_id, row.clicks, row.uses) for row in figures.referrers] == [
            (forest.anna.pk, 10, 3)
        ]


class TestDashboardCache:
    def test_a_figure_is_served_from_the_cache_within_the_minute(self, forest: Forest) -> None:
        assert dashboard_forest().users == 6
        UserFactory.create()

        assert dashboard_forest().users == 6


def chart(response: object, slug: str) -> list[list[object]]:
    """The table under one chart of the rendered page: its cells, row by row."""
    charts = response.context["charts"]  # type: ignore[attr-defined]
    found = next(chart for chart in charts if chart.slug == slug)
    return [[cell for cell, _link in row] for row in found.rows]


class TestDashboardPage:
    def test_shows_each_figure_in_a_table_under_its_chart(
        self, admin_client: Client, forest: Forest
    ) -> None:
        response = admin_client.get(DASHBOARD, {"days": 30})

        assert response.status_code == 200
        page = response.content.decode()
        charts = response.context["charts"]
        assert page.count('class="dashboard-chart"') == len(charts) == 8
        for drawn in charts:  # drawn here, and nothing for the browser to fetch or run
            assert drawn.svg.startswith("<svg") and drawn.svg in page
            assert "<script" not in drawn.svg and "//kozea" not in drawn.svg
        signups = chart(response, "signups")
        assert len(signups) == 30
        today = f"{forest.today:%Y-%m-%d}"
        # The superuser signed in counts as a sign-up of today, by neither channel.
        assert signups[-1] == [today, 3, 1, "33.3%", 2, 0]
        ranked = [["anna@example.com", 2], ["boris@example.com", 1]]
        assert chart(response, "top-direct") == ranked
        assert chart(response, "top-downline") == [["anna@example.com", 3], ranked[1]]
        assert chart(response, "levels") == [[0, 4], [1, 2], [2, 1]]
        assert ["invalid", 0] in chart(response, "refusals")
        assert reverse("admin:users_user_change", args=[forest.anna.pk]) in page

    def test_a_window_of_365_days_has_365_rows(self, admin_client: Client, forest: Forest) -> None:
        response = admin_client.get(DASHBOARD, {"days": 365})

        assert len(chart(response, "signups")) == 365

    def test_an_unknown_window_falls_back_to_30_days(self, admin_client: Client) -> None:
        response = admin_client.get(DASHBOARD, {"days": "7"})

        assert response.context["days"] == 30

    def test_downloads_a_charts_numbers_as_csv(self, admin_client: Client, forest: Forest) -> None:
        response = admin_client.get(DASHBOARD, {"days": "30", "csv": "top-downline"})

        assert response["Content-Type"].startswith("text/csv")
        rows = list(csv.reader(io.StringIO(response.content.decode())))
        assert rows == [
            ["user", "downline"],
            ["anna@example.com", "3"],
            ["boris@example.com", "1"],
        ]

    def test_an_unknown_csv_is_not_found(self, admin_client: Client) -> None:
        assert admin_client.get(DASHBOARD, {"csv": "nothing"}).status_code == 404

    def test_is_linked_from_the_admin_index(self, admin_client: Client) -> None:
        response = admin_client.get(reverse("admin:index"))

        assert f'href="{DASHBOARD}"' in response.content.decode()

    def test_sends_anyone_not_signed_in_as_staff_to_the_login(self, client: Client) -> None:
        response = client.get(DASHBOARD)

        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))

    def test_refuses_staff_who_may_not_view_users(self, client: Client) -> None:
        staff = User.objects.create_user(email="staff@example.com", is_staff=True)
        client.force_login(staff)

        assert client.get(DASHBOARD).status_code == 403
        assert f'href="{DASHBOARD}"' not in client.get(reverse("admin:index")).content.decode()

    def test_serves_staff_who_may_view_users(self, client: Client) -> None:
        staff = User.objects.create_user(email="staff@example.com", is_staff=True)
        staff.user_permissions.add(Permission.objects.get(codename="view_user"))
        client.force_login(staff)

        assert client.get(DASHBOARD).status_code == 200
