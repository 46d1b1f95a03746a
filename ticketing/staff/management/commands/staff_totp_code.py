"""`python manage.py staff_totp_code USERNAME`: the code a staff member's authenticator shows now.

For development and the demo only (refused with DJANGO_DEBUG off): a newcomer signs in as a demo
member without installing an authenticator app. On a real site the code lives on the member's
phone and nowhere else a command could print it from.
"""

import time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice


class Command(BaseCommand):
    help = (
        "Print the current sign-in code of a staff member's authenticator (development and "
        "demo only: refused with DJANGO_DEBUG off)."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username, **options):
        if not settings.DEBUG:
            raise CommandError(
                "DJANGO_DEBUG is off: this looks like a production site, where a staff "
                "member's code comes from their own phone. The command is for development "
                "and the demo only."
            )
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user {username!r}.")
        device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
        if device is None:
            raise CommandError(
                f"{username} has no authenticator yet: sign in with the password and the "
                "page sets one up (or run load_demo for the demo's members)."
            )
        totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
        now = time.time()
        totp.time = now
        left = device.step - int(now - device.t0) % device.step
        self.stdout.write(f"{totp.token():0{device.digits}d}")
        self.stderr.write(
            f"(the code of {username}'s authenticator, good for {left} more seconds; "
            "each code signs in once)"
        )
