"""Giving money back: refunds of whole orders or single tickets (staff, and buyers cancelling
through `ticketing.flows.cancellation`), the automatic refund of a payment that could not buy
its seats, and what happens when the provider does not pay a refund back.

A refund goes through the payment's provider with an idempotency key derived from the locked
payment's state (its refunds so far, the amount, the tickets), so a transaction retried after
the provider answered never refunds twice. Refunded tickets
give their seats back to sale at once (the orders service voids them and releases their claims in
the same transaction).

A refund the provider fails, at once (an automatic refund inside a webhook) or later (its
`refund.failed` event), is recorded FAILED with the provider's reason; the payment reads
`refund_failed` and the order's history says so. Nothing is taken back from anyone (the seats
may have been sold again): the buyer is still owed the money, and staff ask the provider again
with `refund_retry`, a new refund under a new idempotency key (the provider remembers the old
key's failure).
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from ticketing import errors
from ticketing.audit.services import audit_record
from ticketing.money import format_money
from ticketing.orders import services as orders
from ticketing.orders.models import Order, OrderStatus
from ticketing.outbox.services import message_add
from ticketing.outbox.topics import AUTO_REFUNDED_TOPIC, DUPLICATE_REFUNDED_TOPIC, REFUNDED_TOPIC

from . import providers
from .models import Payment, PaymentStatus, Refund, RefundStatus
from .providers.base import RefundFailed

log = logging.getLogger(__name__)

PAID = (PaymentStatus.SUCCEEDED, PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUND_FAILED)
# Why a payment was given back on its own (payment_refund_unfulfilled), by the webhook.
AUTOMATIC = ("seats_lost", "order_not_payable", "already_paid", "amount_mismatch")


def _refunded_so_far(payment: Payment) -> int:
    return (
        payment.refunds.exclude(status=RefundStatus.FAILED).aggregate(total=Sum("amount"))["total"]
        or 0
    )


def _captured(payment: Payment) -> int:
    """What the provider took: what its webhook said, or else what we asked for."""
    return payment.amount if payment.captured_amount is None else payment.captured_amount


def _ask(payment: Payment, refund: Refund, *, key: str) -> RefundFailed | None:
    """Ask the provider; the refund row records its answer, a refusal included (FAILED, with
    the provider's reason). Returns the refusal, for the caller to decide what it means."""
    provider = providers.get(payment.provider)
    try:
        answer = provider.refund(payment, refund.amount, idempotency_key=key)
    except RefundFailed as exc:
        log.error("provider %s refused refund of payment %s: %s", payment.provider, payment.pk, exc)
        refund.provider_ref = exc.provider_ref or ""
        refund.status = RefundStatus.FAILED
        refund.failure_reason = (exc.reason or exc.status or "refused")[:200]
        refund.save(update_fields=["provider_ref", "status", "failure_reason"])
        return exc
    refund.provider_ref = answer.provider_ref
    refund.status = RefundStatus.SUCCEEDED if answer.succeeded else RefundStatus.PENDING
    refund.save(update_fields=["provider_ref", "status"])
    return None


def _send(payment: Payment, refund: Refund, *, key: str) -> Refund:
    """Ask the provider for a refund staff or a buyer asked for: a refusal changes nothing
    (RefundRefused rolls the refund back; the seats stay sold)."""
    refused = _ask(payment, refund, key=key)
    if refused is not None:
        raise errors.RefundRefused(payment=str(payment.pk), provider_status=refused.status)
    return refund


def _needs_attention(payment: Payment):
    """The payment's refunds that failed and were not asked for again."""
    return payment.refunds.filter(status=RefundStatus.FAILED, retries__isnull=True)


def _set_payment_status(payment: Payment) -> None:
    if _needs_attention(payment).exists():
        payment.status = PaymentStatus.REFUND_FAILED
    else:
        refunded = _refunded_so_far(payment)
        payment.status = (
            PaymentStatus.REFUNDED
            if refunded >= _captured(payment)
            else PaymentStatus.PARTIALLY_REFUNDED
        )
    payment.save(update_fields=["status", "updated_at"])


def _money(refund: Refund) -> str:
    return format_money(refund.amount, refund.currency)


def payment_refund_unfulfilled(
    *, payment: Payment, order: Order, reason: str, actor: str
) -> Refund:
    """Give back the whole of a payment that bought nothing: its seats were sold to someone else
    or the screening closed (`seats_lost`), the order was cancelled meanwhile
    (`order_not_payable`), the order was already paid another way (`already_paid`), or the
    provider took another amount or currency than the order's (`amount_mismatch`). What is given
    back is what the provider says it took. Called inside the webhook's transaction, with the
    order and payment locked.

    A provider that refuses the refund does not undo the webhook: the payment's success stays
    recorded and the refund stays FAILED for staff to retry (the buyer is told once it is paid
    back); the webhook still answers, so the provider stops sending the event."""
    refund = Refund.objects.create(
        payment=payment,
        amount=_captured(payment),
        currency=payment.captured_currency or payment.currency,
        reason=reason,
        actor=actor,
    )
    refused = _ask(payment, refund, key=f"auto-refund:{payment.pk}") if refund.amount else None
    if not refund.amount:
        refund.status = RefundStatus.SUCCEEDED  # nothing was taken: nothing to give back
        refund.save(update_fields=["status"])
    _set_payment_status(payment)
    if refused is not None:
        _still_owed(
            order=order,
            refund=refund,
            actor=actor,
            what=f"payment of {_money(refund)} could not be refunded automatically ({reason})",
        )
        return refund
    _automatic_refund_done(payment=payment, order=order, refund=refund, actor=actor)
    return refund


def _automatic_refund_done(*, payment: Payment, order: Order, refund: Refund, actor: str) -> None:
    """The order's history and the buyer's email for a payment given back on its own. An order
    the payment was for keeps what it has (`already_paid`: its tickets stand;
    `amount_mismatch`: still awaiting a right payment); otherwise it ends unpaid."""
    reason = refund.reason
    order.refresh_from_db(fields=["status"])
    if reason == "amount_mismatch":
        orders.order_note(
            order_id=order.pk,
            actor=actor,
            reason=f"payment {payment.pk} took {_money(refund)}, not the order's total "
            f"(amount_mismatch): refunded",
        )
    elif order.status != OrderStatus.PAID:
        orders.order_mark_refunded(
            order_id=order.pk, actor=actor, reason=f"payment refunded automatically: {reason}"
        )
    topic = DUPLICATE_REFUNDED_TOPIC if reason == "already_paid" else AUTO_REFUNDED_TOPIC
    message_add(
        topic=topic,
        dedupe_key=f"{topic}:{payment.pk}",
        payload={
            "order_id": str(order.pk),
            "amount": refund.amount,
            "currency": refund.currency,
            "payment_id": str(payment.pk),
            "refund_id": str(refund.pk),
            "reason": reason,
        },
    )
    log.warning(
        "payment %s of order %s refunded automatically (%s): %d %s",
        payment.pk,
        order.code,
        reason,
        refund.amount,
        refund.currency,
    )


def _still_owed(*, order: Order, refund: Refund, actor: str, what: str) -> None:
    """A refund the provider did not pay: the order's history and an error in the log (alert on
    it) say so, and which refund staff retry."""
    orders.order_note(
        order_id=order.pk,
        actor=actor,
        reason=f"{what} ({refund.failure_reason}): the buyer has not been paid back; "
        f"retry refund {refund.pk}",
    )
    log.error(
        "order %s: %s (%s): %d %s still owed to the buyer; staff must retry refund %s",
        order.code,
        what,
        refund.failure_reason,
        refund.amount,
        refund.currency,
        refund.pk,
    )


def _locked(refund_filter: dict) -> tuple[Order, Payment, Refund] | None:
    """A refund with its order and payment, locked in the house order (order, payment, refund)."""
    found = (
        Refund.objects.filter(**refund_filter)
        .values_list("pk", "payment_id", "payment__order_id")
        .first()
    )
    if found is None:
        return None
    refund_id, payment_id, order_id = found
    order = orders.order_lock(order_id)
    payment = Payment.objects.select_for_update().get(pk=payment_id)
    refund = Refund.objects.select_for_update().get(pk=refund_id)
    return order, payment, refund


def refund_mark_failed(*, provider_name: str, provider_ref: str, reason: str, actor: str) -> bool:
    """The provider says a refund it had taken failed after all (Stripe's `refund.updated` with
    status `failed`: a closed card, an account that refuses it). The buyer has not been paid
    back. Recorded, never undone: the order stays refunded and its seats stay with whoever has
    them now; the payment reads `refund_failed` until staff retry. False if it was known
    already. Called inside the webhook's transaction."""
    locked = _locked({"payment__provider": provider_name, "provider_ref": provider_ref})
    if locked is None:
        # Perhaps sent before our refund committed: refuse, so the provider sends it again.
        raise errors.UnknownPayment(provider=provider_name, refund=provider_ref)
    order, payment, refund = locked
    if refund.status == RefundStatus.FAILED:
        return False
    refund.status = RefundStatus.FAILED
    refund.failure_reason = (reason or "failed")[:200]
    refund.save(update_fields=["status", "failure_reason"])
    _set_payment_status(payment)
    _still_owed(
        order=order,
        refund=refund,
        actor=actor,
        what=f"refund of {_money(refund)} failed at {provider_name}",
    )
    return True


@transaction.atomic
def refund_retry(*, refund_id, actor: str, actor_name: str = "") -> Refund:
    """Ask the provider again for a refund that failed: a new refund for the same amount and
    tickets (`retry_of` the failed one) under a new idempotency key, since the provider
    answers a key it has seen with the same failure. The key is the failed refund's, so a
    transaction retried after the provider answered asks with the same one: never paid twice.

    A refund is retried once; a retry that fails again is itself retried. Nothing else moves:
    the tickets stay void, their seats with whoever has them. A buyer who was not told yet (an
    automatic refund refused at once) is told when the money goes back."""
    locked = _locked({"pk": refund_id})
    if locked is None:
        raise errors.NotFound("No such refund.", refund=str(refund_id))
    order, payment, failed = locked
    if failed.status != RefundStatus.FAILED or failed.retries.exists():
        raise errors.RefundNotAllowed(
            "Only a failed refund that was not retried yet can be retried.",
            refund=str(failed.pk),
            status=failed.status,
        )
    available = _captured(payment) - _refunded_so_far(payment)
    if failed.amount > available:
        raise errors.RefundTooLarge(
            order=str(order.pk),
            amount=failed.amount,
            refundable=available,
            currency=failed.currency,
        )
    retry = Refund.objects.create(
        payment=payment,
        amount=failed.amount,
        currency=failed.currency,
        reason=failed.reason,
        actor=actor,
        retry_of=failed,
    )
    retry.tickets.set(failed.tickets.all())
    refused = _ask(payment, retry, key=f"refund-retry:{failed.pk}")
    _set_payment_status(payment)
    outcome = f"failed again ({retry.failure_reason})" if refused else retry.status
    orders.order_note(
        order_id=order.pk,
        actor=actor,
        reason=f"refund of {_money(retry)} retried by {actor}: {outcome}",
    )
    log.warning(
        "refund %s of order %s retried by %s as %s: %s",
        failed.pk,
        order.code,
        actor,
        retry.pk,
        outcome,
    )
    audit_record(
        action="order.refund_retried",
        summary=f"{order.code}: refund of {_money(retry)} asked for again: {outcome}",
        actor=actor,
        actor_name=actor_name,
        cinema_id=order.screening.auditorium.cinema_id,
        obj=order,
        changes={"refund": [str(failed.pk), str(retry.pk)], "outcome": [None, outcome]},
    )
    if refused is None and _automatic(failed):
        _automatic_refund_done(payment=payment, order=order, refund=retry, actor=actor)
    return retry


def _automatic(refund: Refund) -> bool:
    """Whether a chain of retries started from an automatic refund (made by the webhook, whose
    buyer is told only once the money went back)."""
    while refund.retry_of_id is not None:
        refund = refund.retry_of
    return refund.actor.startswith("provider:") and refund.reason in AUTOMATIC


@transaction.atomic
def refund_create(
    *,
    order_id,
    ticket_ids: list[int] | None = None,
    actor: str,
    reason: str,
    amount: int | None = None,
    booking_fee: bool = True,
    actor_name: str = "",
    checked_in_too: bool = False,
    tell_buyer: bool = True,
    keep_refusal: bool = False,
) -> Refund:
    """Refund a paid order, or some of its tickets, through its payment's provider.

    A screening's cancellation (`ticketing.flows.mass_refunds`) refunds tickets used at the door
    too (`checked_in_too`: the film did not happen), tells the buyer itself (`tell_buyer`
    False) and keeps a refund the provider refuses (`keep_refusal`): the refund stays FAILED
    with the provider's reason, the tickets void and the order refunded, the buyer still owed
    until staff `refund_retry` it, as with a refund the provider fails later.

    The amount is the tickets' price and surcharge; refunding the whole order (no `ticket_ids`)
    gives back everything still unrefunded, less the booking fee when `booking_fee` is False
    (a buyer's cancellation at a cinema that keeps it). `amount` lets staff give back a
    different sum (never more than was paid and not yet refunded). The seats of the refunded
    tickets go back on sale at once; when no ticket is left the order becomes `refunded`.
    Each refund is in the audit log: who (`actor`, `actor_name` as staff read it), what, how
    much.
    """
    order = orders.order_lock(order_id)
    payment = (
        Payment.objects.select_for_update()
        .filter(order=order, status__in=PAID)
        .order_by("created_at")
        .first()
    )
    if payment is None:
        if order.partner_reference:
            raise errors.RefundNotAllowed(
                "This order was settled by its partner, who took the money: the partner refunds.",
                order=str(order.pk),
                partner_reference=order.partner_reference,
            )
        raise errors.RefundNotAllowed(
            "This order has no payment to refund.", order=str(order.pk), status=order.status
        )
    if order.status != OrderStatus.PAID:
        raise errors.RefundNotAllowed(
            f"An order that is {order.status} cannot be refunded.",
            order=str(order.pk),
            status=order.status,
        )

    tickets = orders.tickets_lock(order)
    remaining = [t for t in tickets if t.refunded_at is None]
    if ticket_ids is None:
        chosen = remaining
    else:
        wanted = set(ticket_ids)
        by_id = {t.pk: t for t in tickets}
        unknown = sorted(wanted - set(by_id))
        if unknown or not wanted:
            raise errors.InvalidRequest(
                "Name tickets of this order.", field="tickets", tickets=unknown
            )
        already = sorted(pk for pk in wanted if by_id[pk].refunded_at is not None)
        if already:
            raise errors.TicketAlreadyRefunded(tickets=already, order=str(order.pk))
        chosen = [by_id[pk] for pk in sorted(wanted)]
    if not chosen:
        raise errors.TicketAlreadyRefunded(
            "Every ticket of this order was already refunded.", order=str(order.pk)
        )
    used = [t.pk for t in chosen if t.checked_in_at is not None]
    if used and not checked_in_too:
        # Decided on the locked tickets: a scan at the door waits for this refund, or this
        # refund for the scan.
        raise errors.TicketCheckedIn(tickets=used, order=str(order.pk))

    available = payment.amount - _refunded_so_far(payment)
    if amount is None:
        if ticket_ids is None:
            amount = max(0, available - (0 if booking_fee else _booking_fee_left(order, payment)))
        elif len(chosen) == len(remaining):
            # The last tickets: whatever is left but the booking fee (the order's discount
            # has already been taken off what was paid).
            amount = max(0, available - _booking_fee_left(order, payment))
        else:
            gross = sum(t.price + t.surcharge for t in chosen)
            if sum(t.discount for t in tickets) == order.discount:
                share = sum(t.discount for t in chosen)  # each ticket's own discount
            else:  # an order from before discounts were kept per ticket: spread by value
                share = order.discount * gross // order.subtotal if order.subtotal else 0
            amount = gross - share
    if amount > available or amount < 0:
        raise errors.RefundTooLarge(
            order=str(order.pk), amount=amount, refundable=available, currency=payment.currency
        )

    # The key is built from what the locked payment already has, not from the new row: a
    # transaction rolled back after the provider answered, then retried, asks with the same key.
    previous = payment.refunds.exclude(status=RefundStatus.FAILED).count()
    key = f"refund:{payment.pk}:{previous}:{amount}:{','.join(str(t.pk) for t in chosen)}"
    refund = Refund.objects.create(
        payment=payment,
        amount=amount,
        currency=payment.currency,
        reason=reason[:200],
        actor=actor,
    )
    refund.tickets.set(chosen)
    refused = None
    if amount and keep_refusal:
        refused = _ask(payment, refund, key=key)
    elif amount:
        _send(payment, refund, key=key)
    else:
        refund.status = RefundStatus.SUCCEEDED
        refund.save(update_fields=["status"])
    _set_payment_status(payment)

    chosen_ids = [t.pk for t in chosen]
    whole = len(chosen) == len(remaining)
    orders.tickets_mark_refunded(order=order, tickets=chosen, now=timezone.now())
    if whole:
        orders.order_mark_refunded(order_id=order.pk, actor=actor, reason=reason or "refunded")
    if refused is not None:
        _still_owed(
            order=order,
            refund=refund,
            actor=actor,
            what=f"refund of {_money(refund)} refused by {payment.provider}",
        )
    elif tell_buyer:
        message_add(
            topic=REFUNDED_TOPIC,
            dedupe_key=f"{REFUNDED_TOPIC}:{refund.pk}",
            payload={
                "order_id": str(order.pk),
                "amount": refund.amount,
                "currency": refund.currency,
                "ticket_ids": None if ticket_ids is None else chosen_ids,
                "refund_id": str(refund.pk),
                "reason": reason,
            },
        )
    audit_record(
        action="order.refunded",
        summary=(
            f"{order.code}: {_money(refund)} refunded for "
            f"{', '.join(t.seat_label for t in chosen)}"
            + (" (whole order)" if ticket_ids is None else "")
            + (f": {reason}" if reason else "")
        ),
        actor=actor,
        actor_name=actor_name,
        cinema_id=order.screening.auditorium.cinema_id,
        obj=order,
        changes={
            "refunded": [None, _money(refund)],
            "tickets": [None, [t.seat_label for t in chosen]],
            **({"status": [OrderStatus.PAID, OrderStatus.REFUNDED]} if whole else {}),
        },
    )
    log.info(
        "refund %s of order %s: %d %s for %d ticket(s) by %s (%s)",
        refund.pk,
        order.code,
        amount,
        refund.currency,
        len(chosen),
        actor,
        reason,
    )
    return refund


def _booking_fee_left(order: Order, payment: Payment) -> int:
    """The booking fee not yet given back: what remains once the unrefunded tickets' prices are
    taken from what is still refundable (never negative, never more than the fee)."""
    available = payment.amount - _refunded_so_far(payment)
    tickets = sum(
        t.price + t.surcharge - t.discount for t in order.tickets.all() if t.refunded_at is None
    )
    return max(0, min(order.booking_fee, available - tickets))
