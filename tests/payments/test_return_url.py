"""Where a payment sends the buyer back: our own site, or a host the operator listed in
MARQUEE_PAYMENT_RETURN_HOSTS; anything else is refused before a payment exists, so an API key
cannot turn our checkout into a redirect to a look-alike page (issue 9, hole 8)."""

from __future__ import annotations

import pytest

from payments.models import Payment
from tests import factories
from tests.api.support import assert_error, hold, order

pytestmark = pytest.mark.django_db

SITE = "https://tickets.marquee.example"


@pytest.fixture(autouse=True)
def _hosts(settings):
    settings.MARQUEE_PAYMENTS = {
        **settings.MARQUEE_PAYMENTS,
        "SITE_URL": SITE,
        "RETURN_HOSTS": ["app.partner.example", ".studio.example"],
    }


def _start(api, screening, return_url: str):
    seat_ids = factories.seats(screening.auditorium, "D1")
    held = hold(api, screening, *seat_ids).json()
    created = order(api, held["id"], [(s, "adult") for s in seat_ids]).json()
    return api.post(
        f"/api/v1/orders/{created['id']}/payments/", {"return_url": return_url}, format="json"
    )


@pytest.mark.parametrize(
    "url",
    [
        f"{SITE}/orders/back/?lang=fr",
        "https://TICKETS.marquee.example:443/back",
        "https://app.partner.example/checkout/done",
        "https://studio.example/back",
        "https://www.studio.example/back",
    ],
)
def test_a_return_url_on_our_site_or_a_listed_host_is_accepted(api, screening, url):
    response = _start(api, screening, url)
    assert response.status_code == 201, response.content
    assert Payment.objects.count() == 1


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example/phish",
        "https://app.partner.example.evil.example/",
        "https://app.partner.example@evil.example/",
        "https://partner.example/",
        "ftp://app.partner.example/",
    ],
)
def test_a_return_url_anywhere_else_is_refused_and_no_payment_starts(api, screening, url):
    details = assert_error(_start(api, screening, url), 400, "return_url_not_allowed")
    assert details["field"] == "return_url"
    assert "tickets.marquee.example" in details["allowed_hosts"]
    assert not Payment.objects.exists()


def test_without_a_return_url_the_buyer_comes_back_to_our_site(api, screening):
    seat_ids = factories.seats(screening.auditorium, "D2")
    held = hold(api, screening, *seat_ids).json()
    created = order(api, held["id"], [(s, "adult") for s in seat_ids]).json()
    response = api.post(f"/api/v1/orders/{created['id']}/payments/", {}, format="json")
    assert response.status_code == 201, response.content
