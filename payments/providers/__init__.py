"""The payment providers Marquee knows. `get(name)` returns an enabled one."""

from __future__ import annotations

from django.conf import settings
from django.utils.module_loading import import_string

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
