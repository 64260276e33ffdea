"""users_user no longer holds the referral tree: referral 0002 copied it into
referral_treenode. SQLite rebuilds the table for this, so sync 0005 puts the change-queue
triggers back; reversed, the rebuild happens here after sync 0005's reverse, so this
migration's last step backwards puts them back itself."""

import importlib

from django.db import migrations

_triggers = importlib.import_module("sync.migrations.0002_user_change_triggers")


class Migration(migrations.Migration):

    dependencies = [
        ('users', '0011_user_last_sign_in_network'),
        ('referral', '0002_tree_node'),
        ('sync', '0004_user_triggers_after_erasure'),
    ]

    operations = [
        migrations.RunPython(migrations.RunPython.noop, _triggers.recreate_triggers),
        migrations.RemoveConstraint(
            model_name='user',
            name='users_user_tree_position_consistent',
        ),
        migrations.RemoveIndex(
            model_name='user',
            name='users_user_tree_idx',
        ),
        migrations.RemoveIndex(
            model_name='user',
            name='users_user_downline_idx',
        ),
        migrations.RemoveIndex(
            model_name='user',
            name='users_user_depth_idx',
        ),
        migrations.RemoveIndex(
            model_name='user',
            name='users_user_root_idx',
        ),
        migrations.RunSQL(
            migrations.RunSQL.noop,
            # Back: the columns are there again with a root's defaults; before the
            # constraint comes back, every node's path and depth return to its user.
            # Correlated subqueries, not UPDATE ... FROM: SQLite before 3.33 has no FROM.
            "UPDATE users_user"
            " SET tree_path = (SELECT path FROM referral_treenode WHERE user_id = users_user.id),"
            " tree_depth = (SELECT depth FROM referral_treenode WHERE user_id = users_user.id)"
            " WHERE id IN (SELECT user_id FROM referral_treenode)",
        ),
        migrations.RemoveField(
            model_name='user',
            name='tree_depth',
        ),
        migrations.RemoveField(
            model_name='user',
            name='tree_path',
        ),
    ]
