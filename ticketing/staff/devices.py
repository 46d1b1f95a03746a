"""Staff members' second factors (django-otp's tables), written here only.

A member has at most one confirmed authenticator (a `TOTPDevice`: a phone app showing a code
every 30 seconds) and one set of backup codes (a `StaticDevice`, each code good once). A device
is made unconfirmed at enrolment and confirmed by the first code it shows, so a QR code that was
never scanned opens nothing.
"""

from __future__ import annotations

from django.db import transaction
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from ticketing.audit.services import audit_record

PHONE = "Phone"
BACKUP = "Backup codes"
BACKUP_CODES = 10


def has_authenticator(user) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def sign_in_devices(user) -> list:
    """The devices whose codes sign `user` in: the authenticator first, then backup codes."""
    return [
        *TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk"),
        *StaticDevice.objects.filter(user=user, confirmed=True).order_by("pk"),
    ]


@transaction.atomic
def totp_enrolment_start(*, user, device_id: int | None = None) -> TOTPDevice:
    """The unconfirmed authenticator `user` is enrolling in this sign-in: `device_id`, the one
    this session started (the same on every reload, so the QR code a phone scanned stays the
    right one), or a new one with a new key. Starting anew drops every other unconfirmed one, so
    a key copied from an earlier session (by someone who knew the password) never becomes the
    member's second factor."""
    if device_id is not None:
        device = TOTPDevice.objects.filter(pk=device_id, user=user, confirmed=False).first()
        if device is not None:
            return device
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return TOTPDevice.objects.create(user=user, name=PHONE, confirmed=False)


@transaction.atomic
def totp_enrolment_confirm(*, device: TOTPDevice) -> list[str]:
    """Confirm `device` (its code was right), drop any other authenticator and give `user` a
    fresh set of backup codes (the old ones stop working). Returns the codes: shown once."""
    user = device.user
    updated = TOTPDevice.objects.filter(pk=device.pk, confirmed=False).update(confirmed=True)
    if not updated:
        raise ValueError("This authenticator was confirmed already.")
    TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    codes = backup_codes_issue(user=user)
    audit_record(
        action="staff.authenticator_enrolled",
        summary=f"{user.get_username()} enrolled an authenticator",
        user=user,
        obj=device,
    )
    return codes


@transaction.atomic
def backup_codes_issue(*, user) -> list[str]:
    """A new set of backup codes for `user`, replacing any earlier set."""
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=BACKUP, confirmed=True)
    codes = [StaticToken.random_token() for _ in range(BACKUP_CODES)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


@transaction.atomic
def totp_device_set(*, user, key: str, name: str = PHONE) -> TOTPDevice:
    """Give `user` exactly one confirmed authenticator with the hex `key` (the demo's fixed key:
    a newcomer signs in with `manage.py staff_totp_code`)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is not None and device.key == key:
        return device
    TOTPDevice.objects.filter(user=user).delete()
    return TOTPDevice.objects.create(user=user, name=name, key=key, confirmed=True)


def backup_codes_left(device) -> int | None:
    if isinstance(device, StaticDevice):
        return device.token_set.count()
    return None


@transaction.atomic
def device_delete(*, device, by) -> None:
    """Remove a member's authenticator or backup codes (a lost phone): at their next sign-in
    they set up a new phone. Audited."""
    user = device.user
    kind = "authenticator" if isinstance(device, TOTPDevice) else "backup codes"
    type(device).objects.filter(pk=device.pk).delete()
    audit_record(
        action="staff.device_removed",
        summary=f"{kind.capitalize()} of {user.get_username()} removed",
        user=by,
        object_type=device._meta.label_lower,
        object_id=device.pk,
    )
