"""The demo's staff: a manager, a box office member and a partner manager, each with a role, cinemas
and an authenticator, beside the demo's superuser (ticketing/flows/demo.py `_staff` calls this).

With DJANGO_DEBUG on every authenticator has the same published key (DEMO_TOTP_SECRET): a
newcomer adds it to an app, or runs `python manage.py staff_totp_code USERNAME`, and signs in
without setting anything up. With DEBUG off (`load_demo --force`) a published key would let
anyone with the password in, so each new authenticator gets a key of its own, shown once.
Members that exist already are left as they are (an authenticator is added if they have none).
"""

from __future__ import annotations

from base64 import b32decode, b32encode
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django_otp.util import random_hex

from ticketing.screenings.models import Cinema

from . import devices, roles
from .services import staff_cinemas_set

# 32 base32 characters = a 20-byte key, as authenticator apps expect. Published: demo only.
DEMO_TOTP_SECRET = "MARQUEEDEMOKEYFORSTAFFSIGNINONLY"  # noqa: S105 - the documented demo key
DEMO_TOTP_KEY = b32decode(DEMO_TOTP_SECRET).hex()


@dataclass(frozen=True)
class Member:
    username: str
    role: str
    cinema_slugs: tuple[str, ...] = ()
    all_cinemas: bool = False
    what: str = ""


MEMBERS = [
    Member(
        "manager",
        roles.MANAGER,
        ("paris-bastille", "london-southbank"),
        what="manager of Paris Bastille and London Southbank",
    ),
    Member("boxoffice", roles.BOX_OFFICE, ("paris-bastille",), what="box office at Paris Bastille"),
    Member(
        "partners", roles.PARTNER_MANAGER, all_cinemas=True, what="partner manager, every cinema"
    ),
]


def demo_staff_load(*, superuser: str, password: str) -> dict[str, str | None]:
    """Make the demo's members (password `password`) and give each, and `superuser`, an
    authenticator if they have none. Returns {username: the authenticator's base32 key when
    it was made now with a key of its own (DEBUG off), else None}."""
    roles.roles_sync()
    User = get_user_model()
    published = settings.DEBUG
    made: dict[str, str | None] = {}
    for member in MEMBERS:
        user = User.objects.filter(username=member.username).first()
        if user is None:
            user = User.objects.create_user(
                member.username, f"{member.username}@marquee.local", password, is_staff=True
            )
            user.groups.add(Group.objects.get(name=member.role))
            staff_cinemas_set(
                user=user,
                cinemas=list(Cinema.objects.filter(slug__in=member.cinema_slugs)),
                all_cinemas=member.all_cinemas,
            )
    for username in [superuser, *(m.username for m in MEMBERS)]:
        user = User.objects.filter(username=username).first()
        if user is None or devices.has_authenticator(user):
            made[username] = None
            continue
        key = DEMO_TOTP_KEY if published else random_hex(20)
        devices.totp_device_set(user=user, key=key)
        made[username] = None if published else b32encode(bytes.fromhex(key)).decode()
    return made
