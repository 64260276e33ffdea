"""Migration operations of our own, for both databases the service runs on."""

from __future__ import annotations

from typing import Any

from django.contrib.postgres.operations import AddIndexConcurrently as PostgresAddIndexConcurrently
from django.db.migrations.operations import AddIndex


class AddIndexConcurrently(PostgresAddIndexConcurrently):
    """CREATE INDEX CONCURRENTLY on Postgres, so a large table keeps taking writes while
    its index is built (STYLE: "Migrations"); a plain CREATE INDEX on SQLite, which has
    no such thing and nothing large to protect. Its migration sets `atomic = False`."""

    def database_forwards(self, app_label: str, schema_editor: Any, *args: Any) -> None:
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, *args)
        else:
            AddIndex.database_forwards(self, app_label, schema_editor, *args)

    def database_backwards(self, app_label: str, schema_editor: Any, *args: Any) -> None:
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, *args)
        else:
            AddIndex.database_backwards(self, app_label, schema_editor, *args)
