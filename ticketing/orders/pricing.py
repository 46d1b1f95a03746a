"""Pricing an order on the server: ticket type price (screening override or cinema list price),
seat-type surcharge, booking fee per ticket with an optional cap per order, and a discount per
ticket with who funds it (a promo code's, computed by promotions). Integer minor units.

A discount belongs to a ticket, not to the order: refunding one ticket gives back exactly its
own discount, and settlement knows who funded each."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

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
    """{ticket_type_id: (ticket type, price)} of the active ticket types for a screening."""
    types = TicketType.objects.filter(cinema_id=screening.auditorium.cinema_id, is_active=True)
    overrides = dict(
        ScreeningPrice.objects.filter(screening=screening).values_list("ticket_type_id", "price")
    )
    return {t.pk: (t, overrides.get(t.pk, t.price)) for t in types}


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
    extra = surcharges(cinema.pk) if extra is None else extra
    if seats is None:
        seats = Seat.objects.in_bulk([seat_id for seat_id, _ in wanted])
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
