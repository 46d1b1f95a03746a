"""A signed-in browser session booking through the API (issue 9, hole 2) is held to the
storefront's rules: one hold per screening, and the buyer's and network's seat limits. Before,
any self-registered account could hold hold after hold there."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from tests import factories
from ticketing.inventory.models import Hold, HoldStatus, SeatClaim

pytestmark = pytest.mark.django_db


@pytest.fixture
def session_api():
    client = APIClient(REMOTE_ADDR="198.51.100.20")
    client.force_login(get_user_model().objects.create_user("mallory", password="x"))
    return client


def test_a_session_asking_again_replaces_its_hold_instead_of_adding_one(session_api, screening):
    first = session_api.post(
        "/api/v1/holds/",
        {"screening": screening.pk, "seats": factories.seats(screening.auditorium, "A1", "A2")},
        format="json",
    )
    second = session_api.post(
        "/api/v1/holds/",
        {"screening": screening.pk, "seats": factories.seats(screening.auditorium, "B1", "B2")},
        format="json",
    )

    assert (first.status_code, second.status_code) == (201, 201)
    assert Hold.objects.filter(status=HoldStatus.ACTIVE).count() == 1
    assert SeatClaim.objects.count() == 2


def test_sessions_from_one_network_share_its_seat_limit(screening, settings):
    settings.MARQUEE = {**settings.MARQUEE, "HOLD_LIMIT_PER_NETWORK": 4}
    row = factories.seats(screening.auditorium, "C1", "C2", "C3", "C4", "C5", "C6")
    answers = []
    for i in range(3):
        client = APIClient(REMOTE_ADDR=f"198.51.100.{30 + i}")
        client.force_login(get_user_model().objects.create_user(f"sock-{i}", password="x"))
        answers.append(
            client.post(
                "/api/v1/holds/",
                {"screening": screening.pk, "seats": row[i * 2 : i * 2 + 2]},
                format="json",
            )
        )

    assert [a.status_code for a in answers] == [201, 201, 409]
    assert answers[-1].json()["error"]["code"] == "hold_limit_reached"
    assert answers[-1].json()["error"]["details"]["per"] == "network"
    assert SeatClaim.objects.count() == 4


def test_a_partner_key_still_holds_several_holds_on_one_screening(api, screening):
    for label in ("D1", "D2", "D3"):
        answer = api.post(
            "/api/v1/holds/",
            {"screening": screening.pk, "seats": factories.seats(screening.auditorium, label)},
            format="json",
        )
        assert answer.status_code == 201
    assert Hold.objects.filter(partner=api.partner, status=HoldStatus.ACTIVE).count() == 3


def test_a_session_booking_through_the_api_has_the_storefronts_rate(
    session_api, screening, settings
):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "storefront": "3/min",
            "user": "600/min",
        },
    }
    seat = factories.seats(screening.auditorium, "E1")
    answers = [
        session_api.post(
            "/api/v1/holds/", {"screening": screening.pk, "seats": seat}, format="json"
        )
        for _ in range(4)
    ]
    assert [a.status_code for a in answers][-1] == 429
    assert answers[-1].json()["error"]["code"] == "throttled"
    assert session_api.get(f"/api/v1/screenings/{screening.pk}/seats/").status_code == 200
