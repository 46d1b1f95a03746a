"""Holding and placing an order where promotions have a say.

- `hold_place`: a hold, opened early by a campaign's presale for its code holders and its
  partners' keys (`promotions.presales`); the hold service decides the rest.
- `order_place`: orders price it, promotions say what comes off each ticket and count the code's
  use, in one transaction. A code refused for any reason (unknown, expired, exhausted, not for
  these tickets, budget spent) leaves no order and the hold as it was.
- In an onsale (`onsale.selectors.onsale_for_screening`), both count the buyer's tickets against
  the onsale's per-buyer limit in the same transaction (`onsale.limits`): a refusal
  (`onsale_limit_reached`) leaves no hold, or no order and the hold as it was. Partners are not
  counted: they sell to many buyers through their allocations.
"""

from __future__ import annotations

from promotions import offers, presales, redemptions
from ticketing import errors
from ticketing.db import retry_on_conflict
from ticketing.inventory import holds
from ticketing.inventory.models import Hold
from ticketing.onsale import limits
from ticketing.onsale import selectors as onsales
from ticketing.orders import services as orders
from ticketing.orders.models import Order
from ticketing.screenings.models import Screening


def _onsale_of(screening_id, partner):
    if partner is not None:
        return None  # partners sell through their allocations: not queued, not counted
    try:
        return onsales.onsale_for_screening(int(screening_id))
    except (TypeError, ValueError):
        return None


def hold_place(
    *,
    screening_id: int,
    promo_code: str = "",
    partner=None,
    replace: bool = False,
    waiter_id: str = "",
    user=None,
    **hold,
) -> Hold:
    """`holds.hold_create` (or `hold_replace` for a browser buyer choosing again) with the
    presale this buyer has. The presale is looked up only when it matters: a code was given
    (it is checked at once), or a partner was refused because general sale has not opened.

    In an onsale, the hold's tickets count for the buyer's browser (`waiter_id`, else the
    session's buyer key) and account (`user`) in the hold's transaction, or nothing is held."""
    onsale = _onsale_of(screening_id, partner)
    if onsale is None:
        return _hold_place(
            screening_id=screening_id,
            promo_code=promo_code,
            partner=partner,
            replace=replace,
            **hold,
        )
    return _hold_counted(
        onsale,
        waiter_id,
        user,
        screening_id=screening_id,
        promo_code=promo_code,
        partner=partner,
        replace=replace,
        **hold,
    )


@retry_on_conflict()
def _hold_counted(onsale, waiter_id, user, **hold) -> Hold:
    placed = _hold_place(**hold)
    limits.charge_hold(
        onsale=onsale,
        hold=placed,
        waiter_id=waiter_id,
        buyer_key=hold.get("buyer_key", ""),
        user=user,
    )
    return placed


def _hold_place(*, screening_id, promo_code, partner, replace, **hold) -> Hold:
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
    Keywords are order_create's (and `waiter_id`, the browser's admission in an onsale). One
    transaction, run again whole if the database picks it as a deadlock victim."""
    return _order_counted(
        promo_code=promo_code, customer_email=customer_email, partner=partner, **order
    )


@retry_on_conflict()
def _order_counted(*, promo_code: str, customer_email: str, partner, waiter_id="", **order):
    """The order, and in an onsale its tickets counted for the buyer, in one transaction (run
    again whole if the database picks it as a deadlock victim)."""
    if promo_code:
        placed = _order_with_code(
            promo_code=promo_code, customer_email=customer_email, partner=partner, **order
        )
    else:
        placed = orders.order_create(customer_email=customer_email, partner=partner, **order)
    onsale = _onsale_of(placed.screening_id, partner)
    if onsale is not None:
        limits.charge_order(
            onsale=onsale,
            order=placed,
            waiter_id=waiter_id,
            buyer_key=order.get("buyer_key", ""),
            user=order.get("user"),
        )
    return placed


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
