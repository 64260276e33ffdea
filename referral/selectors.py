"""Reads of the referral tree. Each is a fixed number of queries at any depth: a downline
is one indexed prefix range of the tree's paths (referral.TreeNode), an upline is parsed
from the user's own path."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any, cast
from uuid import UUID

from django.conf import settings
from django.db import connection
from django.db.models import CharField, Count, F, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from common.db import datetime_text_sql, select_rows, uuid_text_sql
from referral.errors import ReferralsNotFoundError
from referral.models import TreeNode, TreePosition, to_base36
from users.models import User
from users.phones import phone_from_search

REFERRAL_FIELDS = ("uuid", "username", "email", "phone", "first_name", "last_name", "date_joined")


class DirectReferrals:
    """A user's direct referrals without a search, newest first, as something Django's
    paginator can count and slice: the same rows as `referral_list_direct`'s queryset,
    with `uuid` and `date_joined` already rendered as the API writes them (text from the
    database). `page_and_count` reads a page and the total in one statement, which
    common.api.CountingPaginator uses.

    Every `/api/referrals/` request reads a page; as ORM queries the COUNT and the page
    cost more CPU to build and compile than Postgres spends on both (bench/README.md).
    """

    # The total joined with the page, so an empty page still reads one row: the total.
    _SQL = """
        SELECT total.n, page.uuid, page.username, page.email, page.phone, page.first_name,
               page.last_name, page.date_joined, page.code
        FROM (SELECT COUNT(*) AS n FROM users_user WHERE referred_by_id = %s) total
        LEFT JOIN (
            SELECT {uuid} AS uuid, referral.username, referral.email, referral.phone,
                   referral.first_name, referral.last_name, {date_joined} AS date_joined,
                   used_code.code, referral.date_joined AS joined_at, referral.id
            FROM users_user referral
            LEFT JOIN codes_referralcode used_code
              ON used_code.id = referral.referred_with_code_id
            WHERE referral.referred_by_id = %s
            ORDER BY referral.date_joined DESC, referral.id DESC
            LIMIT %s OFFSET %s
        ) page ON TRUE
        ORDER BY page.joined_at DESC, page.id DESC
    """

    def __init__(self, user: User) -> None:
        self.user_id = user.pk

    def page_and_count(self, offset: int, limit: int) -> tuple[list[dict[str, Any]], int]:
        """`limit` rows from `offset`, and the number of all rows."""
        rows = select_rows(
            self._sql(connection.vendor), [self.user_id, self.user_id, limit, offset], []
        )
        page = [dict(zip(_REFERRAL_KEYS, row[1:], strict=True)) for row in rows if row[1]]
        return page, int(rows[0][0])

    def count(self) -> int:
        return self.page_and_count(0, 0)[1]

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, window: slice) -> list[dict[str, Any]]:
        if not isinstance(window, slice) or window.stop is None or window.step is not None:
            raise TypeError("DirectReferrals takes only [start:stop] slices")
        start, stop = window.start or 0, window.stop
        if start < 0 or stop < start:
            raise TypeError("DirectReferrals takes only [start:stop] slices")
        return self.page_and_count(start, stop - start)[0]

    @classmethod
    @cache
    def _sql(cls, vendor: str) -> str:
        return cls._SQL.format(
            uuid=uuid_text_sql("referral.uuid", vendor),
            date_joined=datetime_text_sql("referral.date_joined", vendor),
        )


_REFERRAL_KEYS = (*REFERRAL_FIELDS, "code")


def referral_position(*, user_id: int) -> TreePosition:
    """Where the user `user_id` is in the forest now: their node's path and depth, or the
    root's."""
    return TreePosition.of(user_id, TreeNode.objects.filter(user=user_id).first())


def referral_list_direct(
    *, user: User, search: str | None = None
) -> DirectReferrals | QuerySet[User, dict[str, Any]]:
    """`user`'s direct referrals, newest first, optionally filtered by `search` over
    username, email, phone and names: dicts of REFERRAL_FIELDS and `code`, the invite
    code each signed up with (None when the referrer was set without one). Without a
    search, the DirectReferrals of the same rows."""
    if not search:
        return DirectReferrals(user)
    return referral_list_direct_queryset(user=user, search=search)


def referral_list_direct_queryset(
    *, user: User, search: str | None = None
) -> QuerySet[User, dict[str, Any]]:
    """`referral_list_direct` as an ORM queryset, with or without `search`: the reading
    of the rules that DirectReferrals must match."""
    referrals = (
        User.objects.filter(referred_by=user)
        # Dicts, not models: building two model instances per row cost more than the query.
        .values(*REFERRAL_FIELDS, code=F("referred_with_code__code"))
        .order_by("-date_joined", "-id")
    )
    if search:
        matches = (
            Q(username__icontains=search)
            | Q(email__icontains=search)
            | Q(phone__icontains=search)
            | Q(first_name__icontains=search)
            | Q(last_name__icontains=search)
            | Q(middle_name__icontains=search)
        )
        phone = phone_from_search(search)
        if phone:
            matches |= Q(phone=phone)
        referrals = referrals.filter(matches)
    return referrals


def referral_list_for_user(
    *, viewer: User, target_uuid: UUID, search: str | None = None
) -> DirectReferrals | QuerySet[User, dict[str, Any]]:
    """Direct referrals of the user `target_uuid`, for that user, anyone in their upline
    and staff. Raises ReferralsNotFoundError for everyone else (their existence is not
    revealed)."""
    target = User.objects.filter(uuid=target_uuid, erased_at__isnull=True).first()
    if target is None:
        raise ReferralsNotFoundError()
    allowed = (
        viewer.is_staff
        or viewer.pk == target.pk
        or viewer.pk in referral_position(user_id=target.pk).ancestor_ids
    )
    if not allowed:
        raise ReferralsNotFoundError()
    return referral_list_direct(user=target, search=search)


def _of_user(field: str) -> Subquery:
    # A subquery per field, not a join: the paginator's COUNT drops unused annotations
    # but would keep a join, which stops Postgres counting from the tree's index alone.
    return Subquery(User.objects.filter(pk=OuterRef("user_id")).values(field)[:1])


def _downline(*, user: User, depth: int, **fields: Any) -> QuerySet[TreeNode, dict[str, Any]]:
    """Dicts of `level`, `date_joined` and `fields` for `user`'s downline to `depth`."""
    position = referral_position(user_id=user.pk)
    rows = (
        TreeNode.objects.filter(
            path__within=position.subtree_prefix, depth__lte=position.depth + depth
        )
        # The order of referral_tree_downline_idx, which Postgres walks level by level.
        .order_by("depth", "date_joined", "user_id")
        .values("date_joined", level=F("depth") - position.depth, **fields)
    )
    return cast("QuerySet[TreeNode, dict[str, Any]]", rows)


def referral_downline(*, user: User, depth: int) -> QuerySet[TreeNode, dict[str, Any]]:
    """`user`'s downline to `depth` levels, by level, then date joined: dicts of uuid,
    username ("" for none), level (1 = direct), referred_by_uuid and date_joined."""
    return _downline(
        user=user,
        depth=depth,
        uuid=_of_user("uuid"),
        username=Coalesce(_of_user("username"), Value(""), output_field=CharField()),
        referred_by_uuid=_of_user("referred_by__uuid"),
    )


@dataclass(frozen=True)
class ReferralStats:
    direct: int
    total: int
    depth: int
    levels: list[dict[str, int]] = field(default_factory=list)


def referral_stats(*, user: User) -> ReferralStats:
    """Counts of `user`'s downline per level (non-empty levels only), in two queries."""
    position = referral_position(user_id=user.pk)
    rows = (
        TreeNode.objects.filter(path__within=position.subtree_prefix)
        .order_by()
        .values("depth")
        .annotate(count=Count("*"))
        .order_by("depth")
    )
    levels = [{"level": row["depth"] - position.depth, "count": row["count"]} for row in rows]
    return ReferralStats(
        direct=next((row["count"] for row in levels if row["level"] == 1), 0),
        total=sum(row["count"] for row in levels),
        depth=levels[-1]["level"] if levels else 0,
        levels=levels,
    )


def referral_upline(*, user: User) -> list[dict[str, object]]:
    """`user`'s referrer, their referrer, … up to the root, nearest first, with `level`
    (1 = the referrer)."""
    ancestor_ids = referral_position(user_id=user.pk).ancestor_ids
    ancestors = {
        row["id"]: row
        for row in User.objects.filter(pk__in=ancestor_ids).values(
            "id", "uuid", "username", "email", "phone"
        )
    }
    return [
        {
            "id": row["id"],  # for the admin's links; the API shows uuids only
            "uuid": row["uuid"],
            "username": row["username"] or "",
            "label": row["email"] or row["phone"] or row["username"] or str(row["uuid"]),
            "level": level,
        }
        for level, row in enumerate((ancestors[pk] for pk in reversed(ancestor_ids)), start=1)
    ]


# Each prefix's range of referral_tree_path_idx, counted from the index alone. The bounds are
# explicit (~>=~ and ~<~ are text_pattern_ops' operators): a LIKE whose pattern comes from
# a column would not use the index. A prefix ends in "/", and "0" sorts right after "/".
_SUBTREE_SIZES_SQL = """
    SELECT (SELECT count(*) FROM referral_treenode
            WHERE path ~>=~ prefix AND path ~<~ (left(prefix, -1) || '0'))
    FROM unnest(%s::text[]) WITH ORDINALITY AS given(prefix, position)
    ORDER BY position
"""


def referral_subtree_sizes(*, prefixes: list[str]) -> list[int]:
    """The number of users under each of `prefixes` (TreePosition.subtree_prefix values),
    in their order: one statement on Postgres, however many prefixes."""
    if not prefixes:
        return []
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(_SUBTREE_SIZES_SQL, [prefixes])
            return [count for (count,) in cursor.fetchall()]
    return [TreeNode.objects.filter(path__within=prefix).count() for prefix in prefixes]


@dataclass(frozen=True)
class ReferralNode:
    """A direct referral as the admin's tree shows it."""

    id: int
    uuid: UUID
    label: str  # email, phone, username or uuid
    date_joined: datetime
    direct: int
    total: int  # the whole downline


def referral_children(*, user: User, offset: int, limit: int) -> tuple[list[ReferralNode], int]:
    """A page of `user`'s direct referrals (oldest first), each with the sizes of its own
    direct referrals and downline, and the number of all direct referrals. Four queries
    for any page."""
    referrals = User.objects.filter(referred_by=user)
    count = referrals.count()
    page = list(
        referrals.order_by("date_joined", "id").values(
            "id", "uuid", "email", "phone", "username", "date_joined"
        )[offset : offset + limit]
    )
    ids = [row["id"] for row in page]
    direct = dict(
        User.objects.filter(referred_by__in=ids)
        .order_by()
        .values("referred_by")
        .annotate(count=Count("pk"))
        .values_list("referred_by", "count")
    )
    prefix = referral_position(user_id=user.pk).subtree_prefix
    totals = referral_subtree_sizes(prefixes=[f"{prefix}{to_base36(pk)}/" for pk in ids])
    nodes = [
        ReferralNode(
            id=row["id"],
            uuid=row["uuid"],
            label=row["email"] or row["phone"] or row["username"] or str(row["uuid"]),
            date_joined=row["date_joined"],
            direct=direct.get(row["id"], 0),
            total=total,
        )
        for row, total in zip(page, totals, strict=True)
    ]
    return nodes, count


# Rows a downline export reads from the database at a time.
DOWNLINE_EXPORT_CHUNK = 2000


def referral_downline_export(*, user: User) -> Iterator[Mapping[str, Any]]:
    """`user`'s whole downline, by level, then date joined (referral_downline's order), as
    dicts of uuid, email, date_joined, level and referrer (the referrer's uuid), read
    DOWNLINE_EXPORT_CHUNK rows at a time (a server-side cursor on Postgres): memory stays
    flat for a downline of any size."""
    # Joins, not referral_downline's subqueries: there is no paginator count to keep
    # index-only, and a join reads each user's row once.
    rows = _downline(
        user=user,
        depth=settings.REFERRAL_MAX_DEPTH,
        uuid=F("user__uuid"),
        email=F("user__email"),
        referrer=F("user__referred_by__uuid"),
    )
    return rows.iterator(chunk_size=DOWNLINE_EXPORT_CHUNK)
