import weakref
from collections.abc import Sequence
from typing import Any

from django.db import DEFAULT_DB_ALIAS, IntegrityError, connections
from django.db.models import Field


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
            converters = db.ops.get_db_converters(expression) + field.get_db_converters(db)
            if converters:
                columns.append((index, expression, converters))
        found[fields] = columns
    return found[fields]
