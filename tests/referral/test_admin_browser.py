"""The dashboard and a user's downline in a real browser (Debian's headless chromium): a
member of staff signs in to the admin, reads the dashboard, opens a user's page and
expands a node of the tree.

Run by hand with a folder, the same test takes the pictures of the README and docs/:

    ADMIN_SCREENSHOTS=docs .venv/bin/pytest tests/referral/test_admin_browser.py
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from codes.models import ReferralCode
from tests.browser import RecordingPage
from tests.helpers import code_of
from tests.users.factories import UserFactory
from users.models import User

STAFF_EMAIL, STAFF_PASSWORD = "staff@example.com", "a-staff-password-1"
NAMES = ("anna", "boris", "carol", "dmitry", "elena", "fedor", "galina", "igor", "kira")


@dataclass
class Programme:
    root: User
    first: User  # root's first referral, with referrals of their own


@pytest.fixture
def programme(transactional_db: None) -> Programme:
    """root ─┬─ anna ─┬─ dmitry      and 18 more sign-ups over the last weeks, a third of
    │        └─ elena       them by phone, the odd ones invited by boris (5) and
    ├─ boris (5 more)       carol (4); share-link clicks on two codes.
    └─ carol (4 more)"""
    now = timezone.now()
    root = UserFactory.create(email="root@example.com", now=now - timedelta(days=29))
    first, *others = (
        UserFactory.create(
            email=f"{name}@example.com",
            referral_code=code_of(root),
            now=now - timedelta(days=28 - index),
        )
        for index, name in enumerate(NAMES[:3])
    )
    for index, name in enumerate(NAMES[3:5]):
        UserFactory.create(
            email=f"{name}@example.com",
            referral_code=code_of(first),
            now=now - timedelta(days=20 - index),
        )
    for day in range(18):
        UserFactory.create(
            email=None if day % 3 == 0 else f"user{day}@example.com",
            phone=f"+7999000{day:04d}" if day % 3 == 0 else None,
            referral_code=code_of(others[(day // 2) % 2]) if day % 2 else None,
            now=now - timedelta(days=17 - day, hours=day % 5),
        )
    ReferralCode.objects.filter(owner=root).update(clicks=7)
    ReferralCode.objects.filter(owner=first).update(clicks=5)
    User.objects.create_superuser(email=STAFF_EMAIL, password=STAFF_PASSWORD)
    return Programme(root=root, first=first)


def _picture(page: Any, name: str, selector: str, *, height: int | None = None) -> None:
    """A PNG of `selector` (its top `height` pixels) into ADMIN_SCREENSHOTS, when set."""
    folder = os.environ.get("ADMIN_SCREENSHOTS")
    if not folder:
        return
    Path(folder).mkdir(parents=True, exist_ok=True)
    path = str(Path(folder) / name)
    if height is None:
        page.locator(selector).screenshot(path=path)
        return
    page.evaluate("window.scrollTo(0, 0)")  # the box is then in the page's coordinates
    box = page.locator(selector).bounding_box()
    page.screenshot(path=path, clip={**box, "height": min(box["height"], height)}, full_page=True)


def test_staff_read_the_dashboard_and_open_a_downline(
    browser_page: RecordingPage, live_server: Any, programme: Programme
) -> None:
    page = browser_page.page
    page.set_viewport_size({"width": 1100, "height": 900})

    page.goto(live_server.url + reverse("admin:login"))
    page.fill("input[name=username]", STAFF_EMAIL)
    page.fill("input[name=password]", STAFF_PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#content-main")
    page.click(f"a[href='{reverse('admin:referral_dashboard')}']")

    page.wait_for_selector("#chart-signups svg")
    direct = page.locator("#chart-top-direct tbody tr")
    assert direct.first.inner_text().split("\t") == ["boris@example.com", "5"]
    downline = page.locator("#chart-top-downline tbody tr")
    assert downline.first.inner_text().split("\t") == ["root@example.com", "14"]
    assert page.locator("#chart-signups tbody tr").count() == 30
    assert page.locator("section.dashboard-chart svg").count() == 8
    _picture(page, "admin-dashboard.png", "#content-main", height=1350)

    downline.first.locator("a").click()
    page.wait_for_selector(".referral-tree .referral-node")
    nodes = page.locator(".referral-tree > ul > li.referral-node")
    assert nodes.count() == 3
    first = nodes.first
    assert first.locator(".referral-label").inner_text() == "anna@example.com"
    assert first.locator(".referral-counts").inner_text() == "direct 2 · downline 2"

    first.locator("button.referral-toggle").click()
    children = first.locator("ul > li.referral-node")
    children.first.wait_for()
    assert children.count() == 2
    assert [children.nth(index).locator(".referral-label").inner_text() for index in (0, 1)] == [
        "dmitry@example.com",
        "elena@example.com",
    ]
    assert page.locator(".referral-stat-total").inner_text() == "14"
    _picture(page, "admin-downline.png", ".referral-tree-panel")

    children.first.locator(".referral-label").click()
    page.wait_for_selector(".referral-upline")
    assert page.locator(".referral-upline").inner_text() == (
        "root@example.com › anna@example.com › dmitry@example.com"
    )

    # The pages load nothing from another host.
    assert all(url.startswith(live_server.url) for url in browser_page.requests)
