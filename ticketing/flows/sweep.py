"""Sweeping what has died: unpaid orders past their time, claims past theirs, dead holds.

Correctness never waits for this: every read and write already ignores a dead claim. The sweep
keeps the tables small and moves unpaid orders to `expired`. Each step is its owner's service,
in batches of set-based statements that skip rows another transaction holds, so it never stalls
a sale. Orders go first: their dead claims leave with them; then the payments still open for
orders that closed (their provider pages are expired through the outbox); then whatever else has
died.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.utils import timezone

from payments import services as payments
from ticketing.inventory import allocations, claims, holds
from ticketing.onsale import limits as onsale_limits
from ticketing.orders import services as orders

log = logging.getLogger(__name__)


@dataclass
class SweepResult:
    claims_deleted: int = 0
    orders_expired: int = 0
    payments_closed: int = 0
    allocations_released: int = 0


def sweep(*, batch_size: int | None = None) -> SweepResult:
    now = timezone.now()
    result = SweepResult()
    result.orders_expired = orders.orders_expire_due(now=now, batch_size=batch_size)
    # Their payments' pages (and those of orders cancelled since) close after the orders.
    result.payments_closed = payments.payments_close_for_closed_orders(batch_size=batch_size)
    result.claims_deleted = claims.sweep_dead(now=now, batch_size=batch_size)
    holds.holds_close_dead(now=now)
    # Dead holds give their tickets back to the onsale's per-buyer tallies (one statement).
    onsale_limits.charges_return_dead(now=now)
    result.allocations_released = allocations.allocations_tell_released(now=now)
    if result.claims_deleted or result.orders_expired or result.payments_closed:
        log.info(
            "sweep: %d dead claims deleted, %d orders expired, %d payments closed",
            result.claims_deleted,
            result.orders_expired,
            result.payments_closed,
        )
    return result
