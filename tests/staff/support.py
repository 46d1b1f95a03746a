"""Staff members for tests: a user with a role and cinemas, signed in with both factors."""

from __future__ import annotations

import itertools

from django.contrib.auth.models import Group, User
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from ticketing.staff import roles
from ticketing.staff.services import staff_cinemas_set

_n = itertools.count(1)


def staff_user(
    role: str | None = roles.MANAGER, *cinemas, all_cinemas=False, username=None
) -> User:
    """A staff member of `role` (roles.BOX_OFFICE, MANAGER, PARTNER_MANAGER or None) working for
    `cinemas`. Groups are synced first, as migrate does."""
    roles.roles_sync()
    user = User.objects.create_user(
        username or f"staff{next(_n)}", password="pw-for-tests-only", is_staff=True
    )
    if role:
        user.groups.add(Group.objects.get(name=role))
    staff_cinemas_set(user=user, cinemas=list(cinemas), all_cinemas=all_cinemas)
    return User.objects.get(pk=user.pk)  # fresh: permissions and cinemas not cached


def totp_device(user) -> TOTPDevice:
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    return device or TOTPDevice.objects.create(user=user, name="phone", confirmed=True)


def signed_in(client, user):
    """`client` signed in as `user` with the second factor passed (a confirmed TOTP device)."""
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = totp_device(user).persistent_id
    session.save()
    return client
