from django.core.management.base import BaseCommand, CommandError

from ticketing import errors
from ticketing.partners.models import Partner, PartnerKind, Scope
from ticketing.partners.services import DEFAULT_KEY_NAME, api_key_create, partner_create


class Command(BaseCommand):
    help = "Create a partner (or a new key for an existing one) and print its API key once."

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--kind", choices=PartnerKind.values, default=PartnerKind.PLATFORM)
        parser.add_argument(
            "--scopes", default="read,book", help=f"Comma separated, of: {', '.join(Scope.values)}"
        )
        parser.add_argument(
            "--key-name", default=DEFAULT_KEY_NAME, help="What the key is for, e.g. 'web shop'."
        )
        parser.add_argument(
            "--rate-per-minute",
            type=int,
            default=None,
            help="This key's own rate limit (default: MARQUEE_THROTTLE_PARTNER).",
        )
        parser.add_argument(
            "--new-key", action="store_true", help="Add a key to an existing partner."
        )

    def handle(self, *args, name, kind, scopes, key_name, rate_per_minute, new_key, **options):
        wanted = [s.strip() for s in scopes.split(",") if s.strip()]
        if rate_per_minute is not None and rate_per_minute < 1:
            raise CommandError("--rate-per-minute must be at least 1")
        existing = Partner.objects.filter(name=name).first()
        if existing and not new_key:
            raise CommandError(f"partner {name!r} exists; use --new-key to add a key")
        if existing and not existing.is_active:
            raise CommandError(f"partner {name!r} is deactivated")
        try:
            if existing:
                _, raw = api_key_create(
                    partner=existing, name=key_name, scopes=wanted, rate_per_minute=rate_per_minute
                )
            else:
                _, raw = partner_create(
                    name=name,
                    kind=kind,
                    scopes=wanted,
                    key_name=key_name,
                    rate_per_minute=rate_per_minute,
                )
        except errors.InvalidRequest as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(self.style.SUCCESS(f"Partner {name!r} ready. API key (shown once):"))
        self.stdout.write(raw)
