"""Helpers of the tests that pay and refund through the Stripe provider end to end: the registry's
Stripe provider talks to Stripe's API faked at the HTTP boundary (`stripe.default_http_client`,
the stripe library's own knob), and Stripe's documented events are signed with a test secret and
posted to our webhook endpoint."""

from __future__ import annotations

import uuid

import pytest
import stripe

from payments import services
from payments.models import Payment
from tests import factories
from tests.payments import stripe_payloads as sp
from tests.payments.test_stripe_provider import SECRET, FakeStripeHTTP, sign

WEBHOOK = "/api/v1/payments/webhooks/stripe/"


@pytest.fixture
def stripe_http(settings, monkeypatch) -> FakeStripeHTTP:
    """Stripe enabled beside the sandbox (the configured one, so tests can still buy through
    it), its API answered by a FakeStripeHTTP that records every request."""
    settings.MARQUEE_PAYMENTS = {
        **settings.MARQUEE_PAYMENTS,
        "PROVIDERS": ["sandbox", "stripe"],
        "STRIPE_SECRET_KEY": "sk_test_marquee",
        "STRIPE_WEBHOOK_SECRET": SECRET,
    }
    http = FakeStripeHTTP({})
    monkeypatch.setattr(stripe, "default_http_client", http)
    return http


def started(http: FakeStripeHTTP, screening, *labels: str, buyer_key=factories.BUYER) -> Payment:
    """A pending order with a Stripe Checkout Session open for it (its PaymentIntent known to the
    fake API, for refunds)."""
    order = factories.pending_order(screening, *labels, buyer_key=buyer_key)
    session_id = f"cs_test_{uuid.uuid4().hex[:16]}"
    open_session = sp.checkout_session(
        session_id=session_id,
        status="open",
        payment_status="unpaid",
        payment_intent=None,
        amount_total=order.total,
    )
    http.responses[("POST", "/v1/checkout/sessions")] = (200, open_session)
    http.responses[("GET", f"/v1/checkout/sessions/{session_id}")] = (
        200,
        sp.checkout_session(
            session_id=session_id, amount_total=order.total, payment_intent=f"pi_{session_id}"
        ),
    )
    return services.payment_start(
        order_id=order.pk, provider_name="stripe", return_url="http://testserver/", actor="test"
    )


def completed(payment: Payment, *, amount: int | None = None, currency: str = "eur") -> dict:
    """Stripe's checkout.session.completed for this payment's session, paid."""
    session = sp.checkout_session(
        session_id=payment.provider_ref,
        amount_total=payment.amount if amount is None else amount,
        currency=currency,
        payment_id=str(payment.pk),
        payment_intent=f"pi_{payment.provider_ref}",
    )
    return sp.event("checkout.session.completed", session, event_id=f"evt_{uuid.uuid4().hex}")


def refund_updated(refund_id: str, status: str, failure_reason: str | None = None) -> dict:
    refund = sp.refund(refund_id=refund_id, status=status)
    if failure_reason:
        refund["failure_reason"] = failure_reason
    return sp.event("refund.updated", refund, event_id=f"evt_{uuid.uuid4().hex}")


def refund_answer(http: FakeStripeHTTP, refund_id: str, status: str = "succeeded", **extra):
    """What Stripe's POST /v1/refunds answers next."""
    http.responses[("POST", "/v1/refunds")] = (
        200,
        {**sp.refund(refund_id=refund_id, status=status), **extra},
    )


def post(client, payload: dict):
    body = sp.body(payload)
    return client.post(WEBHOOK, data=body, content_type="application/json", headers=sign(body))


def refund_requests(http: FakeStripeHTTP) -> list[dict]:
    return [r for r in http.requests if r["path"] == "/v1/refunds"]
