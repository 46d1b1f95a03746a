"""What the staff exports read: a screening's or a day's orders and attendance, as rows.

Each reader returns a generator of dicts (one per order, or one per ticket) that walks the
database in chunks (`iterator(chunk_size=...)` with the tickets prefetched per chunk), so a day
of a busy multiplex streams out without sitting in memory. The rows are what a spreadsheet
wants: times in the cinema's zone (the zone named beside them), amounts in major units with
their currency, plain text; `ticketing.csv_cells` writes them.

Which orders: those that were paid (paid, then perhaps refunded or cancelled), the sales; an
order never paid (awaiting payment, expired) sold nothing. Attendance: every ticket of those
orders, refunded ones marked so.

A day is the cinema's own day, local midnight to local midnight, of the screenings' start
(`basis="screening"`: that day's programme) or of the payment (`basis="sale"`: what was sold
that day).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, time, timedelta

from django.core.exceptions import FieldDoesNotExist, ObjectDoesNotExist
from django.db.models import Q, QuerySet
from django.utils import timezone

from ticketing.money import to_decimal
from ticketing.orders.models import Order, Ticket
from ticketing.screenings.models import Cinema, Screening

CHUNK = 500
BASES = ("screening", "sale")

ORDER_COLUMNS = [
    "order",
    "cinema",
    "film",
    "screening_starts",
    "paid_at",
    "time_zone",
    "customer_name",
    "customer_email",
    "tickets",
    "seats",
    "total",
    "currency",
    "status",
    "channel",
    "partner",
    "promo_code",
]
ATTENDANCE_COLUMNS = [
    "ticket",
    "order",
    "cinema",
    "film",
    "screening_starts",
    "seat",
    "seat_type",
    "ticket_type",
    "status",
    "checked_in_at",
    "door",
    "time_zone",
]


def _local(value: datetime | None, tz) -> str:
    """Wall-clock time at the cinema, as spreadsheets read a date and time."""
    if value is None:
        return ""
    return timezone.localtime(value, tz).strftime("%Y-%m-%d %H:%M:%S")


def day_window(day: date, cinema: Cinema) -> tuple[datetime, datetime]:
    """The cinema's `day`, local midnight to local midnight, in UTC."""
    start = datetime.combine(day, time.min, tzinfo=cinema.tz).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=cinema.tz).astimezone(UTC)
    return start, end


def _on_day(day: date, cinemas: Iterable[Cinema], field: str, cinema_path: str) -> Q:
    window = Q(pk__in=[])
    for cinema in cinemas:
        start, end = day_window(day, cinema)
        window |= Q(**{cinema_path: cinema.pk, f"{field}__gte": start, f"{field}__lt": end})
    return window


def sold_orders() -> QuerySet[Order]:
    return Order.objects.filter(paid_at__isnull=False).select_related(
        "screening__film", "screening__auditorium__cinema", "partner"
    )


def orders_of_screening(screening: Screening) -> QuerySet[Order]:
    return sold_orders().filter(screening=screening).order_by("paid_at", "code")


def orders_of_day(*, day: date, cinemas: Iterable[Cinema], basis: str) -> QuerySet[Order]:
    """A day's orders at `cinemas` (the member's, already narrowed), each cinema's own day."""
    field = "screening__starts_at" if basis == "screening" else "paid_at"
    window = _on_day(day, cinemas, field, "screening__auditorium__cinema_id")
    return sold_orders().filter(window).order_by(field, "paid_at", "code")


def _status(order: Order, tickets: list[Ticket]) -> str:
    refunded = sum(1 for t in tickets if t.refunded_at is not None)
    if order.status == "paid" and refunded:
        return f"paid ({refunded} of {len(tickets)} tickets refunded)"
    return order.status


def order_rows(orders: QuerySet[Order]) -> Iterator[dict]:
    for order in orders.prefetch_related("tickets").iterator(chunk_size=CHUNK):
        screening = order.screening
        cinema = screening.auditorium.cinema
        tickets = list(order.tickets.all())
        yield {
            "order": order.code,
            "cinema": cinema.name,
            "film": screening.film.title,
            "screening_starts": _local(screening.starts_at, cinema.tz),
            "paid_at": _local(order.paid_at, cinema.tz),
            "time_zone": cinema.time_zone,
            "customer_name": order.customer_name,
            "customer_email": order.customer_email,
            "tickets": len(tickets),
            "seats": " ".join(t.seat_label for t in tickets),
            "total": str(to_decimal(order.total, order.currency)),
            "currency": order.currency,
            "status": _status(order, tickets),
            "channel": "partner" if order.partner_id else "website",
            "partner": order.partner.name if order.partner_id else "",
            "promo_code": order.promo_code,
        }


def _door_recorded() -> bool:
    """Whether check-ins keep the door that admitted a ticket (the check-in app's `CheckIn`)."""
    try:
        related = Ticket._meta.get_field("checkin").related_model
    except FieldDoesNotExist:
        return False
    return any(field.name == "door" for field in related._meta.get_fields())


def _sold_tickets() -> QuerySet[Ticket]:
    tickets = Ticket.objects.filter(order__paid_at__isnull=False).select_related(
        "order__screening__film", "order__screening__auditorium__cinema"
    )
    return tickets.select_related("checkin") if _door_recorded() else tickets


def tickets_of_screening(screening: Screening) -> QuerySet[Ticket]:
    return _sold_tickets().filter(order__screening=screening).order_by("seat_label", "pk")


def tickets_of_day(*, day: date, cinemas: Iterable[Cinema]) -> QuerySet[Ticket]:
    """The tickets of the screenings starting on each cinema's `day` at `cinemas`."""
    window = _on_day(
        day, cinemas, "order__screening__starts_at", "order__screening__auditorium__cinema_id"
    )
    return _sold_tickets().filter(window).order_by("order__screening__starts_at", "seat_label")


def _door(ticket: Ticket) -> str:
    try:
        return ticket.checkin.door
    except (AttributeError, ObjectDoesNotExist):
        return ""


def attendance_rows(tickets: QuerySet[Ticket]) -> Iterator[dict]:
    for ticket in tickets.iterator(chunk_size=CHUNK):
        order = ticket.order
        cinema = order.screening.auditorium.cinema
        if ticket.refunded_at is not None:
            status = "refunded"
        elif ticket.checked_in_at is not None:
            status = "admitted"
        elif order.status != "paid":
            status = order.status
        else:
            status = "not admitted"
        yield {
            # The ticket's number, not its code: the code in the QR admits whoever holds it.
            "ticket": ticket.pk,
            "order": order.code,
            "cinema": cinema.name,
            "film": order.screening.film.title,
            "screening_starts": _local(order.screening.starts_at, cinema.tz),
            "seat": ticket.seat_label,
            "seat_type": ticket.seat_type,
            "ticket_type": ticket.ticket_type_name,
            "status": status,
            "checked_in_at": _local(ticket.checked_in_at, cinema.tz),
            "door": _door(ticket) if ticket.checked_in_at else "",
            "time_zone": cinema.time_zone,
        }


def screenings_of_day(*, day: date, cinemas: Iterable[Cinema]) -> QuerySet[Screening]:
    """The day's screenings at `cinemas` (cancelled ones too: they may have had sales), for the
    exports page to link."""
    window = _on_day(day, cinemas, "starts_at", "auditorium__cinema_id")
    return (
        Screening.objects.filter(window)
        .select_related("film", "auditorium__cinema")
        .order_by("starts_at", "auditorium__cinema__name", "pk")
    )
