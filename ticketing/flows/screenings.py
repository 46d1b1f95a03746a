"""Cancelling a screening: sales stop at once, open holds and unpaid orders are given back,
and every paid order is refunded once, by Celery in batches (`flows.mass_refunds`).

One transaction, with the screening locked, marks it cancelled (new holds, orders and payments
refused from that instant), cancels its unpaid orders, releases its open holds, tells its
partners (`screening.cancelled`, once), records who did it and why in the audit log, and starts
the cancellation run: an item for each paid order. After commit the run's task refunds them.
Cancelling again (a second click, a retried request) changes nothing but queues the run again,
which resumes where it stopped.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db.models import Q

from ticketing.audit.services import audit_record
from ticketing.db import retry_on_conflict
from ticketing.inventory import holds, seatmap
from ticketing.orders import services as orders
from ticketing.partners.models import Partner
from ticketing.screenings import sales
from ticketing.screenings.models import ScreeningStatus
from ticketing.webhooks import events
from ticketing.webhooks.services import event_emit

from . import mass_refunds

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ScreeningCancelled:
    holds_released: int = 0
    orders_cancelled: int = 0
    already: bool = False
    run_id: int | None = None
    paid_orders: int = 0


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
def screening_cancel(
    *, screening_id: int, actor: str, reason: str = "", actor_name: str = ""
) -> ScreeningCancelled:
    """Cancel a screening and start refunding its paid orders. Running it twice is harmless:
    the second time it queues the same run again (`already`).

    The screening row is locked FOR UPDATE first: a payment deciding at this moment holds it
    FOR KEY SHARE (`sales.screening_refresh_for_sale`), so either its paid order is listed in
    the run here, or it reads `cancelled` and its money goes back (payments)."""
    screening = sales.screening_lock(screening_id)
    if screening.status == ScreeningStatus.CANCELLED:
        run = mass_refunds.run_start(
            screening=screening, actor=actor, actor_name=actor_name, reason=reason
        )
        mass_refunds.run_queue(run.pk)
        return ScreeningCancelled(already=True, run_id=run.pk)
    sales.screening_mark_cancelled(screening=screening)
    why = reason or "screening cancelled"
    cancelled = orders.orders_cancel_unpaid(screening_id=screening.pk, actor=actor, reason=why)
    released = holds.holds_release_for_screening(screening_id=screening.pk)
    seatmap.invalidate(screening.pk)
    _tell_partners(screening)
    run = mass_refunds.run_start(
        screening=screening, actor=actor, actor_name=actor_name, reason=reason
    )
    mass_refunds.run_counts_set(run=run, holds_released=released, unpaid_cancelled=cancelled)
    paid = run.items.count()
    cinema = screening.auditorium.cinema
    audit_record(
        action="screening.cancelled",
        summary=(
            f"{screening.film.title} at {cinema.name}, {screening.starts_at:%Y-%m-%d %H:%M} UTC, "
            f"cancelled: {paid} paid order(s) to refund, {cancelled} unpaid cancelled, "
            f"{released} hold(s) released" + (f" ({reason})" if reason else "")
        ),
        actor=actor,
        actor_name=actor_name,
        cinema_id=cinema.pk,
        obj=screening,
        changes={
            "status": [ScreeningStatus.SCHEDULED, ScreeningStatus.CANCELLED],
            "reason": reason,
        },
    )
    mass_refunds.run_queue(run.pk)
    log.info(
        "screening %s cancelled by %s: %d holds released, %d unpaid orders cancelled, "
        "%d paid orders to refund (run %s)",
        screening.pk,
        actor,
        released,
        cancelled,
        paid,
        run.pk,
    )
    return ScreeningCancelled(
        holds_released=released, orders_cancelled=cancelled, run_id=run.pk, paid_orders=paid
    )
