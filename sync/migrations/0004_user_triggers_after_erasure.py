"""The change-queue triggers again, after users 0006 changed users_user's constraints.

SQLite rebuilds the table to change a constraint, and the rebuilt table has none of the
old one's triggers (see 0003). On Postgres the triggers were never dropped; creating them
again replaces them as they were.
"""

import importlib

from django.db import migrations

_triggers = importlib.import_module("sync.migrations.0002_user_change_triggers")


class Migration(migrations.Migration):
    dependencies = [
        ("sync", "0003_user_triggers_after_table_rebuild"),
        ("users", "0006_user_erasure"),
    ]

    operations = [migrations.RunPython(_triggers.recreate_triggers, migrations.RunPython.noop)]
