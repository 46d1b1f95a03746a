"""`python manage.py load_demo`: the demo data, safe to run again (see flows/demo.py).

With DJANGO_DEBUG off (production) it refuses unless `--force`, and then the demo's staff
superuser does not keep the published demo password: it gets a generated one, shown once."""

import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from ticketing.flows import demo
from ticketing.orders.models import Order
from ticketing.partners.models import Partner
from ticketing.screenings.models import Auditorium, Cinema, Film, Screening, Seat


class Command(BaseCommand):
    help = (
        "Load the demo: three cinemas in three time zones, films, a week of screenings, a "
        "platform and a studio partner, and a staff login. Running it again adds only what is "
        "missing (such as the screenings of days not planned yet). With DJANGO_DEBUG off it "
        "needs --force, and the staff login gets a generated password."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--force",
            action="store_true",
            help="Load the demo on a site with DJANGO_DEBUG off (a demo or staging site).",
        )

    def handle(self, *args, force=False, **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                "DJANGO_DEBUG is off: this looks like a production site, and the demo adds "
                "made-up cinemas, films, partners and a staff superuser. Run it with --force "
                "to load it anyway (the staff user then gets a generated password, shown once)."
            )
        with transaction.atomic():
            result = demo.load()
            password = None if settings.DEBUG else self._own_staff_password(result)
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
        if password:
            out.write(
                self.style.WARNING(
                    f"  user {demo.STAFF_USERNAME}, password {password} (generated, shown once)"
                )
            )
        elif not settings.DEBUG:
            out.write(f"  user {demo.STAFF_USERNAME} (it existed already; its password was kept)")
        elif result.staff_created:
            out.write(f"  user {demo.STAFF_USERNAME}, password {demo.STAFF_PASSWORD}")
        else:
            out.write(
                f"  user {demo.STAFF_USERNAME} (it existed already; the demo password is "
                f"{demo.STAFF_PASSWORD} unless it was changed)"
            )

    def _own_staff_password(self, result) -> str | None:
        """Outside development no superuser keeps the published demo password: one just created
        (in this transaction, so the published one is never committed), or one left from an
        earlier load, gets a generated password. Any other password is left alone."""
        user = get_user_model().objects.filter(username=demo.STAFF_USERNAME).first()
        if user is None or not (result.staff_created or user.check_password(demo.STAFF_PASSWORD)):
            return None
        password = secrets.token_urlsafe(18)
        user.set_password(password)
        user.save(update_fields=["password"])
        return password
