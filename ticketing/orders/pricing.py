"""Pricing an order on the server: ticket type price (screening override or cinema list price),
seat-type surcharge, booking fee per ticket with an optional cap per order, and a discount per
ticket with who funds it (a promo code's, computed by promotions). Integer minor units.

A discount belongs to a ticket, not to the order: refunding one ticket gives back exactly its
own discount, and settlement knows who funded each."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from django.db.models import OuterRef, Subquery

from ticketing import errors
from ticketing.screenings.models import (
    Screening,
    ScreeningPrice,
    Seat,
    SeatTypeSurcharge,
    TicketType,
)


@dataclass(frozen=True)
class PricedLine:
    seat: Seat
    ticket_type: TicketType
    price: int
    surcharge: int
    discount: int = 0
    funder: str = ""

    @property
    def gross(self) -> int:
        return self.price + self.surcharge


@dataclass(frozen=True)
class LineDiscount:
    amount: int
    funder: str


@dataclass(frozen=True)
class Quote:
    currency: str
    lines: list[PricedLine]
    subtotal: int
    booking_fee: int
    discount: int
    total: int


# Given the screening and the quote, what comes off each line (in the quote's order).
Discounter = Callable[[Screening, "Quote"], list[LineDiscount]]


def with_discounts(quote: Quote, discounts: list[LineDiscount]) -> Quote:
    """The quote with a discount on each line (never more than the line is worth)."""
    if len(discounts) != len(quote.lines):
        raise ValueError("one discount per line")
    lines = [
        replace(line, discount=min(d.amount, line.gross), funder=d.funder if d.amount else "")
        for line, d in zip(quote.lines, discounts, strict=True)
    ]
    discount = sum(line.discount for line in lines)
    return replace(
        quote, lines=lines, discount=discount, total=quote.subtotal + quote.booking_fee - discount
    )


def ticket_prices(screening: Screening) -> dict[int, tuple[TicketType, int]]:
    """{ticket_type_id: (ticket type, price)} of the active ticket types for a screening: the
    screening's own price where it has one, else the cinema's list price (one query)."""
    override = ScreeningPrice.objects.filter(
        screening_id=screening.pk, ticket_type_id=OuterRef("pk")
    ).values("price")[:1]
    types = TicketType.objects.filter(
        cinema_id=screening.auditorium.cinema_id, is_active=True
    ).annotate(screening_price=Subquery(override))
    return {t.pk: (t, t.price if t.screening_price is None else t.screening_price) for t in types}


def seats_with_surcharges(cinema_id: int, seat_ids) -> tuple[dict[int, Seat], dict[str, int]]:
    """The seats by id and the surcharges of their seat types, in one query."""
    amount = SeatTypeSurcharge.objects.filter(
        cinema_id=cinema_id, seat_type=OuterRef("seat_type")
    ).values("amount")[:1]
    seats = {
        seat.pk: seat
        for seat in Seat.objects.filter(pk__in=list(seat_ids)).annotate(
            type_surcharge=Subquery(amount)
        )
    }
    extra = {s.seat_type: s.type_surcharge for s in seats.values() if s.type_surcharge is not None}
    return seats, extra


def surcharges(cinema_id: int) -> dict[str, int]:
    return dict(
        SeatTypeSurcharge.objects.filter(cinema_id=cinema_id).values_list("seat_type", "amount")
    )


def quote(
    screening: Screening,
    wanted: list[tuple[int, int | str]],
    *,
    prices: dict[int, tuple[TicketType, int]] | None = None,
    extra: dict[str, int] | None = None,
    seats: dict[int, Seat] | None = None,
) -> Quote:
    """Price [(seat_id, ticket_type id or code)] for a screening. A caller that has already read
    the prices (`ticket_prices`), the surcharges or the seats passes them in."""
    cinema = screening.auditorium.cinema
    prices = ticket_prices(screening) if prices is None else prices
    by_code = {t.code: pk for pk, (t, _) in prices.items()}
    if seats is None:
        seats, read = seats_with_surcharges(cinema.pk, [seat_id for seat_id, _ in wanted])
        extra = read if extra is None else extra
    elif extra is None:
        extra = surcharges(cinema.pk)
    lines = []
    for seat_id, type_ref in wanted:
        type_id = by_code.get(type_ref) if isinstance(type_ref, str) else type_ref
        if type_id not in prices:
            raise errors.UnknownTicketType(ticket_type=type_ref, seat=seat_id)
        ticket_type, price = prices[type_id]
        seat = seats[seat_id]
        lines.append(PricedLine(seat, ticket_type, price, extra.get(seat.seat_type, 0)))
    subtotal = sum(line.price + line.surcharge for line in lines)
    fee = cinema.booking_fee * len(lines)
    if cinema.booking_fee_cap is not None:
        fee = min(fee, cinema.booking_fee_cap)
    return Quote(cinema.currency, lines, subtotal, fee, 0, subtotal + fee)
