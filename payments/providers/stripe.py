"""Stripe, through the official `stripe` package: Checkout Sessions, signed webhooks, refunds.

The reference (`Payment.provider_ref`) is the **Checkout Session id** (`cs_...`). It is known the
moment `start` returns (a session's PaymentIntent may not exist until the buyer pays), it is the
`data.object.id` of every `checkout.session.*` event, and the session leads to its PaymentIntent
when a refund needs one. So the events that move a payment are the `checkout.session.*` ones,
which is what Stripe recommends for Checkout fulfilment:

- `checkout.session.completed` with `payment_status` "paid", and
  `checkout.session.async_payment_succeeded`: payment.succeeded (amount_total, currency);
- `checkout.session.completed` still "unpaid" (a delayed payment method): payment.requires_action;
- `checkout.session.async_payment_failed` and `checkout.session.expired`: payment.failed.

`payment_intent.*` events carry a `pi_...` id that no Payment is stored under, and a declined card
(`payment_intent.payment_failed`) is not the end of a Checkout Session: the buyer may try another
card on the same page. They are therefore reported as "ignored" (with the Marquee payment id from
their metadata kept in `raw` for the log), never as a state change.

Refund events (`refund.created`, `refund.updated`, and `charge.refunded` when the charge carries
its refunds) become refund.succeeded once the refund's status is "succeeded"; their
`provider_ref` is the **refund** id (`re_...`), the one `refund()` returned and `Refund` stores.

A session whose order expired or was cancelled is expired (`expire`, queued by the sweep through
the outbox), so its page cannot take money for an order that is gone.

Keys come from the environment only (STRIPE_SECRET_KEY, STRIPE_WEBHOOK_SECRET via
settings.MARQUEE_PAYMENTS); a missing one raises ImproperlyConfigured when it is needed.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping

import stripe
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from .base import Event, PaymentProvider, Refunded, RefundFailed, Started, WebhookRejected

SIGNATURE_HEADER = "Stripe-Signature"
# Stripe accepts a Checkout Session lifetime of 30 minutes to 24 hours.
SESSION_LIFETIME_SECONDS = 60 * 60
SESSION_MIN_LIFETIME_SECONDS = 31 * 60


def _config(name: str) -> str:
    value = settings.MARQUEE_PAYMENTS.get(name, "")
    if not value:
        raise ImproperlyConfigured(
            f"The Stripe provider needs {name}: set it in the environment "
            f"(or leave 'stripe' out of MARQUEE_PAYMENT_PROVIDERS)."
        )
    return value


def _header(headers: Mapping[str, str], name: str) -> str | None:
    """Headers by name, whatever the case (Django's request.headers or a plain dict)."""
    value = headers.get(name)
    if value is not None:
        return value
    lowered = name.lower()
    for key, value in headers.items():
        if key.lower() == lowered:
            return value
    return None


def _signed_at(header: str) -> int | None:
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        if key == "t":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class StripeProvider(PaymentProvider):
    name = "stripe"

    def __init__(self, *, http_client: stripe.HTTPClient | None = None) -> None:
        # Tests pass an HTTPClient that answers like Stripe's API; production uses the default.
        self._http_client = http_client

    # --- the API ---------------------------------------------------------------------------

    def client(self) -> stripe.StripeClient:
        kwargs = {"max_network_retries": 2}
        # An HTTP client given to this provider, or the one set on the stripe library
        # (`stripe.default_http_client`, its own knob for a proxy or a test double).
        http_client = self._http_client or stripe.default_http_client
        if http_client is not None:
            kwargs["http_client"] = http_client
        return stripe.StripeClient(_config("STRIPE_SECRET_KEY"), **kwargs)

    def start(self, payment, *, return_url: str) -> Started:
        order = payment.order
        metadata = {"payment_id": str(payment.id), "order_code": order.code}
        params = {
            "mode": "payment",
            "line_items": [
                {
                    "quantity": 1,
                    "price_data": {
                        "currency": payment.currency.lower(),
                        "unit_amount": payment.amount,
                        "product_data": {"name": f"Order {order.code}"},
                    },
                }
            ],
            "success_url": return_url,
            "cancel_url": _with_query(return_url, cancelled="1"),
            "client_reference_id": str(payment.id),
            "metadata": metadata,
            "payment_intent_data": {"metadata": dict(metadata)},
        }
        if getattr(order, "customer_email", ""):
            params["customer_email"] = order.customer_email
        expires_at = self._expires_at(payment)
        if expires_at is not None:
            params["expires_at"] = expires_at
        session = self.client().v1.checkout.sessions.create(
            params=params,
            options={"idempotency_key": f"marquee-checkout-{payment.id}"},
        )
        return Started(provider_ref=session.id, redirect_url=session.url or "")

    @staticmethod
    def _expires_at(payment) -> int | None:
        """An hour after the payment was created, so a session does not outlive its order by a
        day (Stripe's default). Derived from stored data, so a retry sends the same parameters
        under the same idempotency key; left out when it would be too soon for Stripe."""
        created = getattr(payment, "created_at", None)
        if created is None:
            return None
        expires_at = int(created.timestamp()) + SESSION_LIFETIME_SECONDS
        if expires_at < time.time() + SESSION_MIN_LIFETIME_SECONDS:
            return None
        return expires_at

    def refund(self, payment, amount: int, *, idempotency_key: str) -> Refunded:
        client = self.client()
        payment_intent = self._payment_intent_of(client, payment.provider_ref)
        refund = client.v1.refunds.create(
            params={
                "payment_intent": payment_intent,
                "amount": amount,
                "metadata": {"payment_id": str(payment.id)},
            },
            options={"idempotency_key": idempotency_key},
        )
        # "pending" is on its way (a refund.updated event will say "succeeded"); "failed",
        # "canceled" and "requires_action" are not money returned: refuse, so nothing of the
        # refund (seats released, order refunded) is committed and staff see why.
        if refund.status in ("failed", "canceled", "requires_action"):
            raise RefundFailed(
                refund.id, refund.status, getattr(refund, "failure_reason", "") or ""
            )
        return Refunded(provider_ref=refund.id, succeeded=refund.status == "succeeded")

    def expire(self, payment) -> None:
        """Expire the Checkout Session (POST /v1/checkout/sessions/{id}/expire). Stripe refuses
        for a session that is not open; one already expired or complete (its payment then
        arrives by webhook) is left as it is, any other refusal raised."""
        client = self.client()
        try:
            client.v1.checkout.sessions.expire(payment.provider_ref)
        except stripe.InvalidRequestError:
            session = client.v1.checkout.sessions.retrieve(payment.provider_ref)
            if session.status == "open":
                raise

    @staticmethod
    def _payment_intent_of(client: stripe.StripeClient, ref: str) -> str:
        if ref.startswith("pi_"):
            return ref
        session = client.v1.checkout.sessions.retrieve(ref)
        payment_intent = session.payment_intent
        if not payment_intent:
            raise ValueError(f"Checkout Session {ref} has no payment to refund.")
        return payment_intent if isinstance(payment_intent, str) else payment_intent.id

    # --- webhooks --------------------------------------------------------------------------

    def parse_webhook(self, body: bytes, headers: Mapping[str, str]) -> Event:
        secret = _config("STRIPE_WEBHOOK_SECRET")
        tolerance = int(settings.MARQUEE_PAYMENTS.get("WEBHOOK_TOLERANCE_SECONDS", 300))
        header = _header(headers, SIGNATURE_HEADER)
        try:
            stripe.Webhook.construct_event(body, header, secret, tolerance=tolerance)
        except stripe.SignatureVerificationError:
            raise self._why_rejected(body, header, secret) from None
        except (ValueError, TypeError, KeyError, AttributeError):
            # Not UTF-8, not JSON, or not an event object.
            raise WebhookRejected("malformed", "The body is not a Stripe event.") from None
        signed_at = _signed_at(header or "")
        if signed_at is not None and signed_at > time.time() + tolerance:
            raise WebhookRejected(
                "signature_expired", "The signature's timestamp is outside the tolerance."
            )
        payload = json.loads(body)
        if (
            not isinstance(payload, dict)
            or not payload.get("id")
            or not isinstance(payload.get("type"), str)
            or not isinstance((payload.get("data") or {}).get("object"), dict)
        ):
            raise WebhookRejected("malformed", "The body is not a Stripe event.")
        return self.to_event(payload)

    @staticmethod
    def _why_rejected(body: bytes, header: str | None, secret: str) -> WebhookRejected:
        if not header:
            return WebhookRejected("signature_missing", f"No {SIGNATURE_HEADER} header.")
        try:
            # Verified without the time check: if it passes now, only the timestamp was wrong.
            stripe.WebhookSignature.verify_header(body, header, secret, tolerance=None)
        except (stripe.SignatureVerificationError, ValueError):
            return WebhookRejected("signature_invalid", "The signature does not match.")
        return WebhookRejected(
            "signature_expired", "The signature's timestamp is outside the tolerance."
        )

    @staticmethod
    def to_event(payload: dict) -> Event:
        """One verified Stripe event (a dict in Stripe's shape), reduced to a Marquee Event."""
        event_id, kind = payload["id"], payload["type"]
        obj = payload["data"]["object"]

        def event(type_: str, ref: str = "", **extra) -> Event:
            return Event(event_id=event_id, type=type_, provider_ref=ref, raw=payload, **extra)

        def money(amount_key: str) -> dict:
            amount = obj.get(amount_key)
            return {
                "amount": amount if isinstance(amount, int) else None,
                "currency": str(obj.get("currency") or "").upper(),
            }

        if kind in ("checkout.session.completed", "checkout.session.async_payment_succeeded"):
            status = obj.get("payment_status")
            if status == "paid":
                return event("payment.succeeded", obj.get("id", ""), **money("amount_total"))
            if status == "unpaid":
                return event("payment.requires_action", obj.get("id", ""))
            return event("ignored", obj.get("id", ""))  # "no_payment_required": not ours
        if kind == "checkout.session.async_payment_failed":
            return event("payment.failed", obj.get("id", ""), failure_reason="async_payment_failed")
        if kind == "checkout.session.expired":
            return event("payment.failed", obj.get("id", ""), failure_reason="expired")
        if kind in ("refund.created", "refund.updated", "refund.failed"):
            if obj.get("status") == "succeeded":
                return event("refund.succeeded", obj.get("id", ""), **money("amount"))
            if obj.get("status") in ("failed", "canceled"):
                return event(
                    "refund.failed",
                    obj.get("id", ""),
                    failure_reason=str(obj.get("failure_reason") or obj.get("status")),
                )
            return event("ignored", obj.get("id", ""))
        if kind == "charge.refunded":
            refunds = [
                r
                for r in ((obj.get("refunds") or {}).get("data") or [])
                if r.get("status") == "succeeded"
            ]
            if refunds:
                latest = max(refunds, key=lambda r: r.get("created") or 0)
                return event(
                    "refund.succeeded",
                    latest.get("id", ""),
                    amount=latest.get("amount"),
                    currency=str(latest.get("currency") or "").upper(),
                )
            return event("ignored")  # refunds not included: refund.updated carries them
        return event("ignored")


def _with_query(url: str, **params: str) -> str:
    """The URL with these query parameters added (Stripe's cancel URL: the shop offers to pay
    again instead of waiting for a payment that will not come)."""
    from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in params]
    return urlunsplit(parts._replace(query=urlencode([*query, *params.items()])))
