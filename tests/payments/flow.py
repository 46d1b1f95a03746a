"""Helpers of the payment flow tests: orders paid through the real sandbox provider, and its
signed webhook events built the way the sandbox sends them."""

from __future__ import annotations

import json
import time
import uuid

from django.conf import settings

from payments import services, signing
from payments.models import Payment
from tests import factories

WEBHOOK = "/api/v1/payments/webhooks/sandbox/"


def secret() -> str:
    return settings.MARQUEE_PAYMENTS["SANDBOX_WEBHOOK_SECRET"]


def event(
    payment: Payment,
    type_: str = "payment.succeeded",
    *,
    event_id: str | None = None,
    amount: int | None = None,
    currency: str | None = None,
    created: int | None = None,
) -> bytes:
    return json.dumps(
        {
            "id": event_id or f"evt_{uuid.uuid4().hex[:24]}",
            "type": type_,
            "created": created or int(time.time()),
            "data": {
                "payment": payment.provider_ref,
                "amount": payment.amount if amount is None else amount,
                "currency": currency or payment.currency,
            },
        },
        separators=(",", ":"),
    ).encode()


def headers(body: bytes, *, timestamp: int | None = None, key: str | None = None) -> dict:
    return {signing.HEADER: signing.sign(key or secret(), body, timestamp)}


def receive(body: bytes, **kw) -> services.WebhookResult:
    """One delivery straight to the service, signed now."""
    return services.webhook_receive(provider_name="sandbox", body=body, headers=headers(body, **kw))


def post(client, body: bytes, *, provider: str = "sandbox", signature: str | None = None):
    """One delivery over HTTP, as the provider makes it."""
    header = signature if signature is not None else headers(body)[signing.HEADER]
    return client.post(
        f"/api/v1/payments/webhooks/{provider}/",
        data=body,
        content_type="application/json",
        HTTP_MARQUEE_SIGNATURE=header,
    )


def started(screening, *labels: str) -> Payment:
    """A pending order for these seats with a sandbox payment waiting for the buyer."""
    order = factories.pending_order(screening, *labels)
    return services.payment_start(
        order_id=order.pk, provider_name="sandbox", return_url="http://testserver/", actor="test"
    )


def paid(screening, *labels: str) -> Payment:
    """An order paid through the sandbox (a signed payment.succeeded event)."""
    payment = started(screening, *labels)
    result = receive(event(payment))
    assert result.status == 200, result.body
    payment.refresh_from_db()
    return payment
