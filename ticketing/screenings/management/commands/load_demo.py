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
from ticketing.staff import demo as staff_demo


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
            member_passwords = {} if settings.DEBUG else self._own_member_passwords()
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

        self._staff_members(result, member_passwords)

    def _staff_members(self, result, passwords: dict[str, str]) -> None:
        """The members with roles (ticketing/staff/demo.py) and how they pass the code."""
        out = self.stdout
        out.write(f"Staff pages: {demo.STAFF_URL} (the admin asks for the same two steps)")
        for member in staff_demo.MEMBERS:
            made = passwords.get(member.username)
            if made:
                said = f"password {made} (generated, shown once)"
            elif settings.DEBUG:
                said = f"password {demo.STAFF_PASSWORD} unless it was changed"
            else:
                said = "its password was kept"
            out.write(f"  user {member.username}: {member.what}; {said}")
        if settings.DEBUG:
            out.write(
                f"  Second factor, every demo user: add the key {staff_demo.DEMO_TOTP_SECRET} "
                "to an authenticator app (time-based, 6 digits), or print the current code "
                "with: DJANGO_DEBUG=1 python manage.py staff_totp_code USERNAME"
            )
        for username, key in result.staff_keys.items():
            if key:
                out.write(
                    self.style.WARNING(
                        f"  authenticator key for {username} (shown once, add it to an app): {key}"
                    )
                )

    def _own_member_passwords(self) -> dict[str, str]:
        """Outside development the demo's members do not keep the published password either."""
        found = {}
        for user in get_user_model().objects.filter(
            username__in=[m.username for m in staff_demo.MEMBERS]
        ):
            if user.check_password(demo.STAFF_PASSWORD):
                found[user.username] = secrets.token_urlsafe(18)
                user.set_password(found[user.username])
                user.save(update_fields=["password"])
        return found

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
