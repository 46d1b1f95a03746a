from django.core.management.base import BaseCommand, CommandError

from ticketing.ticket_signing import new_key_text


class Command(BaseCommand):
    help = (
        "Print a new Ed25519 key for MARQUEE_TICKET_SIGNING_KEYS as `KID:key` (put it first to "
        "sign with it, keep the old ones after it while their tickets are still to be used)."
    )

    def add_arguments(self, parser):
        parser.add_argument("kid", help="The key's id, e.g. 2026-12 (letters, digits, - and _).")

    def handle(self, *args, kid, **options):
        try:
            self.stdout.write(new_key_text(kid))
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
