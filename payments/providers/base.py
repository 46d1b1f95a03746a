"""What a payment provider is to Marquee: start a payment, read its webhooks, refund.

Adding a provider is one module in this package with a class implementing `PaymentProvider`,
registered in `payments.providers.REGISTRY` and enabled by `MARQUEE_PAYMENT_PROVIDERS`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field


class WebhookRejected(Exception):
    """A webhook that must change nothing: bad signature, stale timestamp, malformed body."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        self.message = message
        super().__init__(message)


class RefundFailed(Exception):
    """The provider refused a refund outright: no money goes back. `reason` is the provider's
    own word for why, when it gives one (Stripe's `failure_reason`)."""

    def __init__(self, provider_ref: str, status: str, reason: str = "") -> None:
        self.provider_ref = provider_ref
        self.status = status
        self.reason = reason
        super().__init__(f"refund {provider_ref} {status}" + (f" ({reason})" if reason else ""))


@dataclass(frozen=True)
class Started:
    provider_ref: str
    redirect_url: str = ""
    client_secret: str = ""


@dataclass(frozen=True)
class Event:
    """A verified provider event, reduced to what Marquee acts on."""

    event_id: str
    type: str  # "payment.succeeded", "payment.failed", "payment.requires_action", "refund.succeeded", "refund.failed", "ignored"
    provider_ref: str = ""
    amount: int | None = None
    currency: str = ""
    failure_reason: str = ""
    raw: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Refunded:
    provider_ref: str
    succeeded: bool


class PaymentProvider(ABC):
    name: str

    @abstractmethod
    def start(self, payment, *, return_url: str) -> Started:
        """Ask the provider for a payment of `payment.amount` `payment.currency`."""

    @abstractmethod
    def parse_webhook(self, body: bytes, headers: Mapping[str, str]) -> Event:
        """Verify and decode one webhook delivery; raise WebhookRejected if it must be ignored."""

    @abstractmethod
    def refund(self, payment, amount: int, *, idempotency_key: str) -> Refunded:
        """Give `amount` back; the same idempotency key never refunds twice."""

    @abstractmethod
    def expire(self, payment) -> None:
        """Close the provider's payment page for a payment whose order can no longer be paid
        (expired or cancelled), so the buyer cannot pay on it any more. A page already closed or
        paid is not an error: a payment that still lands is refunded or re-claims its seats."""
