"""Fixtures of the payment tests."""

from tests.payments.stripe_flow import stripe_http  # noqa: F401 - Stripe's API faked at HTTP
