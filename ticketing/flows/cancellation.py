"""What cancelling an order means, decided in one place with the order locked.

An order nobody has paid for is simply cancelled (orders). A paid order whose money a payment
provider took is refunded through it, per the cinema's policy (payments), which voids its
tickets and frees its seats (orders, inventory). An order its partner settled is cancelled, and
the partner refunds its own customer. The lock comes first because a payment's webhook may be
committing for the same order at this very moment.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from payments import refunds
from ticketing import errors
from ticketing.orders import services as orders
from ticketing.orders.models import Order, OrderStatus, PaidVia


@transaction.atomic
def order_cancel_or_refund(*, order_id, actor: str, reason: str = "") -> Order:
    """A buyer's or partner's "cancel": a paid order of ours is refunded per the cinema's
    policy; any other order is cancelled by the orders service."""
    order = orders.order_lock(order_id)
    if order.status == OrderStatus.PAID and order.paid_via == PaidVia.PROVIDER:
        return order_refund_for_buyer(order=order, actor=actor, reason=reason)
    return orders.order_cancel(order_id=order.pk, actor=actor, reason=reason)


def order_refund_for_buyer(*, order: Order, actor: str, reason: str = "") -> Order:
    """A buyer cancels a paid order: refunded up to the cinema's cutoff before the start (409
    `cancellation_closed` after); the booking fee comes back only if the cinema says so
    (`refund_booking_fee`). Called with the order locked."""
    cinema = order.screening.auditorium.cinema
    closes = order.screening.starts_at - timedelta(minutes=cinema.cancellation_cutoff_minutes)
    if timezone.now() >= closes:
        raise errors.CancellationClosed(
            order=str(order.pk),
            closed_at=closes.isoformat(),
            cutoff_minutes=cinema.cancellation_cutoff_minutes,
        )
    refunds.refund_create(
        order_id=order.pk,
        actor=actor,
        reason=reason or "cancelled by the buyer",
        booking_fee=cinema.refund_booking_fee,
    )
    order.refresh_from_db()
    return order
