from django.core.management import call_command
from django.db import migrations


def create_cache_table(apps, schema_editor):
    # The embedded default keeps its cache (and so throttles) in the database; creating
    # the table here means `migrate` alone prepares a working deployment. A no-op when
    # CACHES points elsewhere (Redis).
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies = []

    operations = [migrations.RunPython(create_cache_table, migrations.RunPython.noop)]
