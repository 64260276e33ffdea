from django.db import IntegrityError


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
