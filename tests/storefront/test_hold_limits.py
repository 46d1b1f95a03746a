"""Seat squatting from the seat map page (issue 9, hole 1): posts without a session cookie are
a new buyer each time, but they come from one client network, and the network's limit holds."""

from __future__ import annotations

import pytest
from django.test import Client

from tests import factories
from tests.storefront.support import html
from ticketing.inventory.models import SeatClaim

pytestmark = pytest.mark.django_db


@pytest.fixture
def limits(settings):
    settings.MARQUEE = {**settings.MARQUEE, "HOLD_LIMIT_PER_BUYER": 4, "HOLD_LIMIT_PER_NETWORK": 8}
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "storefront": "1000/min",
        },
    }


def test_cookie_less_posts_from_one_network_hold_no_more_than_its_limit(screening, limits):
    row = factories.seats(screening.auditorium, *[f"A{n}" for n in range(1, 11)])
    answers = []
    for i in range(5):
        fresh = Client(REMOTE_ADDR=f"203.0.113.{i + 1}")  # no cookie: a new buyer each time
        answers.append(
            fresh.post(
                f"/screenings/{screening.pk}/hold/",
                {"mode": "seats", "seat": row[i * 2 : i * 2 + 2]},
            )
        )

    assert [a.status_code for a in answers] == [302, 302, 302, 302, 409]
    assert "already held from your connection" in html(answers[-1])
    assert SeatClaim.objects.count() == 8


def test_a_buyer_choosing_again_is_not_counted_twice(client, screening, limits):
    a = factories.seats(screening.auditorium, "A1", "A2", "A3", "A4")
    b = factories.seats(screening.auditorium, "B1", "B2", "B3", "B4")
    url = f"/screenings/{screening.pk}/hold/"
    assert client.post(url, {"mode": "seats", "seat": a}).status_code == 302
    assert client.post(url, {"mode": "seats", "seat": b}).status_code == 302
    assert set(SeatClaim.objects.values_list("seat_id", flat=True)) == set(b)
