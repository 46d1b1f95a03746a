"""Cancelling a screening: sales stop at once, open holds and unpaid orders are given back.

A screening with paid orders is refused for now (`screening_has_paid_orders`): cancelling it
must refund every buyer once and tell each once, which the staff issue builds on top of this
(batches in Celery, progress, failed refunds listed). Until then staff refund those orders
first, from the admin.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db.models import Q

from ticketing import errors
from ticketing.db import retry_on_conflict
from ticketing.inventory import holds, seatmap
from ticketing.orders import services as orders
from ticketing.partners.models import Partner
from ticketing.screenings import sales
from ticketing.screenings.models import ScreeningStatus
from ticketing.webhooks import events
from ticketing.webhooks.services import event_emit

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ScreeningCancelled:
    holds_released: int = 0
    orders_cancelled: int = 0
    already: bool = False


def _tell_partners(screening) -> None:
    """Every partner with an order or seats set aside on the screening is told once."""
    for partner in Partner.objects.filter(
        Q(orders__screening=screening) | Q(allocations__screening=screening)
    ).distinct():
        event_emit(
            partner=partner,
            type=events.SCREENING_CANCELLED,
            data={"screening": screening.pk, "starts_at": screening.starts_at.isoformat()},
            dedupe_key=f"{events.SCREENING_CANCELLED}:{screening.pk}",
        )


@retry_on_conflict()
def screening_cancel(*, screening_id: int, actor: str, reason: str = "") -> ScreeningCancelled:
    """Cancel a screening that has no paid order. Running it twice is harmless.

    The screening row is locked FOR UPDATE first: a payment deciding at this moment holds it
    FOR KEY SHARE (`sales.screening_refresh_for_sale`), so either its paid order is counted
    here, or it reads `cancelled` and its money goes back."""
    screening = sales.screening_lock(screening_id)
    if screening.status == ScreeningStatus.CANCELLED:
        return ScreeningCancelled(already=True)
    paid = orders.paid_count(screening_id=screening.pk)
    if paid:
        raise errors.ScreeningHasPaidOrders(screening=screening.pk, paid_orders=paid)
    sales.screening_mark_cancelled(screening=screening)
    why = reason or "screening cancelled"
    cancelled = orders.orders_cancel_unpaid(screening_id=screening.pk, actor=actor, reason=why)
    released = holds.holds_release_for_screening(screening_id=screening.pk)
    seatmap.invalidate(screening.pk)
    _tell_partners(screening)
    log.info(
        "screening %s cancelled by %s: %d holds released, %d unpaid orders cancelled",
        screening.pk,
        actor,
        released,
        cancelled,
    )
    return ScreeningCancelled(holds_released=released, orders_cancelled=cancelled)
