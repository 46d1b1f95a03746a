"""`python manage.py load_demo`: the demo data, safe to run again (see flows/demo.py)."""

from django.core.management.base import BaseCommand

from ticketing.flows import demo
from ticketing.orders.models import Order
from ticketing.partners.models import Partner
from ticketing.screenings.models import Auditorium, Cinema, Film, Screening, Seat


class Command(BaseCommand):
    help = (
        "Load the demo: three cinemas in three time zones, films, a week of screenings, a "
        "platform and a studio partner, and a staff login. Running it again adds only what is "
        "missing (such as the screenings of days not planned yet)."
    )

    def handle(self, *args, **options):
        result = demo.load()
        out = self.stdout
        added = ", ".join(f"{n} {what}" for what, n in result.created.items() if n)
        out.write(self.style.SUCCESS(f"Demo data ready. Added: {added or 'nothing, all there'}."))
        out.write(
            f"  {Cinema.objects.count()} cinemas, {Auditorium.objects.count()} auditoriums, "
            f"{Seat.objects.count()} seats, {Film.objects.count()} films, "
            f"{Screening.objects.count()} screenings, {Partner.objects.count()} partners, "
            f"{Order.objects.count()} orders."
        )
        for cinema in Cinema.objects.order_by("name"):
            out.write(f"  {cinema.name}: {cinema.time_zone}, {cinema.currency}")
        for name, raw in result.keys.items():
            out.write(self.style.WARNING(f"API key for {name} (shown once, keep it): {raw}"))
        out.write("")
        out.write(f"Staff login: {demo.ADMIN_URL}")
        if result.staff_created:
            out.write(f"  user {demo.STAFF_USERNAME}, password {demo.STAFF_PASSWORD}")
        else:
            out.write(
                f"  user {demo.STAFF_USERNAME} (it existed already; the demo password is "
                f"{demo.STAFF_PASSWORD} unless it was changed)"
            )
