"""The sign-up channel of the accounts made before it was recorded, from their contacts
as they are now: no email but a phone is a phone sign-up (what phone sign-in creates),
any other account an email one.

In batches of ids, each its own transaction, so a large table is never locked whole and
the migration can be stopped and run again (it only fills what is still NULL).
"""

from django.db import migrations
from django.db.models import Case, Max, Value, When

BATCH = 10_000


def backfill(apps, schema_editor):
    User = apps.get_model("users", "User")
    top = User.objects.aggregate(top=Max("id"))["top"] or 0
    channel = Case(
        When(email__isnull=True, phone__isnull=False, then=Value("phone")),
        default=Value("email"),
    )
    for start in range(0, top + 1, BATCH):
        User.objects.filter(
            id__gte=start, id__lt=start + BATCH, signup_channel__isnull=True
        ).update(signup_channel=channel)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ('users', '0007_user_signup_channel'),
    ]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
