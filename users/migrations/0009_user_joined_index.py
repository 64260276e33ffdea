"""The dashboard's index of sign-ups by day, built without locking users_user against
writes."""

from django.db import migrations, models

from common.migration_operations import AddIndexConcurrently


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ('users', '0008_user_signup_channel_backfill'),
    ]

    operations = [
        AddIndexConcurrently(
            model_name='user',
            index=models.Index(fields=['date_joined'], include=('referred_with_code', 'signup_channel'), name='users_user_joined_idx'),
        ),
    ]
