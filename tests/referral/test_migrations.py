"""The tree's move out of users_user (referral 0002, users 0012), run both ways on a
forest: every path and depth arrives in referral_treenode, and comes back."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from referral.models import TreeNode, to_base36
from sync.models import UserChange
from tests.helpers import assert_tree_consistent, invite
from tests.users.factories import UserFactory
from users.models import User

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("users", "0011_user_last_sign_in_network"), ("referral", "0001_referred_signup")]


def migrate(targets: list[tuple[str, str]]) -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(targets)


def latest() -> list[tuple[str, str]]:
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


def test_the_tree_moves_to_its_own_table_and_back() -> None:
    root = UserFactory.create()
    child = invite(root)
    grandchild = invite(child)
    loner = UserFactory.create()
    below_root = f"/{to_base36(root.pk)}/"
    below_child = f"{below_root}{to_base36(child.pk)}/"

    migrate(BEFORE)
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, tree_path, tree_depth FROM users_user ORDER BY id")
        assert cursor.fetchall() == [
            (root.pk, "/", 0),
            (child.pk, below_root, 1),
            (grandchild.pk, below_child, 2),
            (loner.pk, "/", 0),
        ]

    # The change queue still sees users_user's changes (SQLite rebuilt the table).
    queued = UserChange.objects.count()
    with connection.cursor() as cursor:
        cursor.execute("UPDATE users_user SET first_name = 'Renamed' WHERE id = %s", [loner.pk])
    assert UserChange.objects.count() == queued + 1

    migrate(latest())
    assert sorted(TreeNode.objects.values_list("user_id", "path", "depth", "date_joined")) == [
        (child.pk, below_root, 1, child.date_joined),
        (grandchild.pk, below_child, 2, grandchild.date_joined),
    ]
    assert_tree_consistent()
    queued = UserChange.objects.count()
    User.objects.filter(pk=loner.pk).update(first_name="Again")
    assert UserChange.objects.count() == queued + 1


def test_autovacuum_wakes_after_two_percent_of_the_nodes_changed(postgres_only: None) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT reloptions FROM pg_class WHERE relname = 'referral_treenode'")
        (options,) = cursor.fetchone()

    assert sorted(options) == [
        "autovacuum_analyze_scale_factor=0.02",
        "autovacuum_vacuum_insert_scale_factor=0.02",
        "autovacuum_vacuum_scale_factor=0.02",
    ]
