"""The onsale's per-buyer limit on the storefront: an admitted browser holds through the seat map
and checks out; its admission's waiter id and the order's email are what is counted."""

from __future__ import annotations

import pytest
from django.test import Client

from tests import factories
from tests.onsale.support import onsale
from ticketing.onsale import limits, tokens, waiting
from ticketing.orders.models import Order

pytestmark = pytest.mark.django_db


@pytest.fixture
def sale():
    cinema = factories.cinema()
    friday = factories.screening(factories.auditorium(cinema, rows=4, per_row=10))
    saturday = factories.screening(factories.auditorium(cinema, rows=4, per_row=10))
    made = onsale(friday, saturday, ticket_limit=6, admit_per_minute=0)
    yield made, friday, saturday
    waiting.forget(made.pk)


def admitted(sale_, screening) -> Client:
    browser = Client()
    assert browser.get(f"/wait/{sale_.pk}/?s={screening.pk}").status_code == 302
    return browser


def hold(browser, screening, *labels):
    return browser.post(
        f"/screenings/{screening.pk}/hold/",
        {"seat": factories.seats(screening.auditorium, *labels)},
    )


def waiter_of(browser) -> str:
    return signing_value(browser.cookies[tokens.WAITER_COOKIE].value)


def signing_value(signed: str) -> str:
    return signed.split(":")[0]


def test_an_admitted_browser_is_held_to_the_limit_across_the_screenings(sale):
    the_sale, friday, saturday = sale
    browser = admitted(the_sale, friday)

    assert hold(browser, friday, "A1", "A2", "A3", "A4").status_code == 302
    refused = hold(browser, saturday, "A1", "A2", "A3")

    assert refused.status_code == 409
    assert "This sale allows 6 tickets per buyer. You may add 2 more." in refused.text
    waiter = waiter_of(browser)
    assert limits.counted(onsale_id=the_sale.pk, kind="waiter", identity=waiter) == 4
    assert hold(browser, saturday, "A1", "A2").status_code == 302


def test_choosing_again_on_the_seat_map_does_not_count_twice(sale):
    the_sale, friday, _saturday = sale
    browser = admitted(the_sale, friday)

    assert hold(browser, friday, "A1", "A2", "A3", "A4").status_code == 302
    assert hold(browser, friday, "B1", "B2", "B3", "B4", "B5", "B6").status_code == 302

    waiter = waiter_of(browser)
    assert limits.counted(onsale_id=the_sale.pk, kind="waiter", identity=waiter) == 6


def test_the_checkout_counts_the_email_for_the_order(sale):
    the_sale, friday, _saturday = sale
    browser = admitted(the_sale, friday)
    checkout_url = hold(browser, friday, "C1", "C2")["Location"]
    page = browser.get(checkout_url)
    form = {"name": "Fan", "email": "fan@example.com", "promo_code": ""}
    for field in page.context["form"].fields:
        if field.startswith("type_"):
            form[field] = page.context["form"].fields[field].choices[0][0]

    placed = browser.post(checkout_url, form)

    assert placed.status_code == 302, placed.content[:400]
    order = Order.objects.get()
    assert order.customer_email == "fan@example.com"
    email = limits.email_identity("fan@example.com")
    assert limits.counted(onsale_id=the_sale.pk, kind="email", identity=email) == 2
    assert limits.counted(onsale_id=the_sale.pk, kind="waiter", identity=waiter_of(browser)) == 2
