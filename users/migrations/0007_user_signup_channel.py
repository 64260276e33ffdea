# A nullable column without a default: Postgres adds it without rewriting the table, and
# SQLite with ALTER TABLE ADD COLUMN, without the rebuild that would drop the change
# queue's triggers (sync/migrations/0003).

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('users', '0006_user_erasure'),
    ]

    operations = [
        migrations.AddField(
            model_name='user',
            name='signup_channel',
            field=models.CharField(blank=True, choices=[('email', 'email'), ('phone', 'phone')], editable=False, max_length=5, null=True, verbose_name='signed up with'),
        ),
    ]
