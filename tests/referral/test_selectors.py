from __future__ import annotations

from datetime import datetime, timedelta
from uuid import uuid4

import pytest
from django.db.models import QuerySet
from pytest_django import Settings

from common.formats import format_datetime
from referral import selectors
from referral.errors import ReferralsNotFoundError
from referral.models import to_base36
from referral.selectors import (
    REFERRAL_FIELDS,
    DirectReferrals,
    ReferralNode,
    ReferralStats,
    referral_children,
    referral_downline,
    referral_downline_export,
    referral_list_direct,
    referral_list_direct_queryset,
    referral_list_for_user,
    referral_stats,
    referral_subtree_sizes,
    referral_upline,
)
from referral.serializers import ReferralOutputSerializer
from tests.helpers import code_of, invite, position
from tests.users.factories import UserFactory
from users.models import User
from users.services.lifecycle import user_erase

pytestmark = pytest.mark.django_db


class TestDirectReferrals:
    """The fixed statements must read exactly what the ORM queryset reads."""

    @pytest.fixture
    def referrer(self, now: datetime) -> User:
        referrer = UserFactory.create()
        same_instant = now - timedelta(days=1)
        for n in range(7):
            # Ties on date_joined are ordered by id, newest first.
            invite(referrer, now=same_instant if n % 2 else now - timedelta(minutes=n))
        invite(
            referrer, username=None, email=None, phone="+79990001122", first_name="Ёжик", now=now
        )
        without_code = invite(referrer, now=now - timedelta(hours=5))
        User.objects.filter(pk=without_code.pk).update(referred_with_code=None)
        invite(UserFactory.create())  # someone else's referral
        return referrer

    def test_counts_and_pages_as_the_queryset(self, referrer: User) -> None:
        fixed, orm = DirectReferrals(referrer), referral_list_direct_queryset(user=referrer)

        assert fixed.count() == len(fixed) == orm.count() == 9
        for start, stop in [(0, 4), (4, 8), (8, 12), (12, 16)]:
            rendered = ReferralOutputSerializer(fixed[start:stop], many=True).data
            expected = ReferralOutputSerializer(orm[start:stop], many=True).data
            assert rendered == expected, (start, stop)
        assert len(fixed[0:4]) == 4

    def test_reads_uuid_and_date_joined_as_the_api_writes_them(self, referrer: User) -> None:
        rows = DirectReferrals(referrer)[0:20]
        expected = list(referral_list_direct_queryset(user=referrer))

        assert [row["uuid"] for row in rows] == [str(row["uuid"]) for row in expected]
        assert [row["date_joined"] for row in rows] == [
            format_datetime(row["date_joined"]) for row in expected
        ]
        assert rows[0].keys() == expected[0].keys()

    def test_refuses_anything_but_a_bounded_slice(self, referrer: User) -> None:
        with pytest.raises(TypeError):
            DirectReferrals(referrer)[3]  # type: ignore[index]
        with pytest.raises(TypeError):
            DirectReferrals(referrer)[2:]

    def test_is_what_the_list_reads_without_a_search(self, referrer: User) -> None:
        assert isinstance(referral_list_direct(user=referrer), DirectReferrals)
        assert isinstance(referral_list_direct(user=referrer, search=""), DirectReferrals)
        assert referral_list_direct(user=referrer, search="Ёжик").count() == 1


class Tree:
    """root → anna → boris → carl, anna → vera, root → sara; and an outsider's tree,
    stranger → guest. Sara joined before anna though her id is higher, vera before boris:
    ordering by id instead of date_joined shows."""

    def __init__(self, start: datetime) -> None:
        self.root = UserFactory.create(email="root@example.com", username="root", now=start)
        self.anna = invite(self.root, email="anna@example.com", username="anna", now=at(start, 10))
        self.sara = invite(self.root, email="sara@example.com", username="sara", now=at(start, 5))
        self.boris = invite(
            self.anna, email=None, phone="+79990001001", username="boris", now=at(start, 30)
        )
        self.vera = invite(self.anna, email="vera@example.com", username="vera", now=at(start, 20))
        self.carl = invite(self.boris, email="carl@example.com", username="carl", now=at(start, 40))
        self.stranger = UserFactory.create(username="stranger", now=start)
        self.guest = invite(self.stranger, username="guest", now=at(start, 1))


def at(start: datetime, minutes: int) -> datetime:
    return start + timedelta(minutes=minutes)


def reloaded(user: User) -> User:
    return User.objects.get(pk=user.pk)


@pytest.fixture
def tree(now: datetime) -> Tree:
    return Tree(now - timedelta(days=1))


class TestReferralListDirectQueryset:
    def test_lists_the_direct_referrals_newest_first_with_the_code_each_used(
        self, tree: Tree
    ) -> None:
        rows = list(referral_list_direct_queryset(user=tree.anna))

        assert [row["username"] for row in rows] == ["boris", "vera"]
        assert set(rows[0]) == {*REFERRAL_FIELDS, "code"}
        assert {row["code"] for row in rows} == {code_of(tree.anna)}
        assert rows[0]["uuid"] == tree.boris.uuid

    def test_breaks_a_tie_on_date_joined_newest_id_first(self, now: datetime) -> None:
        referrer = UserFactory.create()
        first, second = invite(referrer, now=now), invite(referrer, now=now)

        rows = referral_list_direct_queryset(user=referrer)

        assert [row["uuid"] for row in rows] == [second.uuid, first.uuid]

    def test_gives_no_code_to_a_referral_set_without_one(self, tree: Tree) -> None:
        User.objects.filter(pk=tree.vera.pk).update(referred_with_code=None)

        rows = referral_list_direct_queryset(user=tree.anna)

        assert {row["username"]: row["code"] for row in rows}["vera"] is None

    @pytest.mark.parametrize(
        "search",
        ["BORIS", "+7999000100", "8 999 000-10-01", "Semyonovich", "Sidorov", "Борис"],
    )
    def test_searches_usernames_phones_and_names(self, tree: Tree, search: str) -> None:
        User.objects.filter(pk=tree.boris.pk).update(
            first_name="Борис", middle_name="Semyonovich", last_name="Sidorov"
        )

        rows = referral_list_direct_queryset(user=tree.anna, search=search)

        assert [row["username"] for row in rows] == ["boris"]

    def test_searches_emails(self, tree: Tree) -> None:
        rows = referral_list_direct_queryset(user=tree.anna, search="vera@EXAMPLE")

        assert [row["username"] for row in rows] == ["vera"]

    def test_searches_only_the_users_own_direct_referrals(self, tree: Tree) -> None:
        assert not referral_list_direct_queryset(user=tree.root, search="boris").exists()
        assert not referral_list_direct_queryset(user=tree.anna, search="guest").exists()

    def test_is_empty_for_a_user_without_referrals(self, tree: Tree) -> None:
        assert not referral_list_direct_queryset(user=tree.carl).exists()


class TestReferralListDirect:
    def test_searches_with_the_queryset(self, tree: Tree) -> None:
        found = referral_list_direct(user=tree.anna, search="vera")

        assert isinstance(found, QuerySet)
        assert [row["username"] for row in found] == ["vera"]

    def test_reads_the_same_rows_without_a_search_as_the_queryset(self, tree: Tree) -> None:
        rows = referral_list_direct(user=tree.root)[0:10]

        assert [row["username"] for row in rows] == ["anna", "sara"]


class TestReferralListForUser:
    def test_lets_a_user_read_their_own_referrals(self, tree: Tree) -> None:
        found = referral_list_for_user(viewer=tree.anna, target_uuid=tree.anna.uuid)

        assert [row["username"] for row in found[0:10]] == ["boris", "vera"]

    @pytest.mark.parametrize("viewer", ["anna", "root"])
    def test_lets_anyone_in_the_upline_read_them(self, tree: Tree, viewer: str) -> None:
        found = referral_list_for_user(viewer=getattr(tree, viewer), target_uuid=tree.boris.uuid)

        assert [row["username"] for row in found[0:10]] == ["carl"]

    def test_lets_staff_read_anyones(self, tree: Tree) -> None:
        User.objects.filter(pk=tree.stranger.pk).update(is_staff=True)

        found = referral_list_for_user(viewer=reloaded(tree.stranger), target_uuid=tree.anna.uuid)

        assert found.count() == 2

    @pytest.mark.parametrize("viewer", ["carl", "vera", "sara", "stranger", "guest"])
    def test_refuses_anyone_else_as_not_found(self, tree: Tree, viewer: str) -> None:
        with pytest.raises(ReferralsNotFoundError) as refused:
            referral_list_for_user(viewer=getattr(tree, viewer), target_uuid=tree.boris.uuid)

        assert refused.value.code == "not_found"

    def test_refuses_an_unknown_user_as_not_found(self, tree: Tree) -> None:
        with pytest.raises(ReferralsNotFoundError):
            referral_list_for_user(viewer=tree.root, target_uuid=uuid4())

    def test_refuses_an_erased_user_even_to_staff(self, tree: Tree, now: datetime) -> None:
        user_erase(user=tree.carl, now=now)
        User.objects.filter(pk=tree.root.pk).update(is_staff=True)

        with pytest.raises(ReferralsNotFoundError):
            referral_list_for_user(viewer=reloaded(tree.root), target_uuid=tree.carl.uuid)

    def test_passes_the_search_on(self, tree: Tree) -> None:
        found = referral_list_for_user(viewer=tree.root, target_uuid=tree.anna.uuid, search="ver")

        assert isinstance(found, QuerySet)
        assert [row["username"] for row in found] == ["vera"]


class TestReferralDownline:
    def test_lists_the_downline_by_level_then_date_joined(self, tree: Tree) -> None:
        rows = referral_downline(user=tree.root, depth=10)

        assert [(row["username"], row["level"]) for row in rows] == [
            ("sara", 1),
            ("anna", 1),
            ("vera", 2),
            ("boris", 2),
            ("carl", 3),
        ]

    def test_gives_each_row_its_referrers_uuid(self, tree: Tree) -> None:
        rows = referral_downline(user=tree.root, depth=10)

        assert {row["username"]: row["referred_by_uuid"] for row in rows} == {
            "sara": tree.root.uuid,
            "anna": tree.root.uuid,
            "vera": tree.anna.uuid,
            "boris": tree.anna.uuid,
            "carl": tree.boris.uuid,
        }

    @pytest.mark.parametrize(
        ("depth", "usernames"), [(1, ["sara", "anna"]), (2, ["sara", "anna", "vera", "boris"])]
    )
    def test_stops_at_the_given_number_of_levels(
        self, tree: Tree, depth: int, usernames: list[str]
    ) -> None:
        rows = referral_downline(user=tree.root, depth=depth)

        assert [row["username"] for row in rows] == usernames

    def test_counts_levels_from_the_user_not_from_the_root(self, tree: Tree) -> None:
        rows = referral_downline(user=tree.anna, depth=1)

        assert [(row["username"], row["level"]) for row in rows] == [
            ("vera", 1),
            ("boris", 1),
        ]

    def test_leaves_out_the_user_and_everyone_outside_the_downline(self, tree: Tree) -> None:
        rows = referral_downline(user=tree.anna, depth=10)

        assert {row["username"] for row in rows} == {"vera", "boris", "carl"}

    def test_is_empty_for_a_user_without_referrals(self, tree: Tree) -> None:
        assert not referral_downline(user=tree.carl, depth=10).exists()

    def test_leaves_out_an_erased_user_and_lists_their_referrals_a_level_up(
        self, tree: Tree, now: datetime
    ) -> None:
        user_erase(user=tree.boris, now=now)

        rows = referral_downline(user=reloaded(tree.anna), depth=10)

        assert [(row["username"], row["level"]) for row in rows] == [
            ("vera", 1),
            ("carl", 1),
        ]


class TestReferralStats:
    def test_counts_the_downline_per_level(self, tree: Tree) -> None:
        stats = referral_stats(user=tree.root)

        assert stats == ReferralStats(
            direct=2,
            total=5,
            depth=3,
            levels=[
                {"level": 1, "count": 2},
                {"level": 2, "count": 2},
                {"level": 3, "count": 1},
            ],
        )

    def test_counts_levels_from_the_user_and_nothing_outside_the_downline(self, tree: Tree) -> None:
        stats = referral_stats(user=tree.anna)

        assert stats == ReferralStats(
            direct=2, total=3, depth=2, levels=[{"level": 1, "count": 2}, {"level": 2, "count": 1}]
        )

    def test_is_all_zero_for_a_user_without_referrals(self, tree: Tree) -> None:
        assert referral_stats(user=tree.carl) == ReferralStats(
            direct=0, total=0, depth=0, levels=[]
        )

    def test_no_longer_counts_an_erased_user(self, tree: Tree, now: datetime) -> None:
        user_erase(user=tree.vera, now=now)

        stats = referral_stats(user=reloaded(tree.anna))

        assert (stats.direct, stats.total, stats.depth) == (1, 2, 2)


class TestReferralUpline:
    def test_lists_the_ancestors_from_the_referrer_up_to_the_root(self, tree: Tree) -> None:
        upline = referral_upline(user=tree.carl)

        assert [(row["username"], row["level"]) for row in upline] == [
            ("boris", 1),
            ("anna", 2),
            ("root", 3),
        ]
        assert upline[-1] == {
            "id": tree.root.pk,
            "uuid": tree.root.uuid,
            "username": "root",
            "label": "root@example.com",
            "level": 3,
        }

    def test_labels_each_by_email_then_phone(self, tree: Tree) -> None:
        upline = referral_upline(user=tree.carl)

        assert [row["label"] for row in upline] == [
            "+79990001001",
            "anna@example.com",
            "root@example.com",
        ]

    def test_labels_one_without_email_or_phone_by_username(self, tree: Tree) -> None:
        User.objects.filter(pk=tree.anna.pk).update(email=None, phone="+79990002002")
        User.objects.filter(pk=tree.boris.pk).update(username=None)

        upline = referral_upline(user=tree.carl)

        assert [(row["username"], row["label"]) for row in upline] == [
            ("", "+79990001001"),
            ("anna", "+79990002002"),
            ("root", "root@example.com"),
        ]

    def test_is_empty_for_a_root(self, tree: Tree) -> None:
        assert referral_upline(user=tree.root) == []

    def test_no_longer_lists_an_erased_ancestor(self, tree: Tree, now: datetime) -> None:
        user_erase(user=tree.anna, now=now)

        upline = referral_upline(user=reloaded(tree.carl))

        assert [(row["username"], row["level"]) for row in upline] == [("boris", 1), ("root", 2)]


class TestReferralSubtreeSizes:
    def test_counts_the_users_under_each_prefix_in_the_given_order(self, tree: Tree) -> None:
        prefixes = [
            position(user).subtree_prefix
            for user in (tree.anna, tree.carl, tree.root, tree.stranger)
        ]

        assert referral_subtree_sizes(prefixes=prefixes) == [3, 0, 5, 1]

    def test_keeps_the_order_and_repeats_of_the_prefixes(self, tree: Tree) -> None:
        prefixes = [position(user).subtree_prefix for user in (tree.boris, tree.anna, tree.boris)]

        assert referral_subtree_sizes(prefixes=prefixes) == [1, 3, 1]

    def test_is_an_empty_list_for_no_prefixes(self, db: None) -> None:
        assert referral_subtree_sizes(prefixes=[]) == []

    def test_does_not_count_a_subtree_whose_id_only_starts_the_same(self, now: datetime) -> None:
        # "/b/" counts neither "/b0/…" nor "/bz/…": the range ends just past its last "/".
        root = UserFactory.create(now=now)
        lookalikes = [UserFactory.create(id=root.pk * 36 + digit, now=now) for digit in (0, 35)]
        for lookalike in lookalikes:
            invite(lookalike, now=now)
        invite(root, now=now)

        assert all(to_base36(user.pk).startswith(to_base36(root.pk)) for user in lookalikes)
        assert referral_subtree_sizes(prefixes=[position(root).subtree_prefix]) == [1]


class TestReferralChildren:
    def test_pages_the_direct_referrals_oldest_first_with_the_count_of_all(
        self, tree: Tree
    ) -> None:
        first, count = referral_children(user=tree.root, offset=0, limit=1)
        second, _count = referral_children(user=tree.root, offset=1, limit=1)

        assert count == 2
        assert [node.id for node in first + second] == [tree.sara.pk, tree.anna.pk]

    def test_gives_each_referral_its_direct_and_whole_downline_sizes(self, tree: Tree) -> None:
        nodes, _count = referral_children(user=tree.anna, offset=0, limit=10)

        assert nodes == [
            ReferralNode(
                id=tree.vera.pk,
                uuid=tree.vera.uuid,
                label="vera@example.com",
                date_joined=tree.vera.date_joined,
                direct=0,
                total=0,
            ),
            ReferralNode(
                id=tree.boris.pk,
                uuid=tree.boris.uuid,
                label="+79990001001",
                date_joined=tree.boris.date_joined,
                direct=1,
                total=1,
            ),
        ]

    def test_counts_the_whole_subtree_below_a_referral(self, tree: Tree) -> None:
        nodes, _count = referral_children(user=tree.root, offset=0, limit=10)

        assert [(node.id, node.direct, node.total) for node in nodes] == [
            (tree.sara.pk, 0, 0),
            (tree.anna.pk, 2, 3),
        ]

    def test_gives_an_empty_page_past_the_end_and_still_the_count(self, tree: Tree) -> None:
        assert referral_children(user=tree.anna, offset=2, limit=10) == ([], 2)

    def test_is_empty_for_a_user_without_referrals(self, tree: Tree) -> None:
        assert referral_children(user=tree.carl, offset=0, limit=10) == ([], 0)


class TestReferralDownlineExport:
    def test_gives_the_whole_downline_in_the_downlines_order(self, tree: Tree) -> None:
        rows = list(referral_downline_export(user=tree.anna))

        assert rows == [
            {
                "uuid": user.uuid,
                "email": user.email,
                "date_joined": user.date_joined,
                "level": level,
                "referrer": referrer.uuid,
            }
            for user, level, referrer in [
                (tree.vera, 1, tree.anna),
                (tree.boris, 1, tree.anna),
                (tree.carl, 2, tree.boris),
            ]
        ]

    def test_reads_down_to_the_deepest_level_the_service_allows(
        self, tree: Tree, settings: Settings
    ) -> None:
        settings.REFERRAL_MAX_DEPTH = 2

        rows = referral_downline_export(user=tree.root)

        assert [row["uuid"] for row in rows] == [
            user.uuid for user in (tree.sara, tree.anna, tree.vera, tree.boris)
        ]

    def test_reads_the_same_rows_in_small_chunks(
        self, tree: Tree, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        whole = list(referral_downline_export(user=tree.root))
        monkeypatch.setattr(selectors, "DOWNLINE_EXPORT_CHUNK", 2)

        chunked = list(referral_downline_export(user=tree.root))

        assert chunked == whole
        assert len(chunked) == 5

    def test_is_empty_for_a_user_without_referrals(self, tree: Tree) -> None:
        assert list(referral_downline_export(user=tree.carl)) == []
