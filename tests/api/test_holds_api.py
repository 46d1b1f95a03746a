"""Holding seats through the API: what a hold looks like, who may see it, and that releasing it
puts its seats back on sale at once."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from tests import factories
from tests.api.support import assert_error, hold, order, seat_statuses
from ticketing.inventory.models import Hold, HoldStatus, SeatClaim

pytestmark = pytest.mark.django_db


def test_a_hold_of_named_seats(api, screening):
    a1, a2 = factories.seats(screening.auditorium, "A1", "A2")
    before = timezone.now()
    response = hold(api, screening, a2, a1)

    assert response.status_code == 201
    body = response.json()
    assert set(body) == {
        "id",
        "screening",
        "status",
        "live",
        "seats",
        "created_at",
        "expires_at",
        "extended_at",
    }
    assert (body["screening"], body["status"], body["live"], body["extended_at"]) == (
        screening.pk,
        "active",
        True,
        None,
    )
    assert sorted((s["id"], s["label"], s["type"]) for s in body["seats"]) == [
        (a1, "A1", "standard"),
        (a2, "A2", "standard"),
    ]
    expires = datetime.fromisoformat(body["expires_at"])
    minutes = screening.auditorium.cinema.hold_minutes
    assert (
        before + timedelta(minutes=minutes)
        <= expires
        <= timezone.now() + timedelta(minutes=minutes)
    )
    assert Hold.objects.get(pk=body["id"]).partner == api.partner


def test_a_hold_lasts_as_long_as_its_cinema_says(api, screening):
    cinema = screening.auditorium.cinema
    cinema.hold_minutes = 3
    cinema.save()
    body = hold(api, screening, *factories.seats(screening.auditorium, "A1")).json()
    held_for = datetime.fromisoformat(body["expires_at"]) - datetime.fromisoformat(
        body["created_at"]
    )
    assert held_for == timedelta(minutes=3)


def test_a_hold_of_a_quantity_takes_the_best_seats_together(api, screening):
    response = api.post("/api/v1/holds/", {"screening": screening.pk, "quantity": 4}, format="json")
    assert response.status_code == 201
    seats = response.json()["seats"]
    assert len(seats) == 4
    rows = {s["label"][0] for s in seats}
    numbers = sorted(int(s["label"][1:]) for s in seats)
    assert len(rows) == 1, seats
    assert numbers == list(range(numbers[0], numbers[0] + 4)), seats


def test_a_quantity_that_no_longer_fits_together_is_409_no_seats_together(api, screening):
    room = screening.auditorium
    # Take every other seat: 25 left, but never two side by side.
    taken = [s.pk for s in room.seats.all() if s.x % 2 == 0]
    for i in range(0, len(taken), 10):
        assert hold(api, screening, *taken[i : i + 10]).status_code == 201
    response = api.post("/api/v1/holds/", {"screening": screening.pk, "quantity": 2}, format="json")
    assert_error(response, 409, "no_seats_together")


def test_a_partner_sees_its_own_hold(api, screening):
    a1, a2 = factories.seats(screening.auditorium, "A1", "A2")
    created = hold(api, screening, a1, a2).json()

    response = api.get(f"/api/v1/holds/{created['id']}/")
    assert response.status_code == 200
    assert response.json() == created


def test_another_partner_cannot_see_or_release_a_hold(api, other_api, screening):
    a1, a2 = factories.seats(screening.auditorium, "A1", "A2")
    hold_id = hold(api, screening, a1, a2).json()["id"]

    assert assert_error(other_api.get(f"/api/v1/holds/{hold_id}/"), 404, "hold_not_found") == {
        "hold": hold_id
    }
    assert_error(other_api.delete(f"/api/v1/holds/{hold_id}/"), 404, "hold_not_found")
    assert Hold.objects.get(pk=hold_id).status == HoldStatus.ACTIVE
    assert SeatClaim.objects.filter(hold_id=hold_id).count() == 2


@pytest.mark.django_db(transaction=True)
def test_releasing_a_hold_puts_its_seats_back_on_sale_at_once(api, other_api, screening):
    a1, a2, a3 = factories.seats(screening.auditorium, "A1", "A2", "A3")
    hold_id = hold(api, screening, a1, a2).json()["id"]
    assert seat_statuses(api, screening)[a1] == "held"  # the map is now in the cache

    response = api.delete(f"/api/v1/holds/{hold_id}/")
    assert response.status_code == 204
    assert response.content == b""

    statuses = seat_statuses(api, screening)  # within the map's second of cache life
    assert (statuses[a1], statuses[a2], statuses[a3]) == ("available",) * 3
    assert hold(other_api, screening, a1, a2).status_code == 201


def test_releasing_twice_is_harmless(api, screening):
    a1, a2 = factories.seats(screening.auditorium, "A1", "A2")
    hold_id = hold(api, screening, a1, a2).json()["id"]
    assert api.delete(f"/api/v1/holds/{hold_id}/").status_code == 204
    assert api.delete(f"/api/v1/holds/{hold_id}/").status_code == 204

    body = api.get(f"/api/v1/holds/{hold_id}/").json()
    assert (body["status"], body["live"]) == ("released", False)
    assert sorted(s["id"] for s in body["seats"]) == [a1, a2]  # what it held, for the record
    assert not SeatClaim.objects.exists()


def test_releasing_a_hold_does_not_touch_another_hold_of_the_screening(api, screening):
    a1, a2 = factories.seats(screening.auditorium, "A1", "A2")
    mine = hold(api, screening, a1).json()["id"]
    other = hold(api, screening, a2).json()["id"]
    assert api.delete(f"/api/v1/holds/{mine}/").status_code == 204
    assert list(SeatClaim.objects.values_list("hold_id", "seat_id")) == [
        (Hold.objects.get(pk=other).pk, a2)
    ]


def test_a_hold_turned_into_an_order_cannot_be_released(api, screening):
    a1, a2 = factories.seats(screening.auditorium, "A1", "A2")
    hold_id = hold(api, screening, a1, a2).json()["id"]
    assert order(api, hold_id, [(a1, "adult"), (a2, "adult")]).status_code == 201

    details = assert_error(api.delete(f"/api/v1/holds/{hold_id}/"), 409, "hold_not_active")
    assert details["status"] == "ordered"
    assert SeatClaim.objects.filter(seat_id__in=[a1, a2]).count() == 2
    assert api.get(f"/api/v1/holds/{hold_id}/").json()["status"] == "ordered"


def test_an_expired_hold_says_it_is_no_longer_live(api, screening):
    hold_id = hold(api, screening, *factories.seats(screening.auditorium, "A1")).json()["id"]
    past = timezone.now() - timedelta(seconds=1)
    Hold.objects.filter(pk=hold_id).update(expires_at=past)
    SeatClaim.objects.filter(hold_id=hold_id).update(expires_at=past)

    body = api.get(f"/api/v1/holds/{hold_id}/").json()
    assert (body["status"], body["live"]) == ("active", False)  # no sweep has run; still dead
    assert api.delete(f"/api/v1/holds/{hold_id}/").status_code == 204
