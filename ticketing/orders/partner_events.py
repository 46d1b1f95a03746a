"""What an order's partner is told by webhook when its order is paid, cancelled or refunded,
written in the transaction of the change (ticketing/webhooks sends it after commit)."""

from __future__ import annotations

from ticketing.webhooks import events
from ticketing.webhooks.services import event_emit

from .models import Order, OrderStatus

TYPES = {
    OrderStatus.PAID: events.ORDER_PAID,
    OrderStatus.CANCELLED: events.ORDER_CANCELLED,
    OrderStatus.REFUNDED: events.ORDER_REFUNDED,
}


def order_data(order: Order) -> dict:
    return {
        "order": str(order.pk),
        "code": order.code,
        "status": order.status,
        "screening": order.screening_id,
        "total": order.total,
        "discount": order.discount,
        "currency": order.currency,
        "partner_reference": order.partner_reference,
    }


def tell_partner(order: Order) -> None:
    kind = TYPES.get(order.status)
    if kind is None or order.partner_id is None:
        return
    event_emit(
        partner=order.partner,
        type=kind,
        data=order_data(order),
        dedupe_key=f"{kind}:{order.pk}",
    )
