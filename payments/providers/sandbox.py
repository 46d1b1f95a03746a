"""The built-in sandbox provider: a hosted payment page on our own site, in TEST MODE.

It behaves like a real provider. `start` hands back a reference and the URL of its hosted page;
the page takes one of the documented test cards and reports the outcome to our webhook endpoint,
signed with `payments.signing` (HMAC over "<timestamp>.<body>" in `Marquee-Signature`), by the
worker through the outbox (`payments.tasks`), so a broker outage delays an event, never loses
it. The order becomes paid only through that verified webhook, never from the page.

No tables of its own: what the page needs (reference, amount, currency, order code, return URL)
travels in a token signed with `django.core.signing` in the page's URL, and the Payment row with
that `provider_ref` is only read, to refuse a card for a payment that already succeeded.

Webhook body (JSON):
    {"id": "evt_<random>", "type": "payment.succeeded" | "payment.failed" | "payment.requires_action",
     "created": <unix seconds>,
     "data": {"payment": "<provider_ref>", "amount": <int minor units>, "currency": "EUR",
              "failure_reason": "" | "card_declined" | "insufficient_funds" | "authentication_failed"}}
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlencode

from django.conf import settings
from django.core import signing as django_signing

from .. import signing
from .base import Event, PaymentProvider, Refunded, Started, WebhookRejected

NAME = "sandbox"
REF_PREFIX = "sbx_pay_"
REFUND_PREFIX = "sbx_re_"
TOKEN_SALT = "payments.sandbox.checkout"  # noqa: S105 - a signing salt, not a secret
CHALLENGE_SALT = "payments.sandbox.challenge"
TOKEN_MAX_AGE = 24 * 3600  # seconds a hosted page link stays usable
CHALLENGE_MAX_AGE = 30 * 60

PAYMENT_TYPES = ("payment.succeeded", "payment.failed", "payment.requires_action")

# Outcomes of a test card: "succeeded", "declined" (with a failure reason) or "requires_action"
# (a confirmation step with Approve / Fail before the outcome).
SUCCEEDED = "succeeded"
DECLINED = "declined"
REQUIRES_ACTION = "requires_action"
AUTHENTICATION_FAILED = "authentication_failed"


@dataclass(frozen=True)
class SandboxCard:
    number: str  # digits only
    outcome: str
    failure_reason: str
    description: str

    @property
    def display(self) -> str:
        return " ".join(self.number[i : i + 4] for i in range(0, len(self.number), 4))


TEST_CARDS: tuple[SandboxCard, ...] = (
    SandboxCard("4242424242424242", SUCCEEDED, "", "Succeeds."),
    SandboxCard("4000000000000002", DECLINED, "card_declined", "Declined (card_declined)."),
    SandboxCard(
        "4000002760003184",
        REQUIRES_ACTION,
        "",
        "Needs a confirmation step with your bank: Approve succeeds, Fail is declined "
        "(authentication_failed).",
    ),
    SandboxCard(
        "4000000000009995", DECLINED, "insufficient_funds", "Declined (insufficient_funds)."
    ),
)
CARDS_BY_NUMBER = {card.number: card for card in TEST_CARDS}


def _conf() -> dict:
    return settings.MARQUEE_PAYMENTS


def site_url() -> str:
    return _conf()["SITE_URL"].rstrip("/")


def webhook_url() -> str:
    """Where the sandbox delivers its events: our own site, as the worker reaches it (in
    docker-compose that is the web service, not the public address)."""
    base = (_conf().get("SANDBOX_WEBHOOK_BASE_URL") or site_url()).rstrip("/")
    return f"{base}/api/v1/payments/webhooks/{NAME}/"


def webhook_secret() -> str:
    return _conf()["SANDBOX_WEBHOOK_SECRET"]


def make_token(data: dict) -> str:
    return django_signing.dumps(data, salt=TOKEN_SALT, compress=True)


def read_token(token: str, *, salt: str = TOKEN_SALT, max_age: int = TOKEN_MAX_AGE) -> dict:
    """The page's signed state; raises django.core.signing.BadSignature if forged or stale."""
    return django_signing.loads(token, salt=salt, max_age=max_age)


def make_challenge(data: dict) -> str:
    return django_signing.dumps(data, salt=CHALLENGE_SALT, compress=True)


def read_challenge(token: str) -> dict:
    return read_token(token, salt=CHALLENGE_SALT, max_age=CHALLENGE_MAX_AGE)


def event_body(
    *, event_type: str, provider_ref: str, amount: int, currency: str, failure_reason: str = ""
) -> str:
    """The JSON text the sandbox POSTs to our webhook endpoint."""
    return json.dumps(
        {
            "id": f"evt_{secrets.token_hex(12)}",
            "type": event_type,
            "created": int(time.time()),
            "data": {
                "payment": provider_ref,
                "amount": int(amount),
                "currency": currency,
                "failure_reason": failure_reason,
            },
        },
        separators=(",", ":"),
    )


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is not None:
        return value
    wanted = name.lower()
    for key, val in headers.items():
        if key.lower() == wanted:
            return val
    return None


class SandboxProvider(PaymentProvider):
    name = NAME

    def start(self, payment, *, return_url: str) -> Started:
        provider_ref = f"{REF_PREFIX}{secrets.token_hex(12)}"
        token = make_token(
            {
                "ref": provider_ref,
                "amount": int(payment.amount),
                "currency": payment.currency,
                "order": payment.order.code,
                "return_url": return_url,
            }
        )
        redirect_url = f"{site_url()}/payments/sandbox/{provider_ref}/?{urlencode({'t': token})}"
        return Started(provider_ref=provider_ref, redirect_url=redirect_url)

    def parse_webhook(self, body: bytes, headers: Mapping[str, str]) -> Event:
        signing.verify(
            webhook_secret(),
            body,
            _header(headers, signing.HEADER),
            tolerance=_conf()["WEBHOOK_TOLERANCE_SECONDS"],
        )
        try:
            raw = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            raise WebhookRejected("malformed", "The body is not JSON.") from None
        if not isinstance(raw, dict):
            raise WebhookRejected("malformed", "The body is not a JSON object.")
        event_id, type_ = raw.get("id"), raw.get("type")
        if not isinstance(event_id, str) or not event_id or not isinstance(type_, str):
            raise WebhookRejected("malformed", "The event has no id or type.")
        if type_ not in PAYMENT_TYPES:
            return Event(event_id=event_id, type="ignored", raw=raw)
        data = raw.get("data")
        if not isinstance(data, dict):
            raise WebhookRejected("malformed", "The event has no data object.")
        provider_ref, amount = data.get("payment"), data.get("amount")
        currency, failure_reason = data.get("currency"), data.get("failure_reason") or ""
        if (
            not isinstance(provider_ref, str)
            or not provider_ref
            or not isinstance(amount, int)
            or isinstance(amount, bool)
            or amount < 0
            or not isinstance(currency, str)
            or len(currency) != 3
            or not isinstance(failure_reason, str)
        ):
            raise WebhookRejected(
                "malformed", "data needs payment (str), amount (int), currency (3 letters)."
            )
        return Event(
            event_id=event_id,
            type=type_,
            provider_ref=provider_ref,
            amount=amount,
            currency=currency.upper(),
            failure_reason=failure_reason,
            raw=raw,
        )

    def expire(self, payment) -> None:
        """Nothing to close: the hosted page is ours and holds no state of its own."""

    def refund(self, payment, amount: int, *, idempotency_key: str) -> Refunded:
        """Instant and deterministic: the same key always names the same refund. Never more than
        was taken (what the webhook said it captured, or else what was asked)."""
        digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]
        captured = getattr(payment, "captured_amount", None)
        ok = 0 < int(amount) <= int(payment.amount if captured is None else captured)
        return Refunded(provider_ref=f"{REFUND_PREFIX}{digest}", succeeded=ok)
