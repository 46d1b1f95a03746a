"""The onsale's only writer: declaring, changing, pausing; each change reaches the waiting room.

The admin saves the form itself (Django's ModelAdmin) and then calls `onsale_changed`; pausing
and resuming are one conditional UPDATE here. After the transaction commits, the shared caches
are dropped and the waiting room's settings in Redis are rewritten (counting admissions under
the old settings first, so a pause stops the clock at the moment it was pressed).
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.db.models.signals import m2m_changed, pre_delete
from django.dispatch import receiver

from ticketing.screenings.models import Screening, ScreeningStatus

from . import selectors, waiting
from .models import Onsale

log = logging.getLogger(__name__)


def _sync(onsale_id: int) -> None:
    onsale = Onsale.objects.filter(pk=onsale_id).first()
    if onsale is None:
        return
    selectors.forget(
        onsale_id=onsale_id, screening_ids=list(onsale.screenings.values_list("id", flat=True))
    )
    selectors.remember(onsale)  # put back at once, for the waiting room's fast path
    try:
        waiting.configure(onsale)
    except waiting.WaitingRoomUnavailable:
        # The waiting room reads its settings again on the first visit after Redis is back.
        log.warning(
            "onsale %s saved while Redis is away: the waiting room catches up later", onsale_id
        )


# A screening taken out of an onsale (or the onsale deleted) must stop being gated at once:
# `_sync` drops the entries of the screenings still in it, these drop the others'.
@receiver(m2m_changed, sender=Onsale.screenings.through, dispatch_uid="onsale.screenings_out")
def _screenings_out(sender, instance, action, reverse, pk_set, **kwargs) -> None:
    if reverse or action not in ("pre_remove", "pre_clear"):
        return
    ids = (
        list(pk_set)
        if action == "pre_remove"
        else list(instance.screenings.values_list("id", flat=True))
    )
    onsale_id = instance.pk
    transaction.on_commit(lambda: selectors.forget(onsale_id=onsale_id, screening_ids=ids))


@receiver(pre_delete, sender=Onsale, dispatch_uid="onsale.deleted")
def _deleted(sender, instance, **kwargs) -> None:
    ids = list(instance.screenings.values_list("id", flat=True))
    onsale_id = instance.pk
    transaction.on_commit(lambda: selectors.forget(onsale_id=onsale_id, screening_ids=ids))


def onsale_changed(*, onsale_id: int) -> None:
    """Call after saving an onsale or its screenings (the admin does)."""
    transaction.on_commit(lambda: _sync(onsale_id))


def onsale_pause(*, onsale_id: int, paused: bool) -> bool:
    """Pause (or resume) admissions; True if it changed."""
    with transaction.atomic():
        changed = Onsale.objects.filter(pk=onsale_id).exclude(paused=paused).update(paused=paused)
        onsale_changed(onsale_id=onsale_id)
    return bool(changed)


def onsale_set_rate(*, onsale_id: int, admit_per_minute: int) -> None:
    with transaction.atomic():
        Onsale.objects.filter(pk=onsale_id).update(admit_per_minute=max(0, int(admit_per_minute)))
        onsale_changed(onsale_id=onsale_id)


def screenings_of_film(*, film_id: int, first_day: date, last_day: date, zone) -> list[int]:
    """The film's scheduled screenings from `first_day` to `last_day` (local days, inclusive)."""
    start = datetime.combine(first_day, time.min, tzinfo=zone)
    end = datetime.combine(last_day + timedelta(days=1), time.min, tzinfo=zone)
    return list(
        Screening.objects.filter(
            film_id=film_id,
            starts_at__gte=start,
            starts_at__lt=end,
            status=ScreeningStatus.SCHEDULED,
        ).values_list("id", flat=True)
    )


def onsale_add_screenings(*, onsale_id: int, screening_ids: list[int]) -> int:
    """Add screenings to an onsale (a film's opening weekend); how many were new."""
    with transaction.atomic():
        onsale = Onsale.objects.get(pk=onsale_id)
        before = set(onsale.screenings.values_list("id", flat=True))
        onsale.screenings.add(*screening_ids)
        onsale_changed(onsale_id=onsale_id)
    return len(set(screening_ids) - before)
