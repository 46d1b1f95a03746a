"""The seat map's live statuses for the page's script: the API's shape, cached for at most a
second and dropped when a change to the screening's claims commits."""

from __future__ import annotations

import pytest
from django.test import Client

from tests import factories
from tests.payments import flow
from tests.storefront.support import hold_seats

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _long_cache(settings):
    """A cache that would stay stale for a minute: only its invalidation can make a map fresh."""
    settings.MARQUEE = {**settings.MARQUEE, "SEAT_MAP_CACHE_SECONDS": 60}


def statuses(client, screening) -> dict[str, str]:
    response = client.get(f"/screenings/{screening.pk}/seats.json")
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "application/json"
    assert response["Cache-Control"] == "no-store"
    return {seat["label"]: seat["status"] for seat in response.json()["seats"]}


def test_the_seats_endpoint_gives_each_seats_live_status(client, screening):
    from ticketing.screenings.models import Seat

    factories.held(screening, "A1", buyer_key="another-buyer")
    flow.paid(screening, "A2")
    Seat.objects.filter(auditorium=screening.auditorium, row_label="A", number=3).update(
        is_sellable=False
    )

    seen = statuses(client, screening)

    assert len(seen) == 50
    assert (seen["A1"], seen["A2"], seen["A3"], seen["A4"]) == (
        "held",
        "sold",
        "blocked",
        "available",
    )
    body = client.get(f"/screenings/{screening.pk}/seats.json").json()
    assert body["counts"] == {"available": 47, "held": 1, "sold": 1, "blocked": 1}


def test_a_new_hold_shows_as_held_at_once_because_the_cache_is_dropped_on_commit(
    client, screening, django_capture_on_commit_callbacks
):
    assert statuses(client, screening)["B2"] == "available"  # now cached

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert hold_seats(Client(), screening, "B2").status_code == 302

    assert callbacks
    assert statuses(client, screening)["B2"] == "held"


def test_the_cache_is_dropped_when_the_hold_commits_not_before(
    client, screening, django_capture_on_commit_callbacks
):
    assert statuses(client, screening)["B2"] == "available"

    with django_capture_on_commit_callbacks(execute=False):
        hold_seats(Client(), screening, "B2")
        assert statuses(client, screening)["B2"] == "available"  # not committed yet


def test_a_released_hold_shows_as_available_again_at_once(
    client, screening, django_capture_on_commit_callbacks
):
    buyer = Client()
    with django_capture_on_commit_callbacks(execute=True):
        response = hold_seats(buyer, screening, "C3")
    assert statuses(client, screening)["C3"] == "held"

    with django_capture_on_commit_callbacks(execute=True):
        buyer.post(f"{response['Location']}release/")

    assert statuses(client, screening)["C3"] == "available"


def test_an_unknown_screening_has_no_seats(client):
    assert client.get("/screenings/999999999/seats.json").status_code == 404
