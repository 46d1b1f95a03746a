"""Replacing an auditorium's layout: the seats are the catalogue's, what sits on them is not.

Screenings write the seats (`screenings.services.layout_apply`); but whether a seat may go is
known only above: a seat with a ticket (orders) or a live claim (inventory) is never removed,
because a seat that was sold is never deleted. A dead claim (past its time, not swept yet) still
points at its seat and is cleared first, through `inventory.claims`, the claims' one writer.

Locks, in this order: the auditorium row, then its seats by id (`auditorium_lock`), then the dead
claims being cleared. A claim being made on one of the seats waits on the seat row until the
edit commits, so the check against tickets and live claims cannot be overtaken. One transaction:
the layout is applied whole or, if a seat it leaves out is in use, not at all.
"""

from __future__ import annotations

from datetime import datetime
from itertools import islice

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from ticketing.inventory import claims, seatmap
from ticketing.inventory.models import SeatClaim
from ticketing.orders.models import Ticket
from ticketing.screenings import services as screenings
from ticketing.screenings.layouts import Layout, LayoutChange, parse
from ticketing.screenings.models import Auditorium, Seat

SHOWN = 12  # seats named in the refusal; more are counted


@transaction.atomic
def layout_replace(*, auditorium: Auditorium, text: str) -> LayoutChange:
    """Make the auditorium's seats match `text` (see `screenings.layouts` for the notation).

    Seats that keep their label keep their id, so holds, claims and tickets on them stay valid.
    Seats the text leaves out are deleted, unless one has tickets or a live claim: then nothing
    changes and ValidationError (`seats_in_use`) says which seats.
    """
    layout = parse(text, require_seats=True)
    seats = screenings.auditorium_lock(auditorium=auditorium)
    gone = layout.left_out(seats)
    now = timezone.now()
    _refuse_removing(gone, now)
    _clear_dead_claims([seat.pk for seat in gone], now)
    change = screenings.layout_apply(auditorium=auditorium, layout=layout, seats=seats)
    if change.changed:
        transaction.on_commit(lambda: seatmap.layout_changed(auditorium.pk))
    return change


def layout_check(*, auditorium: Auditorium, text: str) -> Layout:
    """Parse `text` and check it could replace the auditorium's layout now, without writing.

    For forms, to show problems next to the field; `layout_replace` checks again under lock.
    """
    layout = parse(text, require_seats=True)
    if auditorium.pk:
        current = auditorium.seats.only("id", "row_label", "number")
        _refuse_removing(layout.left_out(current), timezone.now())
    return layout


def _refuse_removing(gone: list[Seat], now: datetime) -> None:
    busy = set(_in_use([seat.pk for seat in gone], now))
    if not busy:
        return
    labels = [seat.label for seat in gone if seat.pk in busy]
    shown = ", ".join(islice(labels, SHOWN))
    if len(labels) > SHOWN:
        shown += f" and {len(labels) - SHOWN} more"
    raise ValidationError(
        "The new layout leaves out seats that have tickets or are held: %(seats)s. "
        "A seat that was sold is never deleted: keep it in the layout, and mark it blocked "
        "(x) if it should not be sold again.",
        code="seats_in_use",
        params={"seats": shown},
    )


def _in_use(seat_ids: list[int], now: datetime) -> list[int]:
    """Which of these seats have a ticket (of any order) or a live claim (held or sold)."""
    if not seat_ids:
        return []
    ticketed = set(Ticket.objects.filter(seat_id__in=seat_ids).values_list("seat_id", flat=True))
    claimed = set(
        SeatClaim.objects.filter(seat_id__in=seat_ids)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .values_list("seat_id", flat=True)
    )
    return sorted(ticketed | claimed)


def _clear_dead_claims(seat_ids: list[int], now: datetime) -> None:
    """Dead claims (past their time, not yet swept) still point at seats; sweep them first."""
    if not seat_ids:
        return
    screening_ids = set(
        SeatClaim.objects.filter(seat_id__in=seat_ids, expires_at__lte=now).values_list(
            "screening_id", flat=True
        )
    )
    for screening_id in screening_ids:
        claims.clear_dead(screening_id, seat_ids, now)
