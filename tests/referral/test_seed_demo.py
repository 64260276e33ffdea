"""seed_demo writes a forest the services could have written: paths, codes, constraints."""

from __future__ import annotations

import json
from collections import Counter
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from codes.models import GENERATED_ALPHABET, ReferralCode
from referral.models import TreeNode, TreePosition, to_base36
from tests.users.factories import UserFactory
from users.models import User

pytestmark = pytest.mark.django_db


def seed(users: int, **options: object) -> str:
    out = StringIO()
    call_command("seed_demo", users=users, stdout=out, **options)
    return out.getvalue()


def expected_positions() -> dict[int, tuple[str, int]]:
    """(path, depth) of every user, derived from the referred_by chain alone."""
    referrer = dict(User.objects.values_list("pk", "referred_by_id"))
    positions: dict[int, tuple[str, int]] = {}

    def position(pk: int) -> tuple[str, int]:
        if pk not in positions:
            parent = referrer[pk]
            if parent is None:
                positions[pk] = ("/", 0)
            else:
                path, depth = position(parent)
                positions[pk] = (f"{path}{to_base36(parent)}/", depth + 1)
        return positions[pk]

    for pk in referrer:
        position(pk)
    return positions


def test_seeded_forest_is_consistent(tmp_path: Path) -> None:
    existing = UserFactory.create()
    report_path = tmp_path / "report.json"

    output = seed(300, seed=7, report=report_path)

    assert "demo-password" in output
    seeded = User.objects.exclude(pk=existing.pk)
    assert seeded.count() == 300
    assert min(seeded.values_list("pk", flat=True)) > existing.pk

    positions = expected_positions()
    nodes = {node.user_id: node for node in TreeNode.objects.all()}
    assert set(nodes) == {pk for pk, (_path, depth) in positions.items() if depth}
    joined_at = dict(User.objects.values_list("pk", "date_joined"))
    for pk, expected in positions.items():
        node = nodes.get(pk)
        assert (TreePosition.of(pk, node).path, TreePosition.of(pk, node).depth) == expected, pk
        assert node is None or node.date_joined == joined_at[pk]

    active = Counter(ReferralCode.objects.filter(is_active=True).values_list("owner", flat=True))
    assert set(active) == set(User.objects.values_list("pk", flat=True))
    assert set(active.values()) == {1}
    for code in ReferralCode.objects.filter(owner__in=seeded):
        assert len(code.code) == 8
        assert set(code.code) <= set(GENERATED_ALPHABET)

    referred = seeded.filter(referred_by__isnull=False).select_related("referred_with_code")
    assert referred.exists()
    for user in referred:
        assert user.referred_with_code is not None
        assert user.referred_with_code.owner_id == user.referred_by_id
        assert user.referred_at == user.date_joined
    assert not seeded.filter(referred_by__isnull=True, referred_with_code__isnull=False).exists()

    referrals = Counter(seeded.values_list("referred_by", flat=True))
    referrals.pop(None, None)
    assert max(referrals.values()) >= 2
    for code in ReferralCode.objects.filter(owner__in=seeded):
        assert code.uses == referrals.get(code.owner_id, 0)

    joined = list(seeded.order_by("pk").values_list("date_joined", flat=True))
    assert joined == sorted(joined)
    assert len(set(joined)) == len(joined)
    first_seeded = seeded.first()
    assert first_seeded is not None
    assert first_seeded.check_password("demo-password")

    report = json.loads(report_path.read_text())
    deepest = User.objects.get(uuid=report["deepest_leaf"]["uuid"])
    assert deepest.tree_node.depth == max(depth for _, depth in positions.values())
    assert not deepest.referrals.exists()
    most = User.objects.get(email=report["most_referrals"]["email"])
    assert most.referrals.count() == max(referrals.values())
    root = User.objects.get(uuid=report["largest_tree_root"]["uuid"])
    assert root.referred_by_id is None
    downline = TreeNode.objects.filter(path__startswith=f"/{to_base36(root.pk)}/").count()
    assert downline == report["largest_tree_root"]["downline"]


def test_seeding_again_and_signing_up_afterwards_do_not_collide() -> None:
    seed(120, seed=1)
    seed(80, seed=1)  # same seed: same codes and names, but ids (and so emails) move on

    assert User.objects.count() == 200
    assert ReferralCode.objects.values("code").distinct().count() == 200
    # The sequences were moved past the seeded ids.
    newcomer = UserFactory.create()
    assert newcomer.pk > max(User.objects.exclude(pk=newcomer.pk).values_list("pk", flat=True))


def test_rejects_an_empty_forest() -> None:
    with pytest.raises(CommandError):
        seed(0)
