"""Writes of the staff app: a member's cinemas."""

from __future__ import annotations

from django.db import transaction

from ticketing.audit.services import audit_record

from .models import StaffProfile


@transaction.atomic
def staff_cinemas_set(*, user, cinemas=(), all_cinemas: bool = False, by=None) -> StaffProfile:
    """Attach `user` to exactly `cinemas` (or to every cinema)."""
    profile, _ = StaffProfile.objects.get_or_create(user=user)
    before = sorted(profile.cinemas.values_list("pk", flat=True))
    profile.all_cinemas = all_cinemas
    profile.save(update_fields=["all_cinemas"])
    profile.cinemas.set(cinemas)
    after = sorted(profile.cinemas.values_list("pk", flat=True))
    if by is not None:
        audit_record(
            action="staff.cinemas_set",
            summary=f"Cinemas of {user.get_username()} set",
            user=by,
            obj=profile,
            changes={"cinemas": [before, after], "all_cinemas": [None, all_cinemas]},
        )
    if hasattr(user, "_marquee_cinema_ids"):
        del user._marquee_cinema_ids
    return profile
