"""The dashboard's index of clicked codes, built without locking the codes table against
writes (a row per user: as large as users_user)."""

from django.db import migrations, models

from common.migration_operations import AddIndexConcurrently


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ('codes', '0004_refusal_day'),
    ]

    operations = [
        AddIndexConcurrently(
            model_name='referralcode',
            index=models.Index(condition=models.Q(('clicks__gt', 0)), fields=['-clicks'], include=('uses', 'owner'), name='codes_clicked_idx'),
        ),
    ]
