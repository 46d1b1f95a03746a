"""Giving money back: refunds of whole orders or single tickets (staff, and buyers cancelling
through `ticketing.flows.cancellation`), and the automatic refund of a payment that could not
buy its seats.

A refund goes through the payment's provider with an idempotency key derived from the locked
payment's state (its refunds so far, the amount, the tickets), so a transaction retried after
the provider answered never refunds twice. Refunded tickets
give their seats back to sale at once (the orders service voids them and releases their claims in
the same transaction).
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from ticketing import errors
from ticketing.orders import services as orders
from ticketing.orders.models import Order, OrderStatus
from ticketing.outbox.services import message_add
from ticketing.outbox.topics import AUTO_REFUNDED_TOPIC, DUPLICATE_REFUNDED_TOPIC, REFUNDED_TOPIC

from . import providers
from .models import Payment, PaymentStatus, Refund, RefundStatus
from .providers.base import RefundFailed

log = logging.getLogger(__name__)

PAID = (PaymentStatus.SUCCEEDED, PaymentStatus.PARTIALLY_REFUNDED)


def _refunded_so_far(payment: Payment) -> int:
    return (
        payment.refunds.exclude(status=RefundStatus.FAILED).aggregate(total=Sum("amount"))["total"]
        or 0
    )


def _send(payment: Payment, refund: Refund, *, key: str) -> Refund:
    """Ask the provider; the refund row records its answer."""
    provider = providers.get(payment.provider)
    try:
        answer = provider.refund(payment, refund.amount, idempotency_key=key)
    except RefundFailed as exc:
        log.error("provider %s refused refund of payment %s: %s", payment.provider, payment.pk, exc)
        raise errors.RefundRefused(payment=str(payment.pk), provider_status=exc.status) from exc
    refund.provider_ref = answer.provider_ref
    refund.status = RefundStatus.SUCCEEDED if answer.succeeded else RefundStatus.PENDING
    refund.save(update_fields=["provider_ref", "status"])
    return refund


def _set_payment_status(payment: Payment) -> None:
    refunded = _refunded_so_far(payment)
    payment.status = (
        PaymentStatus.REFUNDED if refunded >= payment.amount else PaymentStatus.PARTIALLY_REFUNDED
    )
    payment.save(update_fields=["status", "updated_at"])


def payment_refund_unfulfilled(
    *, payment: Payment, order: Order, reason: str, actor: str
) -> Refund:
    """Give back the whole of a payment that bought nothing: its seats were sold to someone else
    or the screening closed (`seats_lost`), the order was cancelled meanwhile
    (`order_not_payable`), or the order was already paid another way (`already_paid`).
    Called inside the webhook's transaction, with the order and payment locked."""
    refund = Refund.objects.create(
        payment=payment,
        amount=payment.amount,
        currency=payment.currency,
        reason=reason,
        actor=actor,
    )
    _send(payment, refund, key=f"auto-refund:{payment.pk}")
    _set_payment_status(payment)
    order.refresh_from_db(fields=["status"])
    if order.status != OrderStatus.PAID:
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
        payment.amount,
        payment.currency,
    )
    return refund


@transaction.atomic
def refund_create(
    *,
    order_id,
    ticket_ids: list[int] | None = None,
    actor: str,
    reason: str,
    amount: int | None = None,
    booking_fee: bool = True,
) -> Refund:
    """Refund a paid order, or some of its tickets, through its payment's provider.

    The amount is the tickets' price and surcharge; refunding the whole order (no `ticket_ids`)
    gives back everything still unrefunded, less the booking fee when `booking_fee` is False
    (a buyer's cancellation at a cinema that keeps it). `amount` lets staff give back a
    different sum (never more than was paid and not yet refunded). The seats of the refunded
    tickets go back on sale at once; when no ticket is left the order becomes `refunded`.
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
    if used:
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
    if amount:
        _send(payment, refund, key=key)
    else:
        refund.status = RefundStatus.SUCCEEDED
        refund.save(update_fields=["status"])
    _set_payment_status(payment)

    chosen_ids = [t.pk for t in chosen]
    orders.tickets_mark_refunded(order=order, tickets=chosen, now=timezone.now())
    if len(chosen) == len(remaining):
        orders.order_mark_refunded(order_id=order.pk, actor=actor, reason=reason or "refunded")
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
