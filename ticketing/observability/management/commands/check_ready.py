"""`python manage.py check_ready [worker] [beat]`: the readiness of `/readyz`, from a shell.

The worker and beat containers run it as their health check: exit 0 when ready, 1 when not,
with the report on stdout.
"""

import json

from django.core.management.base import BaseCommand, CommandError

from ticketing.health import readiness
from ticketing.observability.heartbeats import REQUIRED


class Command(BaseCommand):
    help = "Exit 0 when the database, the migrations and the worker and beat heartbeats are good."

    def add_arguments(self, parser):
        parser.add_argument(
            "components", nargs="*", help=f"Of: {', '.join(REQUIRED)}; default: all."
        )

    def handle(self, *args, components, **options):
        unknown = set(components) - set(REQUIRED)
        if unknown:
            raise CommandError(f"unknown components: {', '.join(sorted(unknown))}")
        ready, report = readiness(components or None)
        self.stdout.write(json.dumps({"ready": ready, **report}))
        if not ready:
            raise CommandError("not ready")
