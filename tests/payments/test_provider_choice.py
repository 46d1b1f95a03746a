"""Which provider a payment starts with: on a production site a partner cannot pick the sandbox
beside Stripe (issue 9, hole 3); the sandbox's own webhooks still verify."""

from __future__ import annotations

import pytest

from payments.models import Payment
from tests import factories
from tests.api.support import assert_error, hold, order

pytestmark = pytest.mark.django_db


@pytest.fixture
def stripe_with_the_sandbox_beside(settings):
    settings.MARQUEE_PAYMENTS = {**settings.MARQUEE_PAYMENTS, "PROVIDERS": ["stripe", "sandbox"]}
    return settings


def _pay_with_the_sandbox(api, screening):
    seat_ids = factories.seats(screening.auditorium, "B1")
    held = hold(api, screening, *seat_ids).json()
    created = order(api, held["id"], [(s, "adult") for s in seat_ids]).json()
    return api.post(
        f"/api/v1/orders/{created['id']}/payments/", {"provider": "sandbox"}, format="json"
    )


def test_in_production_a_partner_cannot_pick_the_sandbox_when_stripe_is_configured(
    api, screening, stripe_with_the_sandbox_beside
):
    stripe_with_the_sandbox_beside.DEBUG = False
    response = _pay_with_the_sandbox(api, screening)

    details = assert_error(response, 400, "provider_not_allowed")
    assert details == {"provider": "sandbox", "configured": "stripe"}
    assert not Payment.objects.exists()


def test_in_development_the_sandbox_can_be_picked_beside_stripe(
    api, screening, stripe_with_the_sandbox_beside
):
    stripe_with_the_sandbox_beside.DEBUG = True
    response = _pay_with_the_sandbox(api, screening)

    assert response.status_code == 201, response.content
    assert response.json()["provider"] == "sandbox"


def test_in_production_the_sandbox_as_the_configured_provider_still_pays(api, screening, settings):
    """The opted-in production shape (the smoke test): the sandbox is the site's provider."""
    settings.DEBUG = False
    settings.MARQUEE_PAYMENTS = {**settings.MARQUEE_PAYMENTS, "PROVIDERS": ["sandbox"]}
    response = _pay_with_the_sandbox(api, screening)

    assert response.status_code == 201, response.content
