"""Placing an order, with its promo code: orders price it, promotions say what comes off each
ticket and count the code's use, in one transaction. A code refused for any reason (unknown,
expired, exhausted, not for these tickets, budget spent) leaves no order and the hold as it was.
"""

from __future__ import annotations

from django.db import transaction

from promotions import offers, redemptions
from ticketing.orders import services as orders
from ticketing.orders.models import Order


@transaction.atomic
def order_place(*, promo_code: str = "", customer_email: str, partner=None, **order) -> Order:
    """`orders.order_create` with the promo code priced by promotions and its use counted.
    Keywords are order_create's."""
    if not promo_code:
        return orders.order_create(customer_email=customer_email, partner=partner, **order)
    code = offers.code_find(promo_code)
    chosen: list[offers.Offer] = []

    def discounter(screening, quote):
        chosen.append(offers.offer_for(code, screening, quote))
        return chosen[-1].discounts

    placed = orders.order_create(
        customer_email=customer_email,
        partner=partner,
        promo_code=code.code,
        discounter=discounter,
        **order,
    )
    redemptions.redemption_create(
        order=placed, offer=chosen[-1], email=customer_email, partner=partner
    )
    return placed
