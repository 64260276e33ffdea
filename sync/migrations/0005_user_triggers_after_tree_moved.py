"""The change-queue triggers again, after users 0012 dropped the tree's columns from
users_user: SQLite rebuilt the table, and the rebuilt table has none of the old one's
triggers (see 0003). On Postgres the triggers were never dropped; creating them again
replaces them as they were."""

import importlib

from django.db import migrations

_triggers = importlib.import_module("sync.migrations.0002_user_change_triggers")


class Migration(migrations.Migration):
    dependencies = [
        ("sync", "0004_user_triggers_after_erasure"),
        ("users", "0012_user_tree_to_referral"),
    ]

    operations = [migrations.RunPython(_triggers.recreate_triggers, migrations.RunPython.noop)]
