"""The payment providers Marquee knows. `get(name)` returns an enabled one."""

from __future__ import annotations

from django.conf import settings
from django.utils.module_loading import import_string

from ticketing import errors

from .base import PaymentProvider

REGISTRY = {
    "sandbox": "payments.providers.sandbox.SandboxProvider",
    "stripe": "payments.providers.stripe.StripeProvider",
}


class UnknownProvider(LookupError):
    pass


def enabled() -> list[str]:
    return list(settings.MARQUEE_PAYMENTS["PROVIDERS"])


def get(name: str) -> PaymentProvider:
    if name not in enabled() or name not in REGISTRY:
        raise UnknownProvider(name)
    return import_string(REGISTRY[name])()


def name_for_start(requested: str | None) -> str:
    """The provider a new payment starts with: the configured one (the first enabled), or the
    one the caller names. With DEBUG off the caller cannot name the sandbox unless it is the
    configured provider: enabled beside Stripe (its webhooks still verify), it must not become
    a way to get tickets with test cards."""
    configured = enabled()[0]
    if not requested or requested == configured:
        return configured
    if requested == "sandbox" and not settings.DEBUG:
        raise errors.ProviderNotAllowed(provider=requested, configured=configured)
    return requested
