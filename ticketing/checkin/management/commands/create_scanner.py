from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q

from ticketing import errors
from ticketing.checkin.services import scanner_create
from ticketing.screenings.models import Cinema


class Command(BaseCommand):
    help = (
        "Make a door scanner's API key for one cinema (scope `checkin`) and print it once. "
        "CINEMA is the cinema's slug, id or exact name."
    )

    def add_arguments(self, parser):
        parser.add_argument("cinema")
        parser.add_argument(
            "--name", default="", help="The device or door, e.g. 'Door 1 phone' (shown to staff)."
        )
        parser.add_argument(
            "--rate-per-minute",
            type=int,
            default=None,
            help="Requests a minute (default: MARQUEE_CHECKIN_SCANNER_RATE, 600).",
        )

    def handle(self, *args, cinema, name, rate_per_minute, **options):
        if rate_per_minute is not None and rate_per_minute < 1:
            raise CommandError("--rate-per-minute must be at least 1")
        match = Q(slug=cinema) | Q(name=cinema)
        if cinema.isdigit():
            match |= Q(pk=int(cinema))
        found = list(Cinema.objects.filter(match)[:2])
        if len(found) != 1:
            raise CommandError(
                f"no cinema {cinema!r}" if not found else f"{cinema!r} names several cinemas"
            )
        place = found[0]
        try:
            key, raw = scanner_create(
                cinema=place,
                name=name or f"Scanner at {place.name}",
                rate_per_minute=rate_per_minute,
            )
        except errors.InvalidRequest as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"Door scanner {key.name!r} for {place.name} ready. API key (shown once):"
            )
        )
        self.stdout.write(raw)
