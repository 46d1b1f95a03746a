"""Paid orders by the moment they were paid: the staff dashboard's sales of a day read a day's
orders, not the whole table (EXPLAIN on a year of sales: a sequential scan of every order
before, an index range scan after)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0006_ticket_discount"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="order",
            index=models.Index(
                condition=models.Q(("status", "paid")), fields=["paid_at"], name="order_paid_at"
            ),
        ),
    ]
