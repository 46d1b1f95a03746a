import django.core.validators
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("partners", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="apikey",
            name="name",
            field=models.CharField(
                default="first key",
                help_text="What the key is for, e.g. 'web shop'.",
                max_length=80,
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="apikey",
            name="rate_per_minute",
            field=models.PositiveIntegerField(
                blank=True,
                help_text="Requests a minute for this key; empty: the partners' default "
                "(MARQUEE_THROTTLE_PARTNER).",
                null=True,
                validators=[django.core.validators.MinValueValidator(1)],
            ),
        ),
    ]
