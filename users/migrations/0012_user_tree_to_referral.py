"""users_user no longer holds the referral tree: referral 0002 copied it into
referral_treenode. SQLite rebuilds the table for this, so sync 0005 puts the change-queue
triggers back."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('users', '0011_user_last_sign_in_network'),
        ('referral', '0002_tree_node'),
    ]

    operations = [
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
            "UPDATE users_user SET tree_path = node.path, tree_depth = node.depth"
            " FROM referral_treenode node WHERE node.user_id = users_user.id",
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
