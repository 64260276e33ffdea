"""Store "no email/username/phone" as NULL everywhere, before 0004 makes it a rule.

The services always wrote NULL; this mends any "" that reached the table another way
(a script, an old admin form), so the constraint can be added.
"""

from django.db import migrations


def empty_to_null(apps, schema_editor):
    User = apps.get_model("users", "User")
    for field in ("email", "username", "phone"):
        User.objects.filter(**{field: ""}).update(**{field: None})


class Migration(migrations.Migration):
    dependencies = [("users", "0002_user_downline_index")]

    operations = [migrations.RunPython(empty_to_null, migrations.RunPython.noop)]
