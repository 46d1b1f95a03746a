"""The storefront's forms that change something are rate-limited per client address."""

from __future__ import annotations

import pytest

from tests.storefront.support import seat_id

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_per_minute(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "storefront": "2/min",
        },
    }


def test_holding_again_and_again_from_one_address_is_slowed_down(client, screening, two_per_minute):
    url = f"/screenings/{screening.pk}/hold/"
    for label in ("A1", "A2"):
        assert (
            client.post(url, {"mode": "seats", "seat": [seat_id(screening, label)]}).status_code
            == 302
        )

    third = client.post(url, {"mode": "seats", "seat": [seat_id(screening, "A3")]})

    assert third.status_code == 429
    assert int(third["Retry-After"]) >= 1
    assert "Too many attempts from your connection" in third.content.decode()


def test_reading_pages_is_not_limited(client, screening, two_per_minute):
    for _ in range(5):
        assert client.get(f"/screenings/{screening.pk}/").status_code == 200


def test_password_guessing_is_slowed_down(client, two_per_minute):
    for _ in range(2):
        assert client.post("/account/login/", {"username": "x", "password": "y"}).status_code == 200
    assert client.post("/account/login/", {"username": "x", "password": "z"}).status_code == 429
