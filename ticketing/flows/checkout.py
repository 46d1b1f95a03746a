"""Holding and placing an order where promotions have a say.

- `hold_place`: a hold, opened early by a campaign's presale for its code holders and its
  partners' keys (`promotions.presales`); the hold service decides the rest.
- `order_place`: orders price it, promotions say what comes off each ticket and count the code's
  use, in one transaction. A code refused for any reason (unknown, expired, exhausted, not for
  these tickets, budget spent) leaves no order and the hold as it was.
"""

from __future__ import annotations

from django.db import transaction

from promotions import offers, presales, redemptions
from ticketing import errors
from ticketing.inventory import holds
from ticketing.inventory.models import Hold
from ticketing.orders import services as orders
from ticketing.orders.models import Order
from ticketing.screenings.models import Screening


def hold_place(
    *, screening_id: int, promo_code: str = "", partner=None, replace: bool = False, **hold
) -> Hold:
    """`holds.hold_create` (or `hold_replace` for a browser buyer choosing again) with the
    presale this buyer has. The presale is looked up only when it matters: a code was given
    (it is checked at once), or a partner was refused because general sale has not opened."""
    place = holds.hold_replace if replace else holds.hold_create

    def opening():
        screening = Screening.objects.select_related("auditorium__cinema").filter(pk=screening_id)
        if not screening:
            raise errors.ScreeningNotFound(screening=screening_id)
        return presales.presale_opening(
            screening=screening[0], partner=partner, promo_code=promo_code
        )

    if promo_code:
        return place(screening_id=screening_id, partner=partner, opens_at=opening(), **hold)
    try:
        return place(screening_id=screening_id, partner=partner, **hold)
    except errors.ScreeningNotOnSale as refused:
        if partner is None or refused.details.get("reason") != "outside_sales_window":
            raise
        opens_at = opening()
        if opens_at is None:
            raise
        return place(screening_id=screening_id, partner=partner, opens_at=opens_at, **hold)


def order_place(*, promo_code: str = "", customer_email: str, partner=None, **order) -> Order:
    """`orders.order_create` with the promo code priced by promotions and its use counted.
    Keywords are order_create's. Without a code, order_create's own transaction is the whole
    of it (a deadlock victim is then run again, which a transaction around it would forbid)."""
    if not promo_code:
        return orders.order_create(customer_email=customer_email, partner=partner, **order)
    with transaction.atomic():
        return _order_with_code(
            promo_code=promo_code, customer_email=customer_email, partner=partner, **order
        )


def _order_with_code(*, promo_code: str, customer_email: str, partner, **order) -> Order:
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
