from django.core.management.base import BaseCommand, CommandError

from ticketing.partners.models import Partner, PartnerKind, Scope
from ticketing.partners.services import api_key_create, partner_create


class Command(BaseCommand):
    help = "Create a partner (or a new key for an existing one) and print its API key once."

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--kind", choices=PartnerKind.values, default=PartnerKind.PLATFORM)
        parser.add_argument(
            "--scopes", default="read,book", help=f"Comma separated, of: {', '.join(Scope.values)}"
        )
        parser.add_argument(
            "--new-key", action="store_true", help="Add a key to an existing partner."
        )

    def handle(self, *args, name, kind, scopes, new_key, **options):
        wanted = [s.strip() for s in scopes.split(",") if s.strip()]
        unknown = set(wanted) - set(Scope.values)
        if unknown:
            raise CommandError(f"unknown scopes: {', '.join(sorted(unknown))}")
        existing = Partner.objects.filter(name=name).first()
        if existing and not new_key:
            raise CommandError(f"partner {name!r} exists; use --new-key to add a key")
        if existing:
            _, raw = api_key_create(partner=existing, scopes=wanted)
        else:
            _, raw = partner_create(name=name, kind=kind, scopes=wanted)
        self.stdout.write(self.style.SUCCESS(f"Partner {name!r} ready. API key (shown once):"))
        self.stdout.write(raw)
