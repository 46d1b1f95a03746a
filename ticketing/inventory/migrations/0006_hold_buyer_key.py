from django.db import migrations, models


class Migration(migrations.Migration):
    """The hashed buyer token was stored as `session_key`, which it deliberately is not
    (ticketing/buyers.py): renamed for what it holds."""

    dependencies = [
        ("inventory", "0005_partner_protected"),
    ]

    operations = [
        migrations.RenameField(model_name="hold", old_name="session_key", new_name="buyer_key"),
        migrations.AlterField(
            model_name="hold",
            name="buyer_key",
            field=models.CharField(
                blank=True,
                db_index=True,
                help_text="A browser buyer's hashed token (ticketing/buyers.py), not the session key.",
                max_length=64,
            ),
        ),
    ]
