"""The referral app's database constraints: the tree's nodes and the referred sign-ups
(users_user's own are pinned in tests/users/test_models.py)."""

from __future__ import annotations

from datetime import datetime

import pytest
from django.db import IntegrityError, transaction

from codes.models import ReferralCode
from referral.models import ReferredSignup, TreeNode, TreePosition, to_base36
from tests.helpers import invite, position
from tests.users.factories import UserFactory

pytestmark = pytest.mark.django_db


def signup_row(now: datetime, **fields: object) -> dict[str, object]:
    referrer = UserFactory.create()
    values: dict[str, object] = {
        "referee": UserFactory.create(),  # no code: no row of its own yet
        "referrer": referrer,
        "code": ReferralCode.objects.get(owner=referrer),
        "created_at": now,
        "door": ReferredSignup.Door.SIGNUP,
        "network": "203.0.113.0/24",
        "is_same_network_as_referrer": False,
        "network_signups_last_hour": 1,
        "is_flagged": False,
    }
    values.update(fields)
    return values


class TestTreeNodeConstraints:
    """referral_treenode_depth_matches_path, and one node per user."""

    @pytest.mark.parametrize(
        "change",
        [
            {"depth": 2},  # deeper than its path says
            {"depth": 0, "path": "/"},  # a root has no node
            {"path": "1/"},  # no leading slash
            {"path": "/1"},  # no trailing slash
            {"path": "/1/2/"},  # two ancestors at depth 1
        ],
    )
    def test_refuses_a_depth_that_does_not_match_the_path(self, change: dict[str, object]) -> None:
        referee = invite(UserFactory.create())

        with pytest.raises(IntegrityError), transaction.atomic():
            TreeNode.objects.filter(user=referee).update(**change)

    def test_accepts_a_path_whose_depth_matches(self) -> None:
        referee = invite(UserFactory.create())

        TreeNode.objects.filter(user=referee).update(path="/1/2/", depth=2)

        assert position(referee) == TreePosition(referee.pk, "/1/2/", 2)

    def test_a_user_has_one_node_at_most(self) -> None:
        referee = invite(UserFactory.create())
        node = TreeNode.objects.get(user=referee)

        with pytest.raises(IntegrityError), transaction.atomic():
            TreeNode.objects.bulk_create(
                [TreeNode(user=referee, path=node.path, depth=1, date_joined=node.date_joined)]
            )


class TestWithinLookup:
    def test_takes_the_subtree_and_nothing_that_only_starts_the_same(self) -> None:
        referees = [invite(UserFactory.create()) for _ in range(4)]
        paths = ["/b/", "/b/c/", "/b0/", "/bz/"]
        for referee, path in zip(referees, paths, strict=True):
            TreeNode.objects.filter(user=referee).update(path=path, depth=path.count("/") - 1)

        within = TreeNode.objects.filter(path__within="/b/").values_list("path", flat=True)

        assert sorted(within) == ["/b/", "/b/c/"]

    @pytest.mark.parametrize("prefix", ["/b", ""])
    def test_refuses_what_is_not_a_subtree_prefix(self, prefix: str) -> None:
        with pytest.raises(ValueError, match="subtree prefix"):
            list(TreeNode.objects.filter(path__within=prefix))


class TestTreePosition:
    def test_a_root_has_no_ancestors(self) -> None:
        root = TreePosition(user_id=36)

        assert (root.ancestor_ids, root.root_id, root.subtree_prefix) == ([], 36, "/10/")

    def test_parses_the_ancestors_of_a_path(self) -> None:
        below = TreePosition(user_id=5, path=f"/{to_base36(1295)}/z/", depth=2)

        assert (below.ancestor_ids, below.root_id, below.subtree_prefix) == (
            [1295, 35],
            1295,
            "/zz/z/5/",
        )


class TestReferredSignupConstraints:
    def test_a_referee_has_one_row_at_most(self, now: datetime) -> None:
        referee = invite(UserFactory.create())  # its sign-up kept its row
        assert ReferredSignup.objects.filter(referee=referee).exists()

        with pytest.raises(IntegrityError), transaction.atomic():
            ReferredSignup.objects.create(**signup_row(now, referee=referee))

    def test_the_sign_up_count_is_not_negative(self, now: datetime) -> None:
        with pytest.raises(IntegrityError), transaction.atomic():
            ReferredSignup.objects.create(**signup_row(now, network_signups_last_hour=-1))
