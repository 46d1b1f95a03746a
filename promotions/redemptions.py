"""Counting a promo code's uses: the only code that moves the counters limits are checked on.

Every limit is one conditional statement that changes the counter only when the limit allows
(invariants 5 and 10):
- the code's uses: `UPDATE ... SET uses = uses + 1 WHERE uses < max_uses`;
- the code's uses per email: `INSERT ... ON CONFLICT (code, email) DO UPDATE SET uses = uses + 1
  WHERE uses < limit RETURNING`, the same shape as the seat claim;
- the campaign's budget: `UPDATE ... SET spent = spent + d WHERE spent + d <= budget`.
A statement that changes no row is a refusal; the order's transaction then rolls back whole, so
nothing half-counted stays. Two buyers racing for a code's last use wait on each other's row
lock, and PostgreSQL re-checks the condition on the newer row: one wins.

Giving back is just as conditional: a redemption is released once (`released_at IS NULL`), and
only the release that flipped it moves the counters back.
"""

from __future__ import annotations

import logging

from django.db import connection
from django.db.models import F
from django.utils import timezone

from ticketing import errors
from ticketing.webhooks import events
from ticketing.webhooks.services import event_emit

from .models import Campaign, CodeEmailUse, PromoCode, Redemption
from .offers import Offer

log = logging.getLogger(__name__)

EMAIL_TABLE = CodeEmailUse._meta.db_table


def _email_key(email: str) -> str:
    return (email or "").strip().lower()


def _count_email_use(code: PromoCode, email: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {EMAIL_TABLE} (code_id, email, uses) VALUES (%s, %s, 1) "
            "ON CONFLICT (code_id, email) DO UPDATE SET uses = "
            f"{EMAIL_TABLE}.uses + 1 WHERE {EMAIL_TABLE}.uses < %s RETURNING uses",
            [code.pk, _email_key(email), code.max_uses_per_email],
        )
        return cursor.fetchone() is not None


def redemption_create(*, order, offer: Offer, email: str, partner=None) -> Redemption:
    """Count one use of the offer's code for this order, within every limit, or raise.
    Called in the order's transaction, after the order exists."""
    code, amount = offer.code, offer.total
    taken = PromoCode.objects.filter(pk=code.pk)
    if code.max_uses is not None:
        taken = taken.filter(uses__lt=code.max_uses)
    if not taken.update(uses=F("uses") + 1):
        raise errors.PromoExhausted(promo_code=code.code)
    if code.max_uses_per_email is not None and not _count_email_use(code, email):
        raise errors.PromoExhausted(
            "You have used this promo code as many times as one buyer may.",
            promo_code=code.code,
            per="email",
        )
    spent = Campaign.objects.filter(pk=code.campaign_id, spent__lte=F("budget") - amount)
    if not spent.update(spent=F("spent") + amount):
        raise errors.PromoBudgetSpent(promo_code=code.code)
    redemption = Redemption.objects.create(
        code=code,
        campaign_id=code.campaign_id,
        order=order,
        partner=partner,
        email=_email_key(email),
        discount=amount,
        funder=code.campaign.funder,
    )
    log.info("code %s used by order %s: %d off", code.code, order.code, amount)
    _warn_if_budget_low(code.campaign_id, amount)
    return redemption


BUDGET_LOW_SHARE = 0.1  # a campaign's partners are told when less than this is left


def _warn_if_budget_low(campaign_id: int, amount: int) -> None:
    """The use that took the budget below a tenth tells the studio and the platform (once)."""
    campaign = Campaign.objects.select_related("studio", "platform").get(pk=campaign_id)
    floor = campaign.budget * BUDGET_LOW_SHARE
    if not (campaign.budget_left < floor <= campaign.budget_left + amount):
        return
    for partner in filter(None, (campaign.studio, campaign.platform)):
        event_emit(
            partner=partner,
            type=events.CAMPAIGN_BUDGET_LOW,
            data={
                "campaign": campaign.pk,
                "budget": campaign.budget,
                "spent": campaign.spent,
                "currency": campaign.currency,
            },
            dedupe_key=f"{events.CAMPAIGN_BUDGET_LOW}:{campaign.pk}",
        )


def redemptions_release(*, order_ids: list) -> int:
    """Give back the uses of orders that ended unpaid or were refunded: the code's use, the
    email's use, and what is left of the discount to the budget. Once per redemption."""
    released = 0
    for redemption in Redemption.objects.filter(order_id__in=order_ids, released_at__isnull=True):
        if not Redemption.objects.filter(pk=redemption.pk, released_at__isnull=True).update(
            released_at=timezone.now()
        ):
            continue  # another release got there first
        PromoCode.objects.filter(pk=redemption.code_id, uses__gt=0).update(uses=F("uses") - 1)
        CodeEmailUse.objects.filter(
            code_id=redemption.code_id, email=redemption.email, uses__gt=0
        ).update(uses=F("uses") - 1)
        Campaign.objects.filter(pk=redemption.campaign_id).update(
            spent=F("spent") - redemption.discount
        )
        released += 1
    return released


def redemption_revive(*, order) -> None:
    """An expired order is paid after all: its use is counted again, within the limits, or
    `PromoLost` refuses the payment (which is then refunded, like one whose seats are gone)."""
    redemption = Redemption.objects.filter(order=order, released_at__isnull=False).first()
    if redemption is None:
        return
    code = PromoCode.objects.select_related("campaign").get(pk=redemption.code_id)
    taken = PromoCode.objects.filter(pk=code.pk)
    if code.max_uses is not None:
        taken = taken.filter(uses__lt=code.max_uses)
    ok = bool(taken.update(uses=F("uses") + 1))
    if ok and code.max_uses_per_email is not None:
        ok = _count_email_use(code, redemption.email)
    if ok:
        ok = bool(
            Campaign.objects.filter(
                pk=code.campaign_id, spent__lte=F("budget") - redemption.discount
            ).update(spent=F("spent") + redemption.discount)
        )
    if not ok:
        raise errors.PromoLost(order=str(order.pk), promo_code=code.code, seats=[])
    Redemption.objects.filter(pk=redemption.pk).update(released_at=None)


def tickets_discount_release(*, order, tickets) -> int:
    """Refunded tickets give their own discounts back to the budget (the use stays counted
    while any ticket of the order stands)."""
    amount = sum(t.discount for t in tickets)
    if not amount:
        return 0
    redemption = Redemption.objects.filter(order=order, released_at__isnull=True).first()
    if redemption is None:
        return 0
    amount = min(amount, redemption.discount)
    Redemption.objects.filter(pk=redemption.pk).update(discount=F("discount") - amount)
    Campaign.objects.filter(pk=redemption.campaign_id).update(spent=F("spent") - amount)
    return amount
