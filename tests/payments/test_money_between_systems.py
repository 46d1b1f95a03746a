"""Money between two systems (issue 9, hole 7). Whatever the provider says after the fact, or
refuses at the moment, every captured payment is recorded and ends in a state staff can see
and act on: a refund that failed is retried with a fresh idempotency key, never silently kept.

Stripe's API is faked at the HTTP boundary only (tests/payments/stripe_flow.py); the other
buyer in these tests pays through the sandbox."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from payments import refunds, services
from payments.models import Payment, PaymentStatus, ProviderEvent, Refund, RefundStatus
from payments.refunds import refund_create
from tests import factories
from tests.api.support import assert_error
from ticketing import errors
from ticketing.inventory.models import SeatClaim
from ticketing.orders.models import Order, OrderStatus
from ticketing.orders.services import orders_expire_due
from ticketing.outbox.models import OutboxMessage

from . import flow, stripe_flow

pytestmark = pytest.mark.django_db


def _stripe_paid(http, client, screening, *labels) -> Payment:
    payment = stripe_flow.started(http, screening, *labels)
    answer = stripe_flow.post(client, stripe_flow.completed(payment))
    assert answer.json()["outcome"] == "order_paid", answer.content
    payment.refresh_from_db()
    return payment


def _bought_by_someone_else(screening, *labels) -> Payment:
    order = factories.pending_order(screening, *labels, buyer_key="next-buyer")
    payment = services.payment_start(
        order_id=order.pk, provider_name="sandbox", return_url="http://testserver/", actor="test"
    )
    assert flow.receive(flow.event(payment)).body["outcome"] == "order_paid"
    return payment


def _expire(order) -> None:
    past = timezone.now() - timedelta(seconds=1)
    Order.objects.filter(pk=order.pk).update(expires_at=past)
    SeatClaim.objects.filter(order_id=order.pk).update(expires_at=past)
    orders_expire_due()


def _failed_later(http, client, screening) -> tuple[Payment, Refund]:
    """A paid order refunded by staff; Stripe took the refund (pending), then failed it."""
    payment = _stripe_paid(http, client, screening, "A1")
    stripe_flow.refund_answer(http, "re_first", status="pending")
    refund = refund_create(order_id=payment.order_id, actor="user:1", reason="screen broken")
    assert refund.status == RefundStatus.PENDING
    answer = stripe_flow.post(
        client, stripe_flow.refund_updated("re_first", "failed", "expired_or_canceled_card")
    )
    assert answer.status_code == 200, answer.content
    assert answer.json()["outcome"] == "refund_failed"
    refund.refresh_from_db()
    payment.refresh_from_db()
    return payment, refund


# ---- a refund the provider fails after the fact ----------------------------------------------
def test_a_refund_that_fails_later_is_recorded_and_the_seat_stays_with_its_new_buyer(
    client, stripe_http, screening
):
    payment = _stripe_paid(stripe_http, client, screening, "A1")
    stripe_flow.refund_answer(stripe_http, "re_first", status="pending")
    refund_create(order_id=payment.order_id, actor="user:1", reason="screen broken")
    newcomer = _bought_by_someone_else(screening, "A1")  # the seat went back on sale and sold

    answer = stripe_flow.post(
        client, stripe_flow.refund_updated("re_first", "failed", "expired_or_canceled_card")
    )

    assert answer.status_code == 200 and answer.json()["outcome"] == "refund_failed"
    refund = Refund.objects.get(payment=payment)
    assert (refund.status, refund.failure_reason) == (
        RefundStatus.FAILED,
        "expired_or_canceled_card",
    )
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.REFUND_FAILED
    order = Order.objects.get(pk=payment.order_id)
    assert order.status == OrderStatus.REFUNDED
    note = order.history.last()
    assert note.actor == "provider:stripe"
    assert "failed" in note.reason and "expired_or_canceled_card" in note.reason
    # The seat is not taken back from the buyer who bought it meanwhile.
    [claim] = SeatClaim.objects.filter(seat_id=factories.seats(screening.auditorium, "A1")[0])
    assert claim.order_id == newcomer.order_id and claim.expires_at is None
    assert Order.objects.get(pk=newcomer.order_id).status == OrderStatus.PAID
    # The same word again changes nothing more.
    again = stripe_flow.post(client, stripe_flow.refund_updated("re_first", "failed", "x"))
    assert again.json()["outcome"] == "refund_unchanged"
    assert order.history.count() == Order.objects.get(pk=order.pk).history.count()


def test_staff_retry_a_failed_refund_and_the_provider_is_asked_with_a_fresh_key(
    client, stripe_http, screening
):
    payment, failed = _failed_later(stripe_http, client, screening)
    stripe_flow.refund_answer(stripe_http, "re_second")

    retried = refunds.refund_retry(refund_id=failed.pk, actor="user:7")

    assert (retried.status, retried.provider_ref, retried.retry_of_id) == (
        RefundStatus.SUCCEEDED,
        "re_second",
        failed.pk,
    )
    assert (retried.amount, retried.actor) == (failed.amount, "user:7")
    assert set(retried.tickets.all()) == set(failed.tickets.all())
    first_try, second_try = stripe_flow.refund_requests(stripe_http)
    assert first_try["headers"]["Idempotency-Key"] != second_try["headers"]["Idempotency-Key"]
    assert second_try["form"]["amount"] == str(failed.amount)
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.REFUNDED
    order = Order.objects.get(pk=payment.order_id)
    assert "retried by user:7" in order.history.last().reason
    # Once: a refund that was retried is not retried again, and the buyer was told only once.
    with pytest.raises(errors.RefundNotAllowed):
        refunds.refund_retry(refund_id=failed.pk, actor="user:7")
    with pytest.raises(errors.RefundNotAllowed):
        refunds.refund_retry(refund_id=retried.pk, actor="user:7")  # it did not fail
    assert OutboxMessage.objects.filter(topic="order.refunded").count() == 1


def test_a_retry_the_provider_refuses_again_stays_failed_and_can_be_retried_once_more(
    client, stripe_http, screening
):
    payment, failed = _failed_later(stripe_http, client, screening)
    stripe_flow.refund_answer(stripe_http, "re_again", status="failed", failure_reason="declined")

    again = refunds.refund_retry(refund_id=failed.pk, actor="user:7")

    assert (again.status, again.failure_reason) == (RefundStatus.FAILED, "declined")
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.REFUND_FAILED
    stripe_flow.refund_answer(stripe_http, "re_third")
    assert refunds.refund_retry(refund_id=again.pk, actor="user:7").status == RefundStatus.SUCCEEDED
    keys = [r["headers"]["Idempotency-Key"] for r in stripe_flow.refund_requests(stripe_http)]
    assert len(keys) == len(set(keys)) == 3
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.REFUNDED


def test_the_admin_lists_the_refunds_that_need_attention_and_retries_them(
    admin_client, client, stripe_http, screening
):
    payment, failed = _failed_later(stripe_http, client, screening)
    code = Order.objects.get(pk=payment.order_id).code

    listed = admin_client.get("/admin/payments/refund/?attention=needed")
    assert listed.status_code == 200
    text = listed.content.decode()
    assert code in text and "expired_or_canceled_card" in text

    stripe_flow.refund_answer(stripe_http, "re_second")
    done = admin_client.post(
        "/admin/payments/refund/",
        {"action": "retry_refunds", "_selected_action": [str(failed.pk)]},
        follow=True,
    )
    assert "1 refund(s) asked again" in done.content.decode()
    assert Refund.objects.get(retry_of=failed).status == RefundStatus.SUCCEEDED
    assert code not in admin_client.get("/admin/payments/refund/?attention=needed").content.decode()


# ---- an automatic refund refused inside the webhook ------------------------------------------
def test_a_payment_whose_automatic_refund_is_refused_is_recorded_and_answered_200(
    client, stripe_http, screening
):
    payment = stripe_flow.started(stripe_http, screening, "A1", "A2")
    _expire(payment.order)
    _bought_by_someone_else(screening, "A2")  # the late payment's seats are gone
    stripe_flow.refund_answer(stripe_http, "re_refused", status="failed", failure_reason="declined")
    event = stripe_flow.completed(payment)

    answer = stripe_flow.post(client, event)

    assert answer.status_code == 200, answer.content
    assert answer.json()["outcome"] == "refund_failed: seats_lost"
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.REFUND_FAILED
    assert (payment.captured_amount, payment.captured_currency) == (payment.amount, "EUR")
    refund = Refund.objects.get(payment=payment)
    assert (refund.status, refund.reason, refund.failure_reason, refund.amount) == (
        RefundStatus.FAILED,
        "seats_lost",
        "declined",
        payment.amount,
    )
    assert ProviderEvent.objects.get(event_id=event["id"]).outcome == "refund_failed: seats_lost"
    order = Order.objects.get(pk=payment.order_id)
    assert order.status == OrderStatus.EXPIRED
    assert "could not be refunded" in order.history.last().reason
    assert not OutboxMessage.objects.filter(topic="payment.refunded_seats_lost").exists()
    # Stripe's retry of the event is a duplicate: it does not ask for the refund again.
    assert stripe_flow.post(client, event).json()["duplicate"] is True
    assert len(stripe_flow.refund_requests(stripe_http)) == 1

    # Staff retry it; now the buyer is told, once.
    stripe_flow.refund_answer(stripe_http, "re_ok")
    assert (
        refunds.refund_retry(refund_id=refund.pk, actor="user:1").status == RefundStatus.SUCCEEDED
    )
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.REFUNDED
    told = OutboxMessage.objects.get(topic="payment.refunded_seats_lost")
    assert told.payload["amount"] == payment.amount and told.payload["reason"] == "seats_lost"


# ---- a payment of the wrong amount or currency -----------------------------------------------
def test_a_payment_of_the_wrong_amount_is_recorded_refunded_and_the_buyer_told(
    client, stripe_http, screening
):
    payment = stripe_flow.started(stripe_http, screening, "A1")
    stripe_flow.refund_answer(stripe_http, "re_mismatch")
    short = payment.amount - 500

    details = assert_error(
        stripe_flow.post(client, stripe_flow.completed(payment, amount=short)),
        400,
        "amount_mismatch",
    )

    assert details["received"] == {"amount": short, "currency": "EUR"}
    payment.refresh_from_db()
    assert (payment.captured_amount, payment.captured_currency) == (short, "EUR")
    assert payment.status == PaymentStatus.REFUNDED
    assert "amount_mismatch" in payment.failure_reason
    [asked] = stripe_flow.refund_requests(stripe_http)
    assert asked["form"]["amount"] == str(short)  # what was taken, not what was expected
    refund = Refund.objects.get(payment=payment)
    assert (refund.reason, refund.amount, refund.status) == (
        "amount_mismatch",
        short,
        RefundStatus.SUCCEEDED,
    )
    order = Order.objects.get(pk=payment.order_id)
    assert order.status == OrderStatus.PENDING_PAYMENT  # never paid; the buyer may pay again
    assert "amount_mismatch" in order.history.last().reason
    told = OutboxMessage.objects.get(topic="payment.refunded_seats_lost")
    assert (told.payload["reason"], told.payload["amount"]) == ("amount_mismatch", short)
    assert not OutboxMessage.objects.filter(topic="order.confirmation").exists()


def test_a_payment_in_the_wrong_currency_is_refunded_in_that_currency(
    client, stripe_http, screening
):
    payment = stripe_flow.started(stripe_http, screening, "A1")
    stripe_flow.refund_answer(stripe_http, "re_usd")

    stripe_flow.post(client, stripe_flow.completed(payment, currency="usd"))

    refund = Refund.objects.get(payment=payment)
    assert (refund.amount, refund.currency, refund.reason) == (
        payment.amount,
        "USD",
        "amount_mismatch",
    )
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.REFUNDED


def test_a_payment_of_the_wrong_amount_whose_refund_is_refused_needs_attention(
    client, stripe_http, screening
):
    payment = stripe_flow.started(stripe_http, screening, "A1")
    stripe_flow.refund_answer(stripe_http, "re_no", status="canceled")

    answer = stripe_flow.post(client, stripe_flow.completed(payment, amount=1))

    assert_error(answer, 400, "amount_mismatch")
    payment.refresh_from_db()
    assert (payment.status, payment.captured_amount) == (PaymentStatus.REFUND_FAILED, 1)
    refund = Refund.objects.get(payment=payment)
    assert (refund.status, refund.failure_reason) == (RefundStatus.FAILED, "canceled")
    assert Order.objects.get(pk=payment.order_id).status == OrderStatus.PENDING_PAYMENT
    assert not OutboxMessage.objects.exists()  # nothing to tell the buyer until it is refunded


def test_the_buyer_is_told_their_payment_did_not_match_not_that_their_seats_were_taken(
    screening,
):
    from ticketing.orders.emails import seats_lost_message

    order = factories.pending_order(screening, "A1")
    payload = {"order_id": str(order.pk), "amount": 700, "currency": "EUR"}
    mismatch = seats_lost_message({**payload, "reason": "amount_mismatch"})
    assert "did not match" in mismatch.body and "booked by someone else" not in mismatch.body
    lost = seats_lost_message({**payload, "reason": "seats_lost"})
    assert "booked by someone else" in lost.body
