from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('codes', '0003_code_clicks'),
    ]

    operations = [
        migrations.CreateModel(
            name='RefusalDay',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('day', models.DateField()),
                ('reason', models.CharField(max_length=32)),
                ('count', models.PositiveIntegerField(default=0)),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('day', 'reason'), name='codes_refusal_day_reason')],
            },
        ),
    ]
