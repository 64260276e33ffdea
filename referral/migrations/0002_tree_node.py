"""The referral tree moves out of users_user into a narrow table of its own (TreeNode's
docstring says why): a node for every user with a referrer, copied from users_user's
tree_path and tree_depth, which users 0012 then drops."""

import django.db.models.deletion
import django.db.models.expressions
import django.db.models.functions.text
import referral.models
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('referral', '0001_referred_signup'),
        ('users', '0011_user_last_sign_in_network'),
    ]

    operations = [
        migrations.CreateModel(
            name='TreeNode',
            fields=[
                ('user', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='tree_node', serialize=False, to=settings.AUTH_USER_MODEL)),
                ('path', referral.models.TreePathField()),
                ('depth', models.PositiveIntegerField()),
                ('date_joined', models.DateTimeField()),
            ],
            options={
                'indexes': [models.Index(fields=['path', 'depth'], name='referral_tree_path_idx', opclasses=['text_pattern_ops', 'int4_ops']), models.Index(fields=['depth', 'path'], include=('date_joined',), name='referral_tree_downline_idx', opclasses=['int4_ops', 'text_pattern_ops'])],
                'constraints': [models.CheckConstraint(condition=models.Q(('depth', django.db.models.expressions.CombinedExpression(django.db.models.expressions.CombinedExpression(django.db.models.functions.text.Length('path'), '-', django.db.models.functions.text.Length(django.db.models.functions.text.Replace('path', models.Value('/'), models.Value('')))), '-', models.Value(1))), ('depth__gte', 1), ('path__endswith', '/'), ('path__startswith', '/')), name='referral_treenode_depth_matches_path')],
            },
        ),
        migrations.RunSQL(
            "INSERT INTO referral_treenode (user_id, path, depth, date_joined)"
            " SELECT id, tree_path, tree_depth, date_joined FROM users_user WHERE tree_depth > 0",
            # Back: users 0012 reversed copies the nodes back before this table goes.
            migrations.RunSQL.noop,
        ),
    ]
