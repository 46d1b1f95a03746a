"""A cancelled screening's refunds: every paid order given back once, in batches, by Celery.

`flows.screenings.screening_cancel` stops sales and, in the same transaction, starts a run
(`run_start`): one `CancellationItem` per order paid at that moment. The task
`flows.tasks.cancellation_refunds` then takes the run's pending items a batch at a time
(`MARQUEE_CANCEL_BATCH_SIZE`, 50) and settles each order in its own transaction, with the item's
row locked (`FOR UPDATE SKIP LOCKED`, so two workers on one run never take the same order):

- paid through a provider: refunded in full, booking fee included, tickets used at the door too
  (the film did not happen), through `payments.refunds.refund_create`; the buyer gets one email
  in their language (outbox topic `order.screening_cancelled`, deduplicated per order) and the
  order's partner, if any, its `order.refunded` webhook (the orders service);
- settled by its partner (`paid_via` partner) or recorded without a payment: cancelled, as
  `flows.cancellation` decides for any order not paid through us; the partner is told by its
  `order.cancelled` webhook and refunds its own customer, so we do not email that buyer;
- already refunded or cancelled by someone else meanwhile (a buyer's cancel, staff in the admin):
  left as it is (`already`).

The item leaves `pending` in the transaction that refunds its order: a worker killed at any
moment leaves the item pending and the order paid (the transaction rolled back), and the next
run of the task does it again, asking the provider under the same idempotency key (derived from
the payment's state by `refund_create`), so the provider never pays twice. Running the task
twice, or at once on two workers, or cancelling again, does each order once.

A refund the provider refuses is kept FAILED (`refund_create(keep_refusal=True)`): the tickets
are void, the buyer is still owed, and the item is `failed` with the provider's reason. A
provider that cannot be reached (an exception, no answer) changes nothing but the item, which
is `failed` with the error. Either way the rest of the run goes on; staff see the failed ones
on the run's page and retry them (`item_retry`, `items_retry_failed`): a refused refund is asked
again under a new key (`refund_retry`), an unanswered one under the same key. The buyer is
emailed when their money is on its way, once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Exists, F, OuterRef, Q, Sum
from django.utils import timezone

from payments import refunds
from payments.models import Refund, RefundStatus
from ticketing import errors
from ticketing.audit.services import audit_record
from ticketing.orders import services as orders
from ticketing.orders.models import Order, OrderStatus, PaidVia
from ticketing.outbox.services import message_add
from ticketing.outbox.topics import SCREENING_CANCELLED_TOPIC

from .models import DONE, CancellationItem, CancellationRun, ItemStatus

log = logging.getLogger(__name__)

STALLED_AFTER = timedelta(minutes=2)  # a run with work left and no batch for this long resumes


def batch_size() -> int:
    return max(1, int(getattr(settings, "MARQUEE_CANCEL_BATCH_SIZE", 50)))


# ---- starting a run (inside screening_cancel's transaction) --------------------------------
def run_start(*, screening, actor: str, actor_name: str = "", reason: str = "") -> CancellationRun:
    """The screening's run (made once: one per screening) with an item for each order paid now.
    Called with the screening locked FOR UPDATE and already marked cancelled, so no order can
    become paid after this (a late payment reads `cancelled` and is refunded by payments)."""
    run, _ = CancellationRun.objects.get_or_create(
        screening=screening,
        defaults={"actor": actor[:80], "actor_name": actor_name[:150], "reason": reason[:200]},
    )
    paid = Order.objects.filter(screening_id=screening.pk, status=OrderStatus.PAID).values_list(
        "pk", flat=True
    )
    # The unique (run, order) row decides: an order already listed is not listed twice.
    CancellationItem.objects.bulk_create(
        [CancellationItem(run=run, order_id=pk) for pk in paid], ignore_conflicts=True
    )
    return run


def run_counts_set(*, run: CancellationRun, holds_released: int, unpaid_cancelled: int) -> None:
    CancellationRun.objects.filter(pk=run.pk).update(
        holds_released=F("holds_released") + holds_released,
        unpaid_cancelled=F("unpaid_cancelled") + unpaid_cancelled,
    )


def run_queue(run_id: int) -> None:
    """Queue the run's task after commit; a broker that is down leaves it to beat's resume."""

    def send():
        from .tasks import cancellation_refunds

        try:
            cancellation_refunds.apply_async(args=[run_id], retry=False)
        except Exception as exc:  # the broker: beat resumes the run later
            log.warning("cancellation run %s waits for beat: broker unavailable (%s)", run_id, exc)

    transaction.on_commit(send)


# ---- the task's work -----------------------------------------------------------------------
def batch_process(*, run_id: int, size: int | None = None) -> int:
    """Settle up to `size` pending orders of the run; how many this call settled (0: nothing
    left to it, or what is left is in another worker's hands right now)."""
    run = CancellationRun.objects.filter(pk=run_id).first()
    if run is None:
        return 0
    ids = list(
        CancellationItem.objects.filter(run_id=run_id, status=ItemStatus.PENDING)
        .order_by("pk")
        .values_list("pk", flat=True)[: size or batch_size()]
    )
    done = sum(1 for item_id in ids if item_process(item_id=item_id, run=run) is not None)
    CancellationRun.objects.filter(pk=run_id).update(last_batch_at=timezone.now())
    run_finish_if_done(run_id=run_id)
    return done


def item_process(
    *, item_id: int, run: CancellationRun, actor: str = "", actor_name: str = ""
) -> str | None:
    """Settle one order of the run, if its item is pending and no other worker has it. Returns
    the item's new status (None: not ours to do). Whatever goes wrong is recorded on the item
    (`failed`, with the reason), never dropped."""
    if not actor:
        actor, actor_name = run.actor, run.actor_name
    try:
        with transaction.atomic():
            item = (
                CancellationItem.objects.select_for_update(skip_locked=True)
                .filter(pk=item_id, status=ItemStatus.PENDING)
                .first()
            )
            if item is None:
                return None
            return _settle(item, run=run, actor=actor, actor_name=actor_name)
    except errors.DomainError as exc:
        reason = f"{exc.code}: {exc.message}"
    except Exception as exc:  # a provider that did not answer, whatever it raised
        log.exception("cancellation run %s: order of item %s not refunded", run.pk, item_id)
        reason = f"provider unreachable or error: {type(exc).__name__}: {exc}"
    moved = CancellationItem.objects.filter(pk=item_id, status=ItemStatus.PENDING).update(
        status=ItemStatus.FAILED,
        failure_reason=reason[:200],
        attempts=F("attempts") + 1,
        updated_at=timezone.now(),
    )
    return ItemStatus.FAILED if moved else None


def _settle(
    item: CancellationItem, *, run: CancellationRun, actor: str, actor_name: str = ""
) -> str:
    order = orders.order_lock(item.order_id)
    why = f"screening cancelled: {run.reason}" if run.reason else "screening cancelled"
    if item.refund_id is not None:
        return _retry_refused(item, order=order, actor=actor, actor_name=actor_name)
    if order.status != OrderStatus.PAID:
        return _item_done(item, ItemStatus.ALREADY)
    if order.paid_via == PaidVia.PROVIDER:
        refund = refunds.refund_create(
            order_id=order.pk,
            actor=actor,
            actor_name=actor_name,
            reason=why,
            booking_fee=True,
            checked_in_too=True,
            tell_buyer=False,
            keep_refusal=True,
        )
        return _refund_outcome(item, order=order, refund=refund)
    orders.order_cancel(order_id=order.pk, actor=actor, reason=why)
    if order.paid_via != PaidVia.PARTNER:
        _tell_buyer(order, amount=0)  # nothing was paid to give back; the partner tells its own
    return _item_done(item, ItemStatus.CANCELLED)


def _retry_refused(
    item: CancellationItem, *, order: Order, actor: str, actor_name: str = ""
) -> str:
    """An order whose refund the provider refused: ask again under a new key (a retry made
    from the admin meanwhile is followed, not asked again)."""
    latest = _latest(Refund.objects.get(pk=item.refund_id))
    if latest.status == RefundStatus.FAILED:
        latest = refunds.refund_retry(refund_id=latest.pk, actor=actor, actor_name=actor_name)
    return _refund_outcome(item, order=order, refund=latest)


def _latest(refund: Refund) -> Refund:
    while (retry := refund.retries.order_by("-created_at").first()) is not None:
        refund = retry
    return refund


def _refund_outcome(item: CancellationItem, *, order: Order, refund: Refund) -> str:
    if refund.status == RefundStatus.FAILED:
        return _item_done(
            item,
            ItemStatus.FAILED,
            refund=refund,
            failure_reason=f"refused by the provider: {refund.failure_reason or 'refused'}",
            attempts=F("attempts") + 1,
        )
    _tell_buyer(order, amount=refund.amount, currency=refund.currency)
    return _item_done(
        item,
        ItemStatus.REFUNDED,
        refund=refund,
        amount=refund.amount,
        currency=refund.currency,
        failure_reason="",
    )


def _item_done(item: CancellationItem, status: str, **fields) -> str:
    """The item's one move out of `pending`, under its row lock: conditional all the same."""
    moved = CancellationItem.objects.filter(pk=item.pk, status=ItemStatus.PENDING).update(
        status=status, updated_at=timezone.now(), **fields
    )
    if not moved:
        raise errors.OrderStateConflict(
            "This order's refund was settled meanwhile.", item=item.pk, status="changed"
        )
    return status


def _tell_buyer(order: Order, *, amount: int, currency: str = "") -> None:
    """One email per order, whatever the retries (the outbox's dedupe key)."""
    message_add(
        topic=SCREENING_CANCELLED_TOPIC,
        dedupe_key=f"{SCREENING_CANCELLED_TOPIC}:{order.pk}",
        payload={
            "order_id": str(order.pk),
            "amount": amount,
            "currency": currency or order.currency,
        },
    )


def run_finish_if_done(*, run_id: int) -> bool:
    """Mark the run finished once no order is left pending (failed ones may remain)."""
    pending = CancellationItem.objects.filter(run_id=OuterRef("pk"), status=ItemStatus.PENDING)
    finished = (
        CancellationRun.objects.filter(pk=run_id, finished_at__isnull=True)
        .exclude(Exists(pending))
        .update(finished_at=timezone.now())
    )
    if finished:
        log.info("cancellation run %s finished: %s", run_id, run_progress(run_id=run_id))
    return bool(finished)


def has_pending(*, run_id: int) -> bool:
    return CancellationItem.objects.filter(run_id=run_id, status=ItemStatus.PENDING).exists()


def runs_stalled(*, now=None) -> list[int]:
    """Runs with orders left and no batch for a while (a worker killed, a broker that was
    down): beat queues them again. Queuing a run twice is harmless."""
    now = now or timezone.now()
    pending = CancellationItem.objects.filter(run_id=OuterRef("pk"), status=ItemStatus.PENDING)
    return list(
        CancellationRun.objects.filter(
            Exists(pending),
            Q(last_batch_at__lt=now - STALLED_AFTER)
            | Q(last_batch_at__isnull=True, started_at__lt=now - STALLED_AFTER),
        ).values_list("pk", flat=True)[:100]
    )


# ---- staff: retrying what failed -----------------------------------------------------------
def _retry_refused_error(item_id) -> errors.RefundNotAllowed:
    return errors.RefundNotAllowed(
        "Only a refund that failed can be retried; this one is done or on its way.",
        item=str(item_id),
    )


def item_retry(*, item_id: int, run_id: int, user) -> str:
    """Staff ask again for one failed refund of a run, now, in their request."""
    actor = f"user:{user.pk}"
    with transaction.atomic():
        moved = CancellationItem.objects.filter(
            pk=item_id, run_id=run_id, status=ItemStatus.FAILED
        ).update(status=ItemStatus.PENDING, updated_at=timezone.now())
        if not moved:
            raise _retry_refused_error(item_id)
        run = CancellationRun.objects.select_related("screening__auditorium").get(pk=run_id)
        item = CancellationItem.objects.select_related("order").get(pk=item_id)
        audit_record(
            action="screening.cancellation_refund_retried",
            summary=f"{item.order.code}: refund retried ({item.failure_reason})",
            user=user,
            cinema_id=run.screening.auditorium.cinema_id,
            obj=item.order,
        )
    status = (
        item_process(item_id=item_id, run=run, actor=actor, actor_name=user.get_username())
        or ItemStatus.PENDING
    )
    run_finish_if_done(run_id=run_id)
    return status


def items_retry_failed(*, run_id: int, user) -> int:
    """Staff ask again for every failed refund of a run: back to pending, for the task."""
    with transaction.atomic():
        run = CancellationRun.objects.select_related("screening__auditorium").get(pk=run_id)
        count = CancellationItem.objects.filter(run_id=run_id, status=ItemStatus.FAILED).update(
            status=ItemStatus.PENDING, updated_at=timezone.now()
        )
        if count:
            CancellationRun.objects.filter(pk=run_id).update(finished_at=None)
            audit_record(
                action="screening.cancellation_refunds_retried",
                summary=f"{count} failed refund(s) of the cancellation asked for again",
                user=user,
                cinema_id=run.screening.auditorium.cinema_id,
                obj=run.screening,
            )
            run_queue(run_id)
    return count


# ---- reading a run -------------------------------------------------------------------------
@dataclass(frozen=True)
class Progress:
    total: int
    refunded: int
    cancelled: int
    already: int
    failed: int
    left: int
    amount: int
    finished: bool

    @property
    def done(self) -> int:
        return self.refunded + self.cancelled + self.already

    @property
    def settled(self) -> int:
        """Orders no longer waiting: done or failed."""
        return self.total - self.left

    @property
    def percent(self) -> int:
        return 100 if not self.total else (100 * (self.total - self.left)) // self.total

    def as_dict(self) -> dict:
        return {
            "total": self.total,
            "refunded": self.refunded,
            "cancelled": self.cancelled,
            "already": self.already,
            "failed": self.failed,
            "left": self.left,
            "done": self.done,
            "settled": self.settled,
            "percent": self.percent,
            "amount_refunded": self.amount,
            "finished": self.finished,
        }


def run_progress(*, run_id: int) -> Progress:
    """The run's counts in one grouped query (plus the run's own row)."""
    rows = (
        CancellationItem.objects.filter(run_id=run_id)
        .values("status")
        .annotate(n=Count("pk"), amount=Sum("amount"))
    )
    by = {row["status"]: row for row in rows}

    def n(status):
        return by.get(status, {}).get("n", 0)

    finished = CancellationRun.objects.filter(pk=run_id, finished_at__isnull=False).exists()
    return Progress(
        total=sum(row["n"] for row in by.values()),
        refunded=n(ItemStatus.REFUNDED),
        cancelled=n(ItemStatus.CANCELLED),
        already=n(ItemStatus.ALREADY),
        failed=n(ItemStatus.FAILED),
        left=n(ItemStatus.PENDING),
        amount=sum((by.get(s, {}).get("amount") or 0) for s in DONE),
        finished=finished,
    )


def items_failed(*, run_id: int):
    return (
        CancellationItem.objects.filter(run_id=run_id, status=ItemStatus.FAILED)
        .select_related("order")
        .order_by("pk")
    )
