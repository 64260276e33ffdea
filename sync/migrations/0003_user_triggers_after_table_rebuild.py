"""The change-queue triggers again, after users 0004 added constraints to users_user.

SQLite cannot add a constraint to a table: Django rebuilds the table, and the rebuilt
table has none of the old one's triggers. Every migration that makes SQLite rebuild
users_user must be followed by one like this (the sync tests fail on SQLite otherwise).
On Postgres the triggers were never dropped; creating them again replaces them as they
were. The functions are 0002's own, whose SQL no longer changes.
"""

import importlib

from django.db import migrations

_triggers = importlib.import_module("sync.migrations.0002_user_change_triggers")


class Migration(migrations.Migration):
    dependencies = [
        ("sync", "0002_user_change_triggers"),
        ("users", "0004_user_contact_constraints"),
    ]

    operations = [migrations.RunPython(_triggers.recreate_triggers, migrations.RunPython.noop)]
