"""Sweeping what has died: claims past their time, and unpaid orders past theirs.

Correctness never waits for this: every read and write already ignores a dead claim. The sweep
keeps the tables small and moves unpaid orders to `expired`. It works in batches of set-based
statements and skips rows another transaction holds, so it never stalls a sale.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from .models import Hold, HoldStatus, SeatClaim

log = logging.getLogger(__name__)


@dataclass
class SweepResult:
    claims_deleted: int = 0
    orders_expired: int = 0


def _locking(qs):
    if connection.features.has_select_for_update_skip_locked:
        return qs.select_for_update(skip_locked=True)
    return qs


def sweep_dead_claims(*, batch_size: int | None = None, now=None) -> int:
    """Delete claims whose hold or order has run out, a batch per transaction."""
    batch_size = batch_size or settings.MARQUEE["SWEEP_BATCH_SIZE"]
    now = now or timezone.now()
    total = 0
    while True:
        with transaction.atomic():
            ids = list(
                _locking(SeatClaim.objects.filter(expires_at__lte=now))
                .order_by("id")
                .values_list("id", flat=True)[:batch_size]
            )
            if not ids:
                break
            deleted, _ = SeatClaim.objects.filter(id__in=ids, expires_at__lte=now).delete()
            total += deleted
        if len(ids) < batch_size:
            break
    return total


def close_dead_holds(*, now=None) -> int:
    """Holds past their time that never became orders: mark them expired, one statement."""
    from ticketing.orders.models import Order

    now = now or timezone.now()
    # NOT EXISTS rather than `order__isnull`: Django turns a join into `id IN (subquery)`, and
    # PostgreSQL does not re-check a subquery after waiting for a row lock, so a hold becoming an
    # order at that moment would be marked expired. Conditions on the row itself are re-checked.
    has_order = Order.objects.filter(hold_id=OuterRef("pk"))
    return Hold.objects.filter(
        ~Exists(has_order), status=HoldStatus.ACTIVE, expires_at__lte=now
    ).update(status=HoldStatus.EXPIRED)


def sweep(*, batch_size: int | None = None) -> SweepResult:
    from ticketing.orders.services import orders_expire_due

    now = timezone.now()
    result = SweepResult()
    result.orders_expired = orders_expire_due(now=now, batch_size=batch_size)
    result.claims_deleted = sweep_dead_claims(batch_size=batch_size, now=now)
    close_dead_holds(now=now)
    if result.claims_deleted or result.orders_expired:
        log.info(
            "sweep: %d dead claims deleted, %d orders expired",
            result.claims_deleted,
            result.orders_expired,
        )
    return result
