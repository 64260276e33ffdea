"""Autovacuum after 2% of the tree's nodes changed, not Postgres' default 20%.

A subtree move (an erasure, /me/referrer/) rewrites every node below in one statement:
134,436 nodes for one user of the 1,000,000-user demo, fewer than the default's 180,000
dead rows that would wake autovacuum. Until a vacuum sets the visibility map again, the
index-only scans of the tree's reads visit the heap for every moved node: a stats read
of the largest tree went from 22 ms to 134 ms after two such erasures
(bench/README.md, "Erasure of a large downline"). Postgres only: SQLite has no
autovacuum to tune.
"""

from django.db import migrations

SETTINGS = (
    "autovacuum_vacuum_scale_factor",
    "autovacuum_vacuum_insert_scale_factor",
    "autovacuum_analyze_scale_factor",
)


def tune(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        options = ", ".join(f"{name} = 0.02" for name in SETTINGS)
        schema_editor.execute(f"ALTER TABLE referral_treenode SET ({options})")


def untune(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE referral_treenode RESET ({', '.join(SETTINGS)})")


class Migration(migrations.Migration):
    dependencies = [("referral", "0002_tree_node")]

    operations = [migrations.RunPython(tune, untune)]
