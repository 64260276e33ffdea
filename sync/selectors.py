"""Reads of the change queue and of users as the tree service sees them.

No lost change. A naive queue stamps a change when the row is written, inside its
transaction, and a poll returns `queued_at >= since`. A transaction that stamps at t0,
commits at t1, with a poll starting in between, loses the change: the poll cannot see it
yet, and the next poll (since = start of this one > t0) filters it out. Here a change is
stamped at its COMMIT (a deferred trigger, sync migration 0002) while holding the sync
lock shared, and a poll passes `commit_barrier()` (the same lock, exclusively) before it
reads: every change stamped before the barrier has committed and is visible to the
poll, and every change the poll cannot see is stamped after the barrier, so at or after
the `since` of the next poll.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max, Q, QuerySet, TextField
from django.db.models.functions import Cast

from common import locks
from common.db import (
    datetime_text_sql,
    select_rows,
    statement_timeout,
    uuid_in_sql,
    uuid_list_param,
    uuid_text_sql,
)
from sync.models import UserChange
from users.errors import UserNotFoundError
from users.models import User


def commit_barrier() -> None:
    """Return once every change stamped so far has committed (see the module docstring)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s, 0)", [locks.SYNC_QUEUE])
            cursor.execute("SELECT pg_advisory_unlock(%s, 0)", [locks.SYNC_QUEUE])
    else:
        # SQLite: opening an IMMEDIATE transaction waits for the writer in progress.
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT 1")


def _latest_changes(*, since: datetime | None) -> QuerySet[UserChange, dict[str, Any]]:
    changes = UserChange.objects.all()
    if since is not None:
        changes = changes.filter(queued_at__gte=since)
    return changes.values("user_uuid").annotate(last=Max("queued_at")).order_by("last", "user_uuid")


def user_sync_stream(*, since: datetime | None) -> Iterator[str]:
    """Each user changed at or after `since` (all when None), once, by latest change, as
    UUID strings. Read through a server-side cursor in chunks: memory stays flat for any
    queue size. Postgres renders the UUIDs as text, which keeps Python's per-row work to
    a minimum (a million rows in about the time of the query itself). Its statements may
    run SYNC_EXPORT_STATEMENT_TIMEOUT_MS, more than a request's."""
    with statement_timeout(settings.SYNC_EXPORT_STATEMENT_TIMEOUT_MS):
        commit_barrier()
        changes = _latest_changes(since=since)
        chunk_size = settings.SYNC_EXPORT_CHUNK_SIZE
        if connection.vendor != "postgresql":
            # SQLite keeps UUIDs as bare hex: let Django convert them.
            for user_uuid in changes.values_list("user_uuid", flat=True).iterator(
                chunk_size=chunk_size
            ):
                yield str(user_uuid)
            return
        uuids = changes.annotate(uuid_text=Cast("user_uuid", output_field=TextField()))
        yield from uuids.values_list("uuid_text", flat=True).iterator(chunk_size=chunk_size)


def user_sync_page(
    *, since: datetime | None, limit: int, after: tuple[datetime, UUID] | None
) -> tuple[list[UUID], tuple[datetime, UUID] | None]:
    """One page of `user_sync_stream`, after the (latest change, uuid) position `after`;
    returns the page and the position to continue from (None at the end)."""
    commit_barrier()
    changes = _latest_changes(since=since)
    if after is not None:
        changes = changes.filter(Q(last__gt=after[0]) | Q(last=after[0], user_uuid__gt=after[1]))
    rows = list(changes[: limit + 1])
    page = rows[:limit]
    more = len(rows) > limit
    return [row["user_uuid"] for row in page], (
        (page[-1]["last"], page[-1]["user_uuid"]) if more else None
    )


# The tree service's view of a user, read by hand-written SQL: its pollers ask for batches
# of 100 over and over, and as an ORM query with a UUID and a datetime built per row and
# formatted again, a batch cost half again the CPU of a bare Django view (bench/README.md).
# The database renders UUIDs and dates as the API writes them (common.db). EXPORT_KEYS:
# the fields of a user the tree service sees, in the seed's order. Erased users are not
# exported: the change queue lists them, and the tree service drops a listed UUID that
# the export no longer returns.
EXPORT_KEYS = (
    "uuid",
    "referred_by_uuid",
    "email",
    "first_name",
    "last_name",
    "phone",
    "is_business_user",
    "is_active",
    "date_joined",
)
_EXPORT_SQL = """
    SELECT {uuid}, {referred_by_uuid}, COALESCE(account.email, ''), account.first_name,
           account.last_name, COALESCE(account.phone, ''), account.is_business_user,
           account.is_active, {date_joined}
    FROM users_user account
    LEFT JOIN users_user referrer ON referrer.id = account.referred_by_id
    WHERE account.uuid {in_uuids} AND account.erased_at IS NULL
"""
# SQLite returns booleans as integers.
_EXPORT_FIELDS = [
    None,
    None,
    None,
    None,
    None,
    None,
    User._meta.get_field("is_business_user"),
    User._meta.get_field("is_active"),
    None,
]


@cache
def _export_sql(vendor: str) -> str:
    return _EXPORT_SQL.format(
        uuid=uuid_text_sql("account.uuid", vendor),
        referred_by_uuid=uuid_text_sql("referrer.uuid", vendor),
        date_joined=datetime_text_sql("account.date_joined", vendor),
        in_uuids=uuid_in_sql(vendor),
    )


def _export_rows(uuids: list[UUID]) -> dict[str, dict[str, Any]]:
    rows = select_rows(
        _export_sql(connection.vendor), [uuid_list_param(uuids, connection.vendor)], _EXPORT_FIELDS
    )
    return {row[0]: dict(zip(EXPORT_KEYS, row, strict=True)) for row in rows}


def user_export_get(*, uuid: UUID) -> dict[str, Any]:
    """A user as the tree service sees it. Raises UserNotFoundError (erased users too)."""
    found = _export_rows([uuid])
    if not found:
        raise UserNotFoundError()
    return found[str(uuid)]


def user_export_batch(*, uuids: list[UUID]) -> list[dict[str, Any]]:
    """The users of `uuids` that exist (erased ones do not), in the order asked, each
    once; one query."""
    unique = list(dict.fromkeys(uuids))
    found = _export_rows(unique)
    return [found[key] for key in map(str, unique) if key in found]


@dataclass(frozen=True)
class ChangeQueueStats:
    rows: int | None  # an estimate; None when the database has none yet
    oldest_at: datetime | None
    newest_at: datetime | None


def change_queue_stats() -> ChangeQueueStats:
    """The queue's size and both ends, at the same small cost on any size: the size is
    Postgres' estimate as of its last ANALYZE (autovacuum keeps it near; no COUNT(*)), an
    upper bound from the ids on SQLite; the ends are one index lookup each."""
    ends = UserChange.objects.order_by("queued_at").values_list("queued_at", flat=True)
    oldest_at, newest_at = ends.first(), ends.reverse().first()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass",
                [UserChange._meta.db_table],
            )
        else:
            cursor.execute(
                f"SELECT max(id) - min(id) + 1 FROM {UserChange._meta.db_table}"  # noqa: S608
            )
        row = cursor.fetchone()
    estimate = row[0] if row is not None else None
    rows = int(estimate) if estimate is not None and estimate >= 0 else None  # -1: never analyzed
    if oldest_at is None:
        rows = 0
    return ChangeQueueStats(rows=rows, oldest_at=oldest_at, newest_at=newest_at)
