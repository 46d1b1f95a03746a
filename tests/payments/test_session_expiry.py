"""A provider's payment page does not outlive its order (issue 9, hole 8): when the sweep finds
an order expired or cancelled, its open payments are closed and each provider is asked, through
the outbox after commit, to expire its page (Stripe: POST /v1/checkout/sessions/{id}/expire; the
sandbox has nothing to expire). Stripe's API is faked at the HTTP boundary only."""

from __future__ import annotations

from datetime import timedelta

import pytest
import stripe
from django.utils import timezone

from payments.models import Payment, PaymentStatus
from payments.providers.stripe import StripeProvider
from tests.payments import stripe_payloads as sp
from ticketing.flows.cancellation import order_cancel_or_refund
from ticketing.flows.sweep import sweep
from ticketing.inventory.models import SeatClaim
from ticketing.orders.models import Order, OrderStatus
from ticketing.outbox.models import MessageStatus, OutboxMessage

from . import flow, stripe_flow
from .test_stripe_provider import FakeStripeHTTP

pytestmark = pytest.mark.django_db


def _run_out(order_id) -> None:
    past = timezone.now() - timedelta(seconds=1)
    Order.objects.filter(pk=order_id).update(expires_at=past)
    SeatClaim.objects.filter(order_id=order_id).update(expires_at=past)


def _expire_calls(http) -> list[str]:
    return [r["path"] for r in http.requests if r["path"].endswith("/expire")]


def _expire_answers(http, payment, status: str = "expired") -> None:
    http.responses[("POST", f"/v1/checkout/sessions/{payment.provider_ref}/expire")] = (
        200,
        sp.checkout_session(
            session_id=payment.provider_ref,
            status=status,
            payment_status="unpaid",
            payment_intent=None,
        ),
    )


def test_the_sweep_expires_the_stripe_session_of_an_order_that_ran_out(
    stripe_http, screening, django_capture_on_commit_callbacks
):
    payment = stripe_flow.started(stripe_http, screening, "A1")
    _expire_answers(stripe_http, payment)
    _run_out(payment.order_id)

    with django_capture_on_commit_callbacks(execute=True):
        result = sweep()

    assert result.orders_expired == 1 and result.payments_closed == 1
    payment.refresh_from_db()
    assert (payment.status, payment.failure_reason) == (PaymentStatus.FAILED, "order_closed")
    assert _expire_calls(stripe_http) == [f"/v1/checkout/sessions/{payment.provider_ref}/expire"]
    assert OutboxMessage.objects.get(topic="payment.sessions_expire").status == MessageStatus.SENT
    # Nothing more the next time round.
    with django_capture_on_commit_callbacks(execute=True):
        assert sweep().payments_closed == 0
    assert len(_expire_calls(stripe_http)) == 1


def test_a_cancelled_order_has_its_session_expired_by_the_next_sweep(
    stripe_http, screening, django_capture_on_commit_callbacks
):
    payment = stripe_flow.started(stripe_http, screening, "A1")
    _expire_answers(stripe_http, payment)
    order_cancel_or_refund(order_id=payment.order_id, actor="buyer", reason="changed my mind")

    with django_capture_on_commit_callbacks(execute=True):
        assert sweep().payments_closed == 1

    assert _expire_calls(stripe_http) == [f"/v1/checkout/sessions/{payment.provider_ref}/expire"]


def test_a_pending_order_keeps_its_open_session(stripe_http, screening):
    payment = stripe_flow.started(stripe_http, screening, "A1")
    assert sweep().payments_closed == 0
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.REQUIRES_ACTION
    assert not OutboxMessage.objects.exists()


def test_the_sandbox_has_nothing_to_expire(screening, django_capture_on_commit_callbacks):
    payment = flow.started(screening, "A1")
    _run_out(payment.order_id)
    with django_capture_on_commit_callbacks(execute=True):
        assert sweep().payments_closed == 1
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.FAILED
    assert OutboxMessage.objects.get().status == MessageStatus.SENT


def test_a_payment_that_lands_after_its_session_was_closed_still_counts(
    client, stripe_http, screening, django_capture_on_commit_callbacks
):
    """The buyer paid just as the order ran out: the money is not lost for the closed page."""
    payment = stripe_flow.started(stripe_http, screening, "A1")
    _expire_answers(stripe_http, payment)
    _run_out(payment.order_id)
    with django_capture_on_commit_callbacks(execute=True):
        sweep()

    answer = stripe_flow.post(client, stripe_flow.completed(payment))

    assert answer.json()["outcome"] == "order_paid"  # its seats were still free
    assert Order.objects.get(pk=payment.order_id).status == OrderStatus.PAID


def test_a_stripe_outage_leaves_the_expiry_in_the_outbox_for_the_relay(
    stripe_http, screening, django_capture_on_commit_callbacks
):
    payment = stripe_flow.started(stripe_http, screening, "A1")
    stripe_http.responses[("POST", f"/v1/checkout/sessions/{payment.provider_ref}/expire")] = (
        500,
        sp.error("Something went wrong", type_="api_error"),
    )
    _run_out(payment.order_id)
    with django_capture_on_commit_callbacks(execute=True):
        sweep()
    message = OutboxMessage.objects.get(topic="payment.sessions_expire")
    assert message.status == MessageStatus.PENDING and message.attempts == 1
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.FAILED  # closed here; the page waits for the relay


# ---- the provider ------------------------------------------------------------------------------
def _stripe_payment(ref: str = "cs_test_open") -> Payment:
    return Payment(provider="stripe", provider_ref=ref, amount=2450, currency="EUR")


def test_stripe_expire_posts_to_the_sessions_expire_endpoint(stripe_http):
    http = FakeStripeHTTP(
        {
            ("POST", "/v1/checkout/sessions/cs_test_open/expire"): (
                200,
                sp.checkout_session(session_id="cs_test_open", status="expired"),
            )
        }
    )
    StripeProvider(http_client=http).expire(_stripe_payment())
    [sent] = http.requests
    assert (sent["method"], sent["path"]) == ("POST", "/v1/checkout/sessions/cs_test_open/expire")


@pytest.mark.parametrize("status", ["expired", "complete"])
def test_a_session_no_longer_open_is_left_as_it_is(stripe_http, status):
    """Stripe refuses to expire a session that is not open; already expired or completed (a late
    payment, handled by its webhook), there is nothing left to do."""
    http = FakeStripeHTTP(
        {
            ("POST", "/v1/checkout/sessions/cs_test_done/expire"): (
                400,
                sp.error(
                    'Only Checkout Sessions with a status in ["open"] can be expired.',
                    code="checkout_session_not_expirable",
                ),
            ),
            ("GET", "/v1/checkout/sessions/cs_test_done"): (
                200,
                sp.checkout_session(session_id="cs_test_done", status=status),
            ),
        }
    )
    StripeProvider(http_client=http).expire(_stripe_payment("cs_test_done"))  # no error


def test_a_refusal_for_a_session_still_open_is_raised(stripe_http):
    http = FakeStripeHTTP(
        {
            ("POST", "/v1/checkout/sessions/cs_test_open/expire"): (400, sp.error("Nope")),
            ("GET", "/v1/checkout/sessions/cs_test_open"): (
                200,
                sp.checkout_session(session_id="cs_test_open", status="open"),
            ),
        }
    )
    with pytest.raises(stripe.InvalidRequestError):
        StripeProvider(http_client=http).expire(_stripe_payment())
