"""Many paid orders at once, for the tests of cancelling a screening with mass refunds.

Built set-based (a few bulk inserts), as the orders and payments services would have left them:
each order paid through the sandbox provider (a succeeded payment of its total), its seats sold
(a claim with no expiry), its tickets standing. Three hundred orders take well under a second.
"""

from __future__ import annotations

import itertools
from datetime import timedelta

from django.utils import timezone

from payments.models import Payment, PaymentStatus
from tests import factories
from ticketing.inventory.models import SeatClaim
from ticketing.orders import codes
from ticketing.orders.models import Order, OrderStatus, PaidVia, Ticket
from ticketing.screenings.models import Screening, TicketType

LANGUAGES = ("en", "fr", "zh-hans")
_batch = itertools.count(1)


def big_screening(cinema, *, seats: int = 320, starts_in=timedelta(days=2), **kw) -> Screening:
    per_row = 20
    room = factories.auditorium(cinema, rows=-(-seats // per_row), per_row=per_row)
    return factories.screening(room, starts_in=starts_in, **kw)


def paid_orders(
    screening: Screening,
    count: int,
    *,
    paid_via: str = PaidVia.PROVIDER,
    partner=None,
    offset: int = 0,
) -> list[Order]:
    """`count` orders of one adult ticket each on the screening's seats from `offset` on, paid
    (through the sandbox when `paid_via` is provider), buyers' languages in turn en, fr,
    zh-hans, each buyer's email unique (buyer-<batch>-<n>@example.com)."""
    batch = next(_batch)
    adult = TicketType.objects.get(cinema=screening.auditorium.cinema, code="adult")
    seats = list(screening.auditorium.seats.order_by("pk")[offset : offset + count])
    assert len(seats) == count, "not enough seats"
    now = timezone.now()
    fee = screening.auditorium.cinema.booking_fee
    orders = Order.objects.bulk_create(
        [
            Order(
                code=codes.order_code(),
                screening=screening,
                partner=partner,
                customer_email=f"buyer-{batch}-{n}@example.com",
                customer_name=f"Buyer {n}",
                language=LANGUAGES[n % len(LANGUAGES)],
                status=OrderStatus.PAID,
                currency="EUR",
                subtotal=adult.price,
                booking_fee=fee,
                total=adult.price + fee,
                partner_reference=f"ref-{batch}-{n}" if paid_via == PaidVia.PARTNER else "",
                expires_at=now + timedelta(minutes=10),
                paid_at=now,
                paid_via=paid_via,
            )
            for n in range(count)
        ]
    )
    Ticket.objects.bulk_create(
        Ticket(
            order=order,
            seat=seat,
            ticket_type=adult,
            ticket_type_name=adult.name,
            seat_label=f"{seat.row_label}{seat.number}",
            seat_type=seat.seat_type,
            price=adult.price,
            code=codes.ticket_code(),
        )
        for order, seat in zip(orders, seats, strict=True)
    )
    SeatClaim.objects.bulk_create(
        SeatClaim(screening=screening, seat=seat, order=order, expires_at=None)
        for order, seat in zip(orders, seats, strict=True)
    )
    if paid_via == PaidVia.PROVIDER:
        Payment.objects.bulk_create(
            Payment(
                order=order,
                provider="sandbox",
                provider_ref=f"sbx_pay_bulk{batch}x{n}",
                amount=order.total,
                currency=order.currency,
                status=PaymentStatus.SUCCEEDED,
                captured_amount=order.total,
                captured_currency=order.currency,
            )
            for n, order in enumerate(orders)
        )
    return orders
