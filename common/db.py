import json
import re
import weakref
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from uuid import UUID

from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, DatabaseError, IntegrityError, connection, connections
from django.db.models import Field
from rest_framework.settings import api_settings


def violated_constraint(exc: IntegrityError, names: dict[str, str]) -> str | None:
    """The value in `names` whose constraint `exc` reports, or None.

    `names` maps a constraint name (as Postgres reports it) or a `table.column` (as SQLite
    reports a column-level unique constraint) to what the caller wants back, usually the
    request field the constraint guards.
    """
    cause = exc.__cause__
    diag = getattr(cause, "diag", None)
    reported = getattr(diag, "constraint_name", None)
    if reported in names:
        return names[reported]
    message = str(exc)
    for name, value in names.items():
        if name in message:
            return value
    return None


def select_rows(
    sql: str, params: Sequence[Any], output_fields: Sequence[Field | None]
) -> list[tuple[Any, ...]]:
    """The rows of hand-written SQL, each column converted as the ORM would convert a
    value of `output_fields` (None: leave the column as the driver returns it).

    For hot reads whose ORM form costs far more to build and compile than to run. SQLite
    returns UUIDs, booleans and datetimes as text or numbers; the backend's converters turn
    them into what Postgres already returns.
    """
    db = connections[DEFAULT_DB_ALIAS]
    with db.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    columns = _converters(db, tuple(output_fields))
    if not columns:
        return rows
    converted = []
    for row in rows:
        values = list(row)
        for index, expression, converters in columns:
            if values[index] is not None:
                for converter in converters:
                    values[index] = converter(values[index], expression, db)
        converted.append(tuple(values))
    return converted


def select_one(
    sql: str, params: Sequence[Any], output_fields: Sequence[Field | None]
) -> tuple[Any, ...] | None:
    """The first row of `select_rows`, or None; `sql` should select at most one."""
    rows = select_rows(sql, params, output_fields)
    return rows[0] if rows else None


# Finding a column's converters costs more than applying them, so they are found once per
# connection (connections are per thread) and column list.
_converters_found: weakref.WeakKeyDictionary[Any, dict[tuple[Any, ...], Any]] = (
    weakref.WeakKeyDictionary()
)


def _converters(db: Any, fields: tuple[Field | None, ...]) -> list[tuple[int, Any, list[Any]]]:
    """(column index, expression, converters) of each column that has converters."""
    found = _converters_found.setdefault(db, {})
    if fields not in found:
        columns = []
        for index, field in enumerate(fields):
            if field is None:
                continue
            expression = field.cached_col
            # Field.get_db_converters is Django's (what the compiler calls), absent from
            # django-stubs.
            converters = db.ops.get_db_converters(expression) + field.get_db_converters(db)  # type: ignore[attr-defined]
            if converters:
                columns.append((index, expression, converters))
        found[fields] = columns
    return found[fields]


# Hot reads that only pass UUIDs and datetimes on to JSON can have the database render
# them: building a UUID and a datetime per column and formatting them again cost more
# CPU than the rest of a 100-row batch. Both snippets are for statements executed with
# parameters (a literal % is written %%).


def uuid_text_sql(column: str, vendor: str) -> str:
    """SQL for the UUIDField `column` as text, as str(UUID) writes it (NULL stays NULL)."""
    if vendor == "postgresql":
        return f"{column}::text"
    if vendor == "sqlite":
        # Django keeps a UUID in SQLite as 32 lowercase hex digits.
        parts = ((1, 8), (9, 4), (13, 4), (17, 4), (21, 12))
        return " || '-' || ".join(f"substr({column}, {start}, {size})" for start, size in parts)
    raise NotImplementedError(f"uuid_text_sql: no SQL for {vendor}")


# strftime directive -> Postgres to_char pattern; SQLite's strftime takes the directives.
_TO_CHAR_PATTERNS = {"Y": "YYYY", "m": "MM", "d": "DD", "H": "HH24", "M": "MI", "S": "SS"}


def datetime_text_sql(column: str, vendor: str) -> str:
    """SQL for the DateTimeField `column` as text, as common.formats.format_datetime renders
    it (DATETIME_FORMAT, in UTC; NULL stays NULL)."""
    output_format = api_settings.DATETIME_FORMAT
    directives = re.findall(r"%(.)", output_format)
    quoted = any(character in output_format for character in "'\"\\")
    if quoted or any(directive not in _TO_CHAR_PATTERNS for directive in directives):
        raise ImproperlyConfigured(
            f"datetime_text_sql renders only %{', %'.join(_TO_CHAR_PATTERNS)} and no quotes; "
            f"DATETIME_FORMAT is {output_format!r}"
        )
    if vendor == "postgresql":
        pattern = "".join(
            _TO_CHAR_PATTERNS[piece[1]] if piece.startswith("%") else f'"{piece}"'
            for piece in re.findall(r"%.|[^%]+", output_format)
        )
        return f"to_char({column} AT TIME ZONE 'UTC', '{pattern}')"
    if vendor == "sqlite":
        # Django keeps a datetime in SQLite as UTC text that strftime reads.
        return f"strftime('{output_format.replace('%', '%%')}', {column})"
    raise NotImplementedError(f"datetime_text_sql: no SQL for {vendor}")


def uuid_in_sql(vendor: str) -> str:
    """SQL that tests a UUIDField for membership in one parameter, a `uuid_list_param`:
    `f"WHERE uuid {uuid_in_sql(vendor)}"`. One parameter, however many UUIDs, keeps the
    statement fixed (and prepared) and spares a placeholder per value."""
    if vendor == "postgresql":
        return "= ANY(%s::uuid[])"
    if vendor == "sqlite":
        return "IN (SELECT value FROM json_each(%s))"
    raise NotImplementedError(f"uuid_in_sql: no SQL for {vendor}")


def uuid_list_param(uuids: Iterable[UUID], vendor: str) -> str:
    """The parameter of `uuid_in_sql`: a Postgres array literal, or a JSON array of the
    32-digit form SQLite keeps."""
    if vendor == "postgresql":
        return "{" + ",".join(str(uuid) for uuid in uuids) + "}"
    if vendor == "sqlite":
        return json.dumps([uuid.hex for uuid in uuids])
    raise NotImplementedError(f"uuid_list_param: no parameter for {vendor}")


# A select-list item that lets the current transaction's COMMIT return before its WAL
# reaches the disk (Postgres' asynchronous commit, for this transaction only), in a
# statement the transaction runs anyway: Postgres only.
#
# Waiting for the flush was most of a phone sign-in's time (bench/README.md). A crash of
# the database server (not of a web worker) can then lose the last fraction of a second
# of such commits, all or nothing each, never corrupting anything: use it only for writes
# whose loss costs a user no more than doing it again, and nothing another system has
# seen (the change queue); commit_waiting_for_disk takes it back.
ASYNCHRONOUS_COMMIT_SQL = "set_config('synchronous_commit', 'off', true)"


def commit_waiting_for_disk() -> None:
    """Make the current transaction's COMMIT wait for the disk again (the server's
    default), after ASYNCHRONOUS_COMMIT_SQL; a no-op but on Postgres."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit TO ON")


@contextmanager
def statement_timeout(milliseconds: int) -> Iterator[None]:
    """Within the block, a statement on the default connection may run `milliseconds`
    (0: no limit) instead of DJANGO_DB_STATEMENT_TIMEOUT_MS. For work that is long by
    nature: the change-queue export, the commands that rewrite large tables. Postgres
    only; elsewhere the block just runs."""
    db = connections[DEFAULT_DB_ALIAS]
    if db.vendor != "postgresql":
        yield
        return
    db.ensure_connection()
    with db.cursor() as cursor:
        cursor.execute("SELECT set_config('statement_timeout', %s, false)", [str(milliseconds)])
    try:
        yield
    finally:
        try:
            if db.connection is not None and not db.connection.closed:
                with db.cursor() as cursor:
                    cursor.execute("RESET statement_timeout")  # the connection's own limit
        except DatabaseError:
            # In a failed transaction: a connection left with the long limit is not reused.
            db.close()
