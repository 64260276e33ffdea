"""The figures of the staff dashboard (the admin's /admin/referral/dashboard/).

Each figure is one aggregate, or for the top referrers by downline a handful, that an
index answers without reading the table's rows on Postgres at 1,000,000 users
(bench/dashboard.py measures them; bench/README.md has the figures). Each is cached for
CACHE_SECONDS: the dashboard is read by a few people, and a minute-old figure serves them
as well as a fresh one.

Definitions (README, "Dashboard"):
- a sign-up is an account, counted on the (UTC) day it was created (`date_joined`);
- "by referral": the account has a referrer through an invite code (`referred_with_code`),
  entered at sign-up or later on /me/referrer/;
- "phone" and "email": how the account was created (`User.signup_channel`, recorded by
  user_create): with a phone and no email, or with an email;
- a referrer's downline is everyone below them, at any depth.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TypeVar, cast

from django.core.cache import cache
from django.db import connection
from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncDate

from codes.models import ReferralCode, RefusalDay
from referral.models import TreeNode, TreeRoot, to_base36
from referral.selectors import referral_subtree_sizes
from users.models import SignupChannel, User

CACHE_SECONDS = 60
WINDOWS = (30, 90, 365)  # days a sign-up chart may cover
TOP = 10
# The refusals the dashboard always shows, at 0 when there were none.
REFUSAL_REASONS = ("invalid", "expired", "used_up", "cycle", "too_deep")

_T = TypeVar("_T")


def _cached(key: str, compute: Callable[[], _T]) -> _T:
    return cast(_T, cache.get_or_set(f"dashboard:v1:{key}", compute, timeout=CACHE_SECONDS))


def _utc_midnight(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


# --- Sign-ups per day -----------------------------------------------------------------


@dataclass(frozen=True)
class SignupDay:
    day: date
    total: int
    referred: int  # by referral (an invite code)
    phone: int
    email: int

    @property
    def referred_share(self) -> float | None:
        return self.referred / self.total if self.total else None


# One range of users_user_joined_idx per day, each counted from the index alone; a
# GROUP BY over the window would hash every row's truncated date instead (bench/README.md).
_SIGNUPS_SQL = """
    SELECT day, counted.total, counted.referred, counted.phone, counted.email
    FROM generate_series(%s::timestamptz, %s::timestamptz, interval '1 day') AS day,
    LATERAL (
        SELECT count(*) AS total,
               count(referred_with_code_id) AS referred,
               count(*) FILTER (WHERE signup_channel = %s) AS phone,
               count(*) FILTER (WHERE signup_channel = %s) AS email
        FROM users_user
        WHERE date_joined >= day AND date_joined < day + interval '1 day'
    ) AS counted
"""


def dashboard_signups(*, days: int, now: datetime) -> list[SignupDay]:
    """Sign-ups on each of the `days` (UTC) days up to and including the day of `now`,
    oldest first, days without any included."""
    first = _utc_midnight(now) - timedelta(days=days - 1)
    return _cached(f"signups:{days}:{first:%Y%m%d}", lambda: _signups(first=first, days=days))


def _signups(*, first: datetime, days: int) -> list[SignupDay]:
    last = first + timedelta(days=days - 1)
    found: dict[date, tuple[int, int, int, int]] = {}
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(_SIGNUPS_SQL, [first, last, SignupChannel.PHONE, SignupChannel.EMAIL])
            for day, *counts in cursor.fetchall():
                found[day.astimezone(UTC).date()] = (counts[0], counts[1], counts[2], counts[3])
    else:
        rows = (
            User.objects.filter(date_joined__gte=first, date_joined__lt=last + timedelta(days=1))
            .annotate(day=TruncDate("date_joined", tzinfo=UTC))
            .values("day")
            .annotate(
                total=Count("pk"),
                referred=Count("referred_with_code"),
                phone=Count("pk", filter=Q(signup_channel=SignupChannel.PHONE)),
                email=Count("pk", filter=Q(signup_channel=SignupChannel.EMAIL)),
            )
            .order_by()
        )
        for row in rows:
            found[row["day"]] = (row["total"], row["referred"], row["phone"], row["email"])
    start = first.date()
    return [
        SignupDay(day, *found.get(day, (0, 0, 0, 0)))
        for day in (start + timedelta(days=offset) for offset in range(days))
    ]


# --- The forest at a glance -----------------------------------------------------------


@dataclass(frozen=True)
class ForestOverview:
    users: int  # erased accounts (tombstones) left out
    roots: int  # users without a referrer: the trees
    deepest: int  # the deepest level (0: nobody has a referrer)
    levels: list[tuple[int, int]]  # (level, users on it), every level from 0


# One statement, so one snapshot: the levels and the roots of the same forest, however
# many sign-ups and erasures commit meanwhile. Level 0, the roots: users without a
# referrer (a range of users_user_referrals_idx, which holds the NULLs too) less the
# tombstones (users_user_erased_idx). Every level below: one range of
# referral_tree_downline_idx (depth leads it).
_LEVELS_SQL = """
    SELECT 0, (SELECT count(*) FROM users_user WHERE referred_by_id IS NULL)
              - (SELECT count(*) FROM users_user WHERE erased_at IS NOT NULL)
    UNION ALL
    SELECT level, (SELECT count(*) FROM referral_treenode WHERE depth = level)
    FROM generate_series(1, (SELECT max(depth) FROM referral_treenode)) AS level
"""


def dashboard_forest() -> ForestOverview:
    """Users, roots, the deepest level and the users on every level, erased accounts
    left out (their tombstones are roots without a tree)."""
    return _cached("forest", _forest)


def _forest() -> ForestOverview:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(_LEVELS_SQL)
            counted = {level: count for level, count in cursor.fetchall() if count}
    else:
        # SQLite serializes writers: the three counts see one forest anyway.
        counted = dict(
            TreeNode.objects.order_by()
            .values("depth")
            .annotate(count=Count("pk"))
            .values_list("depth", "count")
        )
        roots = User.objects.filter(referred_by__isnull=True).count()
        roots -= User.objects.filter(erased_at__isnull=False).count()
        if roots:
            counted[0] = roots
    deepest = max(counted, default=0)
    levels = [(level, counted.get(level, 0)) for level in range(deepest + 1)] if counted else []
    return ForestOverview(
        users=sum(counted.values()), roots=counted.get(0, 0), deepest=deepest, levels=levels
    )


# --- Top referrers --------------------------------------------------------------------


@dataclass(frozen=True)
class TopReferrer:
    user_id: int
    label: str  # email, phone, username or uuid: what the admin shows for a user
    count: int  # direct referrals, or downline


def _labels(user_ids: Iterable[int]) -> dict[int, str]:
    users = User.objects.filter(pk__in=list(user_ids)).only("uuid", "email", "phone", "username")
    return {user.pk: user.email or user.phone or user.username or str(user.uuid) for user in users}


def _with_labels(counts: list[tuple[int, int]]) -> list[TopReferrer]:
    labels = _labels(user_id for user_id, _count in counts)
    return [TopReferrer(user_id, labels.get(user_id, ""), count) for user_id, count in counts]


def dashboard_top_direct(*, limit: int = TOP) -> list[TopReferrer]:
    """The `limit` users with the most direct referrals, most first (ties by id)."""
    return _cached(f"top-direct:{limit}", lambda: _top_direct(limit=limit))


def _top_direct(*, limit: int) -> list[TopReferrer]:
    rows = (
        User.objects.filter(referred_by__isnull=False)
        .order_by()
        .values("referred_by")
        .annotate(count=Count("*"))  # not Count("pk"): the count comes from the index alone
        .order_by("-count", "referred_by")
        .values_list("referred_by", "count")[:limit]
    )
    # referred_by is never NULL here (the filter), which the column's type cannot say.
    return _with_labels([(cast(int, user_id), count) for user_id, count in rows])


def _largest_trees(limit: int) -> list[tuple[str, int]]:
    """The `limit` largest trees: their root's base-36 id and the users below it. One
    pass over the narrow tree table, hashed by root (153 ms at 900,000 nodes on
    Postgres, bench/README.md; an index of the roots read in order was no faster)."""
    rows = (
        TreeNode.objects.annotate(root=TreeRoot("path"))
        .order_by()
        .values("root")
        .annotate(count=Count("*"))
        .order_by("-count", "root")
        .values_list("root", "count")[:limit]
    )
    return list(rows)


def dashboard_top_downline(*, limit: int = TOP) -> list[TopReferrer]:
    """The `limit` users with the largest downlines, largest first (ties by id)."""
    return _cached(f"top-downline:{limit}", lambda: _top_downline(limit=limit))


def _top_downline(*, limit: int) -> list[TopReferrer]:
    # A user's downline is smaller than their referrer's, so the top `limit` hold the
    # referrer of each of them: they are found best-first, from the largest trees down,
    # each step counting the subtrees of one popped user's referrals. Only the `limit`
    # largest trees, and of each popped user only the `limit` largest subtrees, can hold
    # one of the top, so nothing else is counted.
    frontier = [(-count, int(root, 36), f"/{root}/") for root, count in _largest_trees(limit)]
    heapq.heapify(frontier)
    top: list[tuple[int, int]] = []
    while frontier and len(top) < limit:
        negative, user_id, prefix = heapq.heappop(frontier)
        top.append((user_id, -negative))
        if len(top) == limit:
            break
        children = list(
            TreeNode.objects.filter(path=prefix).order_by().values_list("user_id", flat=True)
        )
        sizes = referral_subtree_sizes(
            prefixes=[f"{prefix}{to_base36(child)}/" for child in children]
        )
        largest = heapq.nsmallest(
            limit, ((-size, child) for child, size in zip(children, sizes, strict=True) if size)
        )
        for negative_size, child in largest:
            heapq.heappush(frontier, (negative_size, child, f"{prefix}{to_base36(child)}/"))
    return _with_labels(top)


# --- Refused redemptions --------------------------------------------------------------


def dashboard_refusals(*, days: int, now: datetime) -> list[tuple[str, int]]:
    """Invite codes refused in the `days` (UTC) days up to the day of `now`, by reason:
    REFUSAL_REASONS always, then any other reason counted, most first."""
    first = (_utc_midnight(now) - timedelta(days=days - 1)).date()
    return _cached(f"refusals:{days}:{first:%Y%m%d}", lambda: _refusals(first=first))


def _refusals(*, first: date) -> list[tuple[str, int]]:
    counted = dict(
        RefusalDay.objects.filter(day__gte=first)
        .order_by()
        .values("reason")
        .annotate(total=Sum("count"))
        .values_list("reason", "total")
    )
    others = sorted(
        ((reason, total) for reason, total in counted.items() if reason not in REFUSAL_REASONS),
        key=lambda item: (-item[1], item[0]),
    )
    return [(reason, counted.get(reason, 0)) for reason in REFUSAL_REASONS] + others


# --- Click to sign-up conversion ------------------------------------------------------


@dataclass(frozen=True)
class Conversion:
    label: str  # the code, or the referrer as _labels has them
    user_id: int  # the code's owner, or the referrer
    code_id: int | None  # None for a referrer's row
    clicks: int
    uses: int  # sign-ups with the code (typed in, too, not only through the link)

    @property
    def rate(self) -> float | None:
        return self.uses / self.clicks if self.clicks else None


@dataclass(frozen=True)
class ConversionFigures:
    clicks: int  # share-link clicks of every code
    uses: int  # sign-ups with the codes that were clicked
    codes: list[Conversion]  # the most clicked codes
    referrers: list[Conversion]  # the referrers whose codes were clicked most

    @property
    def rate(self) -> float | None:
        return self.uses / self.clicks if self.clicks else None


def dashboard_conversion(*, limit: int = TOP) -> ConversionFigures:
    """Share-link clicks against sign-ups, overall, for the most clicked codes and for
    the referrers whose codes were clicked most (their codes added up)."""
    return _cached(f"conversion:{limit}", lambda: _conversion(limit=limit))


def _conversion(*, limit: int) -> ConversionFigures:
    clicked = ReferralCode.objects.filter(clicks__gt=0).order_by()
    totals = clicked.aggregate(clicks=Sum("clicks"), uses=Sum("uses"))
    codes = list(
        clicked.order_by("-clicks", "id").values_list("id", "code", "owner", "clicks", "uses")[
            :limit
        ]
    )
    referrers = list(
        clicked.values("owner")
        .annotate(clicks=Sum("clicks"), uses=Sum("uses"))
        .order_by("-clicks", "owner")
        .values_list("owner", "clicks", "uses")[:limit]
    )
    labels = _labels(owner for owner, _clicks, _uses in referrers)
    return ConversionFigures(
        clicks=totals["clicks"] or 0,
        uses=totals["uses"] or 0,
        codes=[
            Conversion(code, owner, code_id, clicks, uses)
            for code_id, code, owner, clicks, uses in codes
        ],
        referrers=[
            Conversion(labels.get(owner, ""), owner, None, clicks, uses)
            for owner, clicks, uses in referrers
        ],
    )
