"""What a door reads: the day's screenings it serves, and a screening's tickets to cache so it
can keep admitting signed tickets when the network fails (refunds and cancellations included,
as revocations). Each is a fixed number of queries whatever the size of the room."""

from __future__ import annotations

from datetime import date

from django.db.models import F
from django.utils import timezone

from ticketing.orders.models import OrderStatus, Ticket
from ticketing.screenings.models import Cinema, Screening, ScreeningStatus
from ticketing.screenings.selectors import screenings_on_local_day, screenings_scheduled

from .models import CheckIn, CheckInConflict
from .services import Door, doors_open_at

VALID, REFUNDED, CANCELLED = "valid", "refunded", "cancelled"
# Orders whose tickets a buyer was given: paid ones, and those that were paid and then ended.
ISSUED = (OrderStatus.PAID, OrderStatus.REFUNDED, OrderStatus.CANCELLED)


def door_cinemas(door: Door) -> list[Cinema]:
    cinemas = Cinema.objects.order_by("name")
    if door.cinema_ids is not None:
        cinemas = cinemas.filter(pk__in=door.cinema_ids)
    return list(cinemas)


def door_screenings(door: Door, *, day: date | None = None) -> list[Screening]:
    """The scheduled screenings of the door's cinemas on `day` (default: today, as each cinema's
    clock reads it), by start."""
    now = timezone.now()
    window = None
    for cinema in door_cinemas(door):
        local_day = day or timezone.localdate(now, cinema.tz)
        part = screenings_on_local_day(screenings_scheduled(), day=local_day, cinemas=[cinema])
        window = part if window is None else window | part
    if window is None:
        return []
    return list(window.order_by("starts_at", "pk"))


def door_screening(door: Door, *, screening_id: int) -> Screening | None:
    """One screening of the door's cinemas, cancelled ones included (their tickets are void)."""
    screening = (
        Screening.objects.select_related("film", "auditorium__cinema")
        .filter(pk=screening_id)
        .first()
    )
    if screening is None or not door.serves(screening.auditorium.cinema_id):
        return None
    return screening


def ticket_status(*, order_status: str, refunded_at, screening_status: str) -> str:
    if refunded_at is not None or order_status == OrderStatus.REFUNDED:
        return REFUNDED
    if order_status == OrderStatus.CANCELLED or screening_status == ScreeningStatus.CANCELLED:
        return CANCELLED
    return VALID


def screening_tickets(screening: Screening) -> list[dict]:
    """Every ticket issued for `screening`, with its status, and when and where it was admitted:
    the list a door caches. One query."""
    rows = (
        Ticket.objects.filter(order__screening=screening, order__status__in=ISSUED)
        .order_by("seat_label", "pk")
        .values(
            "code",
            "seat_label",
            "ticket_type_name",
            "refunded_at",
            "checked_in_at",
            order_status=F("order__status"),
            door=F("checkin__door"),
            admitted_at=F("checkin__admitted_at"),
        )
    )
    return [
        {
            "t": row["code"],
            "seat": row["seat_label"],
            "type": row["ticket_type_name"],
            "status": ticket_status(
                order_status=row["order_status"],
                refunded_at=row["refunded_at"],
                screening_status=screening.status,
            ),
            "admitted_at": (
                (row["admitted_at"] or row["checked_in_at"]).isoformat()
                if row["checked_in_at"]
                else None
            ),
            "door": row["door"] or "",
        }
        for row in rows
    ]


def admissions_count(screening: Screening) -> int:
    return CheckIn.objects.filter(screening=screening).count()


def conflicts_for(door: Door, *, screening_id: int | None = None):
    """Tickets let in at two doors, newest first, at the door's cinemas."""
    conflicts = CheckInConflict.objects.select_related(
        "ticket", "admission", "screening__film", "screening__auditorium__cinema"
    ).order_by("-created_at")
    if door.cinema_ids is not None:
        conflicts = conflicts.filter(screening__auditorium__cinema_id__in=door.cinema_ids)
    if screening_id is not None:
        conflicts = conflicts.filter(screening_id=screening_id)
    return conflicts


def doors_open(screening: Screening):
    return doors_open_at(screening.starts_at)
