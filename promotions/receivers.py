"""Promotions keep their records in step with orders, in the order's own transaction
(`ticketing.orders.signals`): orders do not know promotions exist."""

from __future__ import annotations

from django.dispatch import receiver

from ticketing.orders import signals

from . import redemptions


@receiver(signals.orders_ended)
def give_back_uses(sender, order_ids, status, **kwargs) -> None:
    redemptions.redemptions_release(order_ids=order_ids)


@receiver(signals.order_revived)
def count_again(sender, order, **kwargs) -> None:
    redemptions.redemption_revive(order=order)


@receiver(signals.tickets_refunded)
def give_back_ticket_discounts(sender, order, tickets, **kwargs) -> None:
    redemptions.tickets_discount_release(order=order, tickets=tickets)
