"""Seats set aside for a partner (invariant 9): staff give a platform 40 seats of a screening
for its presale, named or "the best N"; only that partner holds or sells them until the
allocation's release time, then they are back on general sale by themselves.

The seats are claims like any other, made by the same statement (`claims.claim` with an
allocation): an idle seat set aside is a claim with no hold and no order that lives until the
release time, so every read and write already treats it as taken, and the claim's own
`allocated_to`/`allocated_until` let its partner take it (and give it back to the allocation
when its hold dies). When the release time passes the claim is dead like an expired hold:
general sale again, worker or not.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from ticketing import errors
from ticketing.db import retry_on_conflict
from ticketing.screenings.models import Seat
from ticketing.webhooks import events
from ticketing.webhooks.services import event_emit

from . import best_available, claims, seatmap
from .holds import _screening_for_sale, _take_turn, _validate_seats
from .models import Allocation, SeatClaim

log = logging.getLogger(__name__)


@retry_on_conflict()
def allocation_create(
    *,
    screening_id: int,
    partner,
    release_at: datetime,
    seat_ids: list[int] | None = None,
    quantity: int | None = None,
) -> Allocation:
    """Set seats aside for `partner` until `release_at` (never past the end of sales): the named
    seats, or the best `quantity` together. All or nothing, like a hold."""
    now = timezone.now()
    # Before general sale opens is when seats are set aside: only a closed sale is refused.
    screening = _screening_for_sale(screening_id, now, opens_at=now)
    closes = screening.sales_close_at or screening.starts_at
    release_at = min(release_at, closes)
    if release_at <= now:
        raise errors.InvalidRequest("The release time must be in the future.", field="release_at")
    _take_turn(screening.pk)
    if seat_ids:
        wanted = list(dict.fromkeys(seat_ids))
        wanted = (
            _validate_seats(screening, wanted) if len(wanted) <= 10 else _known(screening, wanted)
        )
    elif quantity:
        layout = [
            best_available.LayoutSeat(*row)
            for row in Seat.objects.filter(auditorium_id=screening.auditorium_id).values_list(
                "id", "x", "y", "seat_type", "is_sellable"
            )
        ]
        wanted = best_available.choose(
            layout, set(seatmap.live_claims(screening.pk, now)), quantity
        )
        if wanted is None:
            raise errors.NoSeatsTogether(requested=quantity)
    else:
        raise errors.InvalidRequest("Give seats or a quantity.", field="seats")
    allocation = Allocation.objects.create(
        screening=screening, partner=partner, seat_ids=sorted(wanted), release_at=release_at
    )
    got = claims.claim(screening.pk, wanted, now=now, expires_at=release_at, allocation=allocation)
    if len(got) != len(set(wanted)):
        raise errors.SeatUnavailable(seats=sorted(set(wanted) - got))
    seatmap.invalidate(screening.pk)
    log.info(
        "allocation %s: %d seats of screening %s for partner %s until %s",
        allocation.pk,
        len(wanted),
        screening.pk,
        partner.pk,
        release_at.isoformat(),
    )
    return allocation


def _known(screening, seat_ids: list[int]) -> list[int]:
    """Many seats at once (more than one order's worth): they must be this room's, for sale."""
    sellable = set(
        Seat.objects.filter(
            auditorium_id=screening.auditorium_id, pk__in=seat_ids, is_sellable=True
        ).values_list("pk", flat=True)
    )
    missing = [s for s in seat_ids if s not in sellable]
    if missing:
        raise errors.UnknownSeats(seats=missing)
    return seat_ids


@dataclass(frozen=True)
class AllocationState:
    allocation: Allocation
    left: int  # set aside, nobody holds them now
    held: int
    sold: int
    released: bool


def allocations_of(*, partner, now=None) -> list[AllocationState]:
    """A partner's allocations with what is left, held and sold, in two queries."""
    now = now or timezone.now()
    allocations = list(
        Allocation.objects.filter(partner=partner)
        .select_related("partner", "screening__film", "screening__auditorium__cinema")
        .order_by("release_at")
    )
    counts = {
        row["allocation_id"]: row
        for row in SeatClaim.objects.filter(allocation__in=allocations)
        .values("allocation_id")
        .annotate(
            sold=Count("pk", filter=Q(expires_at__isnull=True)),
            held=Count("pk", filter=Q(expires_at__gt=now) & ~Q(hold=None, order=None)),
            left=Count(
                "pk",
                filter=Q(allocated_until__gt=now)
                & (Q(hold=None, order=None) | Q(expires_at__lte=now)),
            ),
        )
    }
    out = []
    for allocation in allocations:
        row = counts.get(allocation.pk, {})
        released = allocation.release_at <= now
        out.append(
            AllocationState(
                allocation,
                left=0 if released else row.get("left", 0),
                held=row.get("held", 0),
                sold=row.get("sold", 0),
                released=released,
            )
        )
    return out


def allocations_tell_released(*, now=None, limit: int = 200) -> int:
    """Tell each partner once, by webhook, that an allocation of its reached its release time,
    with what it sold (its seats were back on general sale at that instant already). Marking it
    told and writing the event are one transaction: told once, never lost."""
    now = now or timezone.now()
    due = list(
        Allocation.objects.filter(release_at__lte=now, released_notified_at__isnull=True)
        .order_by("release_at")
        .values_list("pk", "partner_id")[:limit]
    )
    told = 0
    for allocation_id, partner_id in due:
        with transaction.atomic():
            if not Allocation.objects.filter(
                pk=allocation_id, released_notified_at__isnull=True
            ).update(released_notified_at=now):
                continue  # another sweep told it
            [state] = [
                s
                for s in allocations_of(partner=partner_id, now=now)
                if s.allocation.pk == allocation_id
            ]
            allocation = state.allocation
            event_emit(
                partner=allocation.partner,
                type=events.ALLOCATION_RELEASED,
                data={
                    "allocation": allocation.pk,
                    "screening": allocation.screening_id,
                    "release_at": allocation.release_at.isoformat(),
                    "seats": len(allocation.seat_ids),
                    "sold": state.sold,
                },
                dedupe_key=f"{events.ALLOCATION_RELEASED}:{allocation.pk}",
            )
            told += 1
    return told
