"""The dashboard's narrow indexes of the forest (users.models.User.Meta said what each was
for; the tree's went to referral_treenode with referral 0002), built without locking
users_user against writes."""

import referral.models
from django.db import migrations, models

from common.migration_operations import AddIndexConcurrently


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ('users', '0009_user_joined_index'),
    ]

    operations = [
        AddIndexConcurrently(
            model_name='user',
            index=models.Index(condition=models.Q(('erased_at__isnull', False)), fields=['erased_at'], name='users_user_erased_idx'),
        ),
        AddIndexConcurrently(
            model_name='user',
            index=models.Index(fields=['tree_depth'], name='users_user_depth_idx'),
        ),
        AddIndexConcurrently(
            model_name='user',
            index=models.Index(condition=models.Q(('referred_by__isnull', False)), fields=['referred_by'], name='users_user_referrer_idx'),
        ),
        AddIndexConcurrently(
            model_name='user',
            index=models.Index(referral.models.TreeRoot('tree_path'), condition=models.Q(('tree_depth__gt', 0)), include=('tree_path',), name='users_user_root_idx'),
        ),
    ]
