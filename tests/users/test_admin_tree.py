"""A user's place in the tree on their admin page: the upline, the stats, the downline
opened a page of referrals at a time, and the whole downline as a streamed CSV."""

from __future__ import annotations

import csv
import io
import tracemalloc
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from referral import selectors
from referral.models import TreeNode, to_base36
from referral.selectors import referral_children, referral_downline_export
from tests.helpers import code_of
from tests.users.factories import UserFactory
from users import admin as users_admin
from users.models import User

pytestmark = pytest.mark.django_db


@dataclass
class Tree:
    """root ── anna ─┬─ boris ── carol
    ├─ dmitry
    └─ elena"""

    root: User
    anna: User
    boris: User
    carol: User
    dmitry: User
    elena: User


@pytest.fixture
def tree() -> Tree:
    start = timezone.now() - timedelta(days=1)
    users: dict[str, User] = {}
    for offset, (name, referrer) in enumerate(
        [
            ("root", None),
            ("anna", "root"),
            ("boris", "anna"),
            ("carol", "boris"),
            ("dmitry", "anna"),
            ("elena", "anna"),
        ]
    ):
        users[name] = UserFactory.create(
            email=f"{name}@example.com",
            referral_code=code_of(users[referrer]) if referrer else None,
            now=start + timedelta(minutes=offset),
        )
    return Tree(**users)


def children_url(user: User) -> str:
    return reverse("admin:users_user_referrals_json", args=[user.pk])


class TestReferralChildren:
    def test_gives_each_referral_its_direct_and_total_counts(self, tree: Tree) -> None:
        nodes, count = referral_children(user=tree.anna, offset=0, limit=10)

        assert count == 3
        assert [(node.label, node.direct, node.total) for node in nodes] == [
            ("boris@example.com", 1, 1),
            ("dmitry@example.com", 0, 0),
            ("elena@example.com", 0, 0),
        ]

    def test_pages_through_the_referrals_oldest_first(self, tree: Tree) -> None:
        nodes, count = referral_children(user=tree.anna, offset=1, limit=1)

        assert count == 3
        assert [node.id for node in nodes] == [tree.dmitry.pk]

    def test_counts_a_whole_subtree_as_the_total(self, tree: Tree) -> None:
        nodes, _count = referral_children(user=tree.root, offset=0, limit=10)

        assert [(node.id, node.direct, node.total) for node in nodes] == [(tree.anna.pk, 3, 4)]


class TestUserChangePageTree:
    def test_shows_the_upline_to_the_root_and_the_stats(
        self, admin_client: Client, tree: Tree
    ) -> None:
        response = admin_client.get(reverse("admin:users_user_change", args=[tree.boris.pk]))

        page = response.content.decode()
        upline = page.split('class="referral-upline"', 1)[1].split("</nav>", 1)[0]
        assert upline.index("root@example.com") < upline.index("anna@example.com")
        assert reverse("admin:users_user_change", args=[tree.root.pk]) in upline
        assert "<strong>boris@example.com</strong>" in upline
        assert 'class="referral-stat-direct">1<' in page
        assert 'class="referral-stat-total">1<' in page
        assert f'data-url="{children_url(tree.boris)}"' in page

    def test_shows_the_same_stats_as_the_api(self, admin_client: Client, tree: Tree) -> None:
        response = admin_client.get(reverse("admin:users_user_change", args=[tree.root.pk]))

        page = response.content.decode()
        assert 'class="referral-stat-direct">1<' in page
        assert 'class="referral-stat-total">5<' in page
        assert 'class="referral-stat-depth">3<' in page
        assert page.count('class="referral-stat-level"') == 3
        assert "(a root: no referrer)" in page

    def test_a_user_without_referrals_gets_no_tree(self, admin_client: Client, tree: Tree) -> None:
        response = admin_client.get(reverse("admin:users_user_change", args=[tree.carol.pk]))

        assert 'class="referral-tree"' not in response.content.decode()


class TestReferralsJson:
    def test_answers_one_page_of_a_nodes_referrals(self, admin_client: Client, tree: Tree) -> None:
        response = admin_client.get(children_url(tree.anna))

        body = response.json()
        assert body["count"] == 3 and body["next"] is None
        assert [(node["label"], node["direct"], node["total"]) for node in body["nodes"]] == [
            ("boris@example.com", 1, 1),
            ("dmitry@example.com", 0, 0),
            ("elena@example.com", 0, 0),
        ]
        boris = body["nodes"][0]
        assert boris["url"] == reverse("admin:users_user_change", args=[tree.boris.pk])
        assert boris["children_url"] == children_url(tree.boris)

    def test_links_the_next_page(
        self, admin_client: Client, tree: Tree, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(users_admin, "REFERRAL_TREE_PAGE_SIZE", 2)

        first = admin_client.get(children_url(tree.anna)).json()
        second = admin_client.get(children_url(tree.anna) + first["next"]).json()

        assert first["next"] == "?page=2" and second["next"] is None
        assert [node["label"] for node in first["nodes"] + second["nodes"]] == [
            "boris@example.com",
            "dmitry@example.com",
            "elena@example.com",
        ]

    def test_sends_anyone_not_staff_to_the_login(self, client: Client, tree: Tree) -> None:
        response = client.get(children_url(tree.anna))

        assert response.status_code == 302

    def test_refuses_staff_who_may_not_view_users(self, client: Client, tree: Tree) -> None:
        client.force_login(User.objects.create_user(email="staff@example.com", is_staff=True))

        csv_url = reverse("admin:users_user_downline_csv", args=[tree.anna.pk])
        assert client.get(children_url(tree.anna)).status_code == 403
        assert client.get(csv_url).status_code == 403

    def test_serves_staff_who_may_view_users(self, client: Client, tree: Tree) -> None:
        staff = User.objects.create_user(email="staff@example.com", is_staff=True)
        staff.user_permissions.add(Permission.objects.get(codename="view_user"))
        client.force_login(staff)

        assert client.get(children_url(tree.anna)).json()["count"] == 3

    def test_an_unknown_user_is_not_found(self, admin_client: Client) -> None:
        response = admin_client.get(reverse("admin:users_user_referrals_json", args=[10**9]))

        assert response.status_code == 404


def downline_csv(client: Client, user: User) -> list[list[str]]:
    response = client.get(reverse("admin:users_user_downline_csv", args=[user.pk]))
    assert response.streaming
    assert response["Content-Type"].startswith("text/csv")
    body = b"".join(response.streaming_content).decode()  # type: ignore[attr-defined]
    return list(csv.reader(io.StringIO(body)))


class TestDownlineCsv:
    def test_lists_the_whole_downline_by_level(self, admin_client: Client, tree: Tree) -> None:
        rows = downline_csv(admin_client, tree.root)

        assert rows[0] == ["uuid", "email", "level", "referrer", "joined"]
        assert [(row[1], row[2], row[3]) for row in rows[1:]] == [
            ("anna@example.com", "1", str(tree.root.uuid)),
            ("boris@example.com", "2", str(tree.anna.uuid)),
            ("dmitry@example.com", "2", str(tree.anna.uuid)),
            ("elena@example.com", "2", str(tree.anna.uuid)),
            ("carol@example.com", "3", str(tree.boris.uuid)),
        ]
        assert rows[1][0] == str(tree.anna.uuid)
        assert rows[1][4] == tree.anna.date_joined.strftime("%Y-%m-%dT%H:%M:%S+00:00")


@pytest.fixture
def wide_downline() -> Iterator[tuple[User, int]]:
    """A root with 12,000 direct referrals, written in bulk (the services would take
    minutes); rows as the sign-up service writes them."""
    root = UserFactory.create(email="wide@example.com")
    size = 12_000
    joined = timezone.now()
    referrals = User.objects.bulk_create(
        [
            User(
                email=f"wide{number}@example.com",
                referred_by=root,
                referred_at=joined,
                date_joined=joined,
            )
            for number in range(size)
        ],
        batch_size=2000,
    )
    path = f"/{to_base36(root.pk)}/"
    TreeNode.objects.bulk_create(
        [TreeNode(user=user, path=path, depth=1, date_joined=joined) for user in referrals],
        batch_size=2000,
    )
    yield root, size


class TestDownlineExport:
    def test_streams_in_a_fraction_of_the_memory_of_the_whole_downline(
        self,
        admin_client: Client,
        wide_downline: tuple[User, int],
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        root, size = wide_downline
        monkeypatch.setattr(selectors, "DOWNLINE_EXPORT_CHUNK", 500)
        url = reverse("admin:users_user_downline_csv", args=[root.pk])

        tracemalloc.start()
        try:
            before, _peak = tracemalloc.get_traced_memory()
            rows = list(referral_downline_export(user=root))
            held, _peak = tracemalloc.get_traced_memory()
            assert len(rows) == size
            del rows
            tracemalloc.reset_peak()
            start, _peak = tracemalloc.get_traced_memory()
            stream = admin_client.get(url).streaming_content  # type: ignore[attr-defined]
            lines = len([None for _line in stream])
            _now, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()

        assert lines == size + 1
        # All the rows at once took `held - before`; the stream never holds more than a
        # chunk of them (500 of 12,000) and the line being written.
        assert peak - start < (held - before) / 5
