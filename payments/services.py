"""Payments: start one, act on the provider's verified events, settle partner-paid orders.

Only these functions (and `payments.refunds`) write payments. Locks are always taken order
first, then payment, so a webhook and a refund for the same order wait on each other instead
of deadlocking.

A provider event is processed once per (provider, event id): its `ProviderEvent` row is inserted
in the transaction that acts on it, and the unique constraint makes a second delivery, even a
concurrent one, wait for the first and then find it already there (a no-op answering 200). If
processing fails, the row rolls back with the work and the provider's retry runs afresh.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.http.request import validate_host

from ticketing import errors
from ticketing.db import retry_on_conflict
from ticketing.orders import services as orders
from ticketing.orders.models import Order, OrderStatus, PaidVia
from ticketing.outbox.services import message_add
from ticketing.outbox.topics import SESSIONS_EXPIRE_TOPIC

from . import providers
from .models import Payment, PaymentStatus, ProviderEvent, Refund, RefundStatus
from .providers.base import Event, WebhookRejected
from .refunds import payment_refund_unfulfilled, refund_mark_failed

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WebhookResult:
    """What to answer the provider: 2xx stops its retries, 4xx says the event was refused."""

    status: int
    body: dict = field(default_factory=dict)


def _provider(name: str, *, for_webhook: bool = False):
    try:
        return providers.get(name)
    except providers.UnknownProvider:
        if for_webhook:
            raise errors.ProviderNotFound(provider=name) from None
        raise errors.UnknownProvider(provider=name, enabled=providers.enabled()) from None


# ---- start -----------------------------------------------------------------------------------
def return_hosts() -> list[str]:
    """The hosts a buyer may be sent back to: our own site's, then MARQUEE_PAYMENT_RETURN_HOSTS
    (Django's ALLOWED_HOSTS patterns: ".example.com" also allows its subdomains)."""
    conf = settings.MARQUEE_PAYMENTS
    own = urlsplit(conf["SITE_URL"]).hostname or ""
    return [own, *(host.lower() for host in conf.get("RETURN_HOSTS", ()))]


def return_url_check(url: str) -> str:
    """A return URL an API caller chose, or ReturnUrlNotAllowed. The provider sends the buyer
    there straight after paying, on our name: anywhere else would let a key holder make our
    checkout end on a look-alike page asking for the card again."""
    parts = urlsplit(url)
    allowed = return_hosts()
    if parts.scheme not in ("http", "https") or not validate_host(
        (parts.hostname or "").lower(), allowed
    ):
        raise errors.ReturnUrlNotAllowed(field="return_url", allowed_hosts=allowed)
    return url


@transaction.atomic
def payment_start(*, order_id, provider_name: str | None = None, return_url: str, actor: str):
    """Ask a provider for the order's total; the buyer is sent to `redirect_url`.

    Only a pending order that is still payable (not past its time, screening on sale) can start
    a payment. Starting again (a declined card, a new try) makes a new Payment; the order is
    paid by whichever succeeds first, the others are refunded if they succeed too.
    """
    provider = _provider(providers.name_for_start(provider_name))
    order = orders.order_lock(order_id)
    if order.effective_status != OrderStatus.PENDING_PAYMENT:
        raise errors.PaymentNotAllowed(
            f"An order that is {order.effective_status} cannot be paid.",
            order=str(order.pk),
            status=order.effective_status,
        )
    if not order.screening.is_selling():
        raise errors.ScreeningNotOnSale(screening=order.screening_id, reason="sales_closed")
    payment = Payment.objects.create(
        order=order, provider=provider.name, amount=order.total, currency=order.currency
    )
    started = provider.start(payment, return_url=return_url)
    payment.provider_ref = started.provider_ref
    payment.redirect_url = started.redirect_url
    payment.status = PaymentStatus.REQUIRES_ACTION
    payment.save(update_fields=["provider_ref", "redirect_url", "status", "updated_at"])
    log.info(
        "payment %s started for order %s with %s by %s (%d %s)",
        payment.pk,
        order.code,
        provider.name,
        actor,
        payment.amount,
        payment.currency,
    )
    return payment


# ---- orders closed unpaid --------------------------------------------------------------------
OPEN = (PaymentStatus.CREATED, PaymentStatus.REQUIRES_ACTION)


def payments_close_for_closed_orders(*, batch_size: int | None = None) -> int:
    """Close the payments still open for orders that can no longer be paid by them (expired,
    cancelled, or paid by another payment), and ask their providers, through the outbox after
    commit, to expire the pages buyers pay on (an HTTP call: never inside the transaction).
    Set-based, a batch at a time, skipping rows a webhook holds: the sweep calls it after
    expiring orders.

    A payment closed here reads `failed` ("order_closed"); if the buyer paid at that very moment
    its webhook still counts (a late payment re-claims its seats or is refunded)."""
    batch_size = batch_size or settings.MARQUEE["SWEEP_BATCH_SIZE"]
    total = 0
    while True:
        with transaction.atomic():
            qs = Payment.objects.filter(status__in=OPEN).exclude(
                order__status=OrderStatus.PENDING_PAYMENT
            )
            if connection.features.has_select_for_update_skip_locked:
                qs = qs.select_for_update(skip_locked=True, of=("self",))
            batch = list(qs.order_by("created_at").values_list("pk", "provider")[:batch_size])
            if not batch:
                break
            Payment.objects.filter(pk__in=[pk for pk, _ in batch], status__in=OPEN).update(
                status=PaymentStatus.FAILED, failure_reason="order_closed"
            )
            by_provider: dict[str, list[str]] = {}
            for pk, provider in batch:
                by_provider.setdefault(provider, []).append(str(pk))
            for provider, ids in sorted(by_provider.items()):
                message_add(
                    topic=SESSIONS_EXPIRE_TOPIC,
                    dedupe_key=f"{SESSIONS_EXPIRE_TOPIC}:{provider}:{min(ids)}",
                    payload={"provider": provider, "payment_ids": ids},
                )
            total += len(batch)
        if len(batch) < batch_size:
            break
    if total:
        log.info("%d payment(s) of closed orders closed, their pages to expire", total)
    return total


# ---- webhooks --------------------------------------------------------------------------------
def webhook_receive(
    *, provider_name: str, body: bytes, headers: Mapping[str, str]
) -> WebhookResult:
    """Verify one delivery and act on it once.

    Refused before anything is written (4xx, logged): an unknown provider, a bad or stale
    signature, a malformed body, and an event naming a payment we do not know (the provider
    retries, so an event that raced our own commit is processed on its next delivery).
    Recorded but not accepted (400 `amount_mismatch`): an amount or currency that is not the
    payment's and the order's; the money taken is recorded and refunded, and a retry of the
    event answers 200 duplicate. A payment whose automatic refund the provider refuses is
    recorded all the same (200, `refund_failed: <why>`), its refund left for staff to retry.
    """
    provider = _provider(provider_name, for_webhook=True)
    try:
        event = provider.parse_webhook(body, headers)
    except WebhookRejected as exc:
        log.warning("%s webhook rejected: %s (%s)", provider_name, exc.code, exc.message)
        raise errors.WebhookInvalid(exc.message, code=exc.code, provider=provider_name) from None
    return _event_process(provider=provider, event=event)


@retry_on_conflict()
def _event_process(*, provider, event: Event) -> WebhookResult:
    name = provider.name
    try:
        with transaction.atomic():
            record = ProviderEvent.objects.create(
                provider=name, event_id=event.event_id, type=event.type, payload=event.raw
            )
    except IntegrityError:
        log.info("%s event %s delivered again: ignored", name, event.event_id)
        return WebhookResult(200, {"received": True, "duplicate": True})

    def done(outcome: str, status: int = 200, **extra) -> WebhookResult:
        ProviderEvent.objects.filter(pk=record.pk).update(outcome=outcome[:200])
        return WebhookResult(
            status, {"received": True, "duplicate": False, "outcome": outcome, **extra}
        )

    actor = f"provider:{name}"
    if event.type == "refund.succeeded":
        ours = Refund.objects.filter(payment__provider=name, provider_ref=event.provider_ref)
        if not ours.exists():
            # Perhaps sent before our refund committed: refuse, so the provider sends it again.
            raise errors.UnknownPayment(provider=name, refund=event.provider_ref)
        updated = ours.filter(status=RefundStatus.PENDING).update(status=RefundStatus.SUCCEEDED)
        return done("refund_confirmed" if updated else "refund_unchanged")
    if event.type == "refund.failed":
        failed = refund_mark_failed(
            provider_name=name,
            provider_ref=event.provider_ref,
            reason=event.failure_reason,
            actor=actor,
        )
        return done("refund_failed" if failed else "refund_unchanged")
    if event.type not in ("payment.succeeded", "payment.failed"):
        return done("ignored")

    order_id = (
        Payment.objects.filter(provider=name, provider_ref=event.provider_ref)
        .values_list("order_id", flat=True)
        .first()
        if event.provider_ref
        else None
    )
    if order_id is None:
        log.warning(
            "%s event %s names unknown payment %r: refused",
            name,
            event.event_id,
            event.provider_ref,
        )
        raise errors.UnknownPayment(provider=name, payment=event.provider_ref)
    order = orders.order_lock(order_id)
    payment = Payment.objects.select_for_update().get(
        provider=name, provider_ref=event.provider_ref
    )

    if event.type == "payment.failed":
        if payment.status in (PaymentStatus.CREATED, PaymentStatus.REQUIRES_ACTION):
            payment.status = PaymentStatus.FAILED
            payment.failure_reason = (event.failure_reason or "declined")[:200]
            payment.save(update_fields=["status", "failure_reason", "updated_at"])
            log.info(
                "payment %s of order %s failed: %s", payment.pk, order.code, event.failure_reason
            )
            return done("payment_failed")
        return done(f"ignored: payment already {payment.status}")

    # payment.succeeded: the money is taken. From here on it is recorded, and either buys the
    # order's tickets or is given back (or, if the provider refuses that, waits for staff).
    if payment.status not in (
        PaymentStatus.CREATED,
        PaymentStatus.REQUIRES_ACTION,
        PaymentStatus.FAILED,
    ):
        return done(f"ignored: payment already {payment.status}")
    currency = (event.currency or "").upper()
    payment.captured_amount = event.amount
    payment.captured_currency = currency
    payment.status = PaymentStatus.SUCCEEDED
    payment.failure_reason = ""
    if order.status == OrderStatus.PAID:
        # Paid already by another payment or a partner's settlement: this money goes back.
        payment.save()
        refund = payment_refund_unfulfilled(
            payment=payment, order=order, reason="already_paid", actor=actor
        )
        return done(_refunded("already_paid", refund))
    if (
        event.amount != payment.amount
        or currency != payment.currency
        or payment.amount != order.total
        or payment.currency != order.currency
    ):
        return _amount_mismatch(payment, order, event, actor=actor, done=done)

    payment.save()
    try:
        orders.order_mark_paid(
            order_id=order.pk,
            actor=actor,
            reason=f"{name} {event.event_id}",
            via=PaidVia.PROVIDER,
        )
    except (errors.SeatsLost, errors.OrderStateConflict) as exc:
        why = "seats_lost" if isinstance(exc, errors.SeatsLost) else "order_not_payable"
        refund = payment_refund_unfulfilled(payment=payment, order=order, reason=why, actor=actor)
        return done(_refunded(why, refund))
    return done("order_paid")


def _refunded(why: str, refund: Refund) -> str:
    """The event's outcome for a payment given back: `refunded: <why>`, or `refund_failed:
    <why>` when the provider refused (the payment is recorded and waits for staff)."""
    return f"{'refund_failed' if refund.status == RefundStatus.FAILED else 'refunded'}: {why}"


def _amount_mismatch(payment: Payment, order: Order, event: Event, *, actor: str, done):
    """The provider took another amount or currency than the order's: recorded as captured
    with the mismatch, never accepted as the order's payment, and given back (the buyer is told;
    a refusal waits for staff). Answered 400 `amount_mismatch`: the provider's retry of the
    event is a recorded duplicate."""
    currency = payment.captured_currency
    log.error(
        "%s event %s: %s %s is not payment %s's %d %s (order %s %d %s): not accepted, refunded",
        payment.provider,
        event.event_id,
        event.amount,
        currency,
        payment.pk,
        payment.amount,
        payment.currency,
        order.code,
        order.total,
        order.currency,
    )
    payment.failure_reason = (
        f"amount_mismatch: took {event.amount} {currency}, expected {order.total} {order.currency}"
    )[:200]
    payment.save()
    refund = payment_refund_unfulfilled(
        payment=payment, order=order, reason="amount_mismatch", actor=actor
    )
    done("amount_mismatch")
    return WebhookResult(
        400,
        {
            "error": {
                "code": errors.AmountMismatch.code,
                "message": errors.AmountMismatch.message,
                "details": {
                    "expected": {"amount": payment.amount, "currency": payment.currency},
                    "received": {"amount": event.amount, "currency": currency},
                    "refund": refund.status,
                },
            }
        },
    )


# ---- settle ----------------------------------------------------------------------------------
@transaction.atomic
def order_settle(*, order_id, partner, partner_reference: str, actor: str) -> Order:
    """A platform partner took the money itself: the order becomes paid with its reference and
    the partner's commission. Settling again with the same reference is a no-op."""
    order = orders.order_get(order_id=order_id, partner=partner)
    order = orders.order_lock(order.pk)
    if order.status == OrderStatus.PAID and order.partner_reference == partner_reference:
        return order
    if order.status == OrderStatus.PAID:
        raise errors.OrderStateConflict(
            "This order is already paid.", status=order.status, order=str(order.pk)
        )
    if Payment.objects.filter(
        order=order,
        status__in=[PaymentStatus.SUCCEEDED, PaymentStatus.PARTIALLY_REFUNDED],
    ).exists():
        raise errors.OrderStateConflict(
            "This order was paid through a payment provider.", order=str(order.pk)
        )
    commission = order.total * partner.commission_bps // 10000
    order = orders.order_mark_paid(
        order_id=order.pk,
        actor=actor,
        reason=f"settled by partner: {partner_reference}"[:200],
        via=PaidVia.PARTNER,
        partner_reference=partner_reference,
        commission=commission,
    )
    log.info(
        "order %s settled by partner %s (%s), commission %d",
        order.code,
        partner.pk,
        partner_reference,
        commission,
    )
    return order
