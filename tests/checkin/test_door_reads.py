"""What a door reads to work offline: the public keys, the day's screenings of its cinema, and a
screening's tickets with their statuses (refunds and cancellations are the revocations)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests import factories
from tests.api.support import assert_error
from ticketing import ticket_signing
from ticketing.orders.services import order_cancel, tickets_mark_refunded

from .support import Lobby, scan

pytestmark = pytest.mark.django_db


@pytest.fixture
def lobby():
    return Lobby()


def test_the_keys_are_every_public_key_a_door_verifies_with(lobby, settings):
    old, new = ticket_signing.new_key_text("old"), ticket_signing.new_key_text("new")
    settings.MARQUEE_TICKET_SIGNING_KEYS = f"{new},{old}"
    body = lobby.scanner().get("/api/v1/checkins/keys/").json()
    assert [(k["kid"], k["alg"]) for k in body["keys"]] == [("new", "Ed25519"), ("old", "Ed25519")]
    assert body["keys"] == ticket_signing.public_keys()
    assert "=" not in body["keys"][0]["public_key"]
    assert len(ticket_signing.b64url_decode(body["keys"][0]["public_key"])) == 32


def test_the_screenings_are_the_days_at_the_doors_cinema(lobby):
    tomorrow = factories.screening(lobby.room, starts_in=timedelta(days=1))
    factories.screening(factories.auditorium(Lobby().cinema))  # another cinema's
    door = lobby.scanner()
    today = door.get("/api/v1/checkins/screenings/").json()["results"]
    assert [s["id"] for s in today] == [lobby.screening.pk]
    assert today[0] == {
        "id": lobby.screening.pk,
        "film": lobby.screening.film.title,
        "starts_at": lobby.screening.starts_at.isoformat(),
        "auditorium": "Screen 1",
        "cinema": lobby.cinema.name,
    }
    day = timezone.localdate(tomorrow.starts_at, lobby.cinema.tz).isoformat()
    later = door.get(f"/api/v1/checkins/screenings/?date={day}").json()["results"]
    assert tomorrow.pk in [s["id"] for s in later]
    assert_error(door.get("/api/v1/checkins/screenings/?date=soon"), 400, "invalid")


def test_today_is_the_cinemas_own_today():
    """At 23:30 in Los Angeles it is tomorrow in UTC: the door there still lists tonight's."""
    lobby = Lobby(time_zone="America/Los_Angeles")
    local_today = timezone.localdate(timezone.now(), lobby.cinema.tz)
    listed = lobby.scanner().get("/api/v1/checkins/screenings/").json()["results"]
    expected = timezone.localdate(lobby.screening.starts_at, lobby.cinema.tz) == local_today
    assert (lobby.screening.pk in [s["id"] for s in listed]) == expected


def test_the_ticket_list_has_every_issued_ticket_with_its_status_and_admission(lobby):
    valid, refunded, admitted = lobby.paid("A1", "A2", "A3")
    cancelled = lobby.ticket("B1")
    factories.pending_order(lobby.screening, "C1", buyer_key="unpaid")  # never issued
    tickets_mark_refunded(order=refunded.order, tickets=[refunded], now=timezone.now())
    order_cancel(order_id=cancelled.order_id, actor="test")
    door = lobby.scanner("North")
    admission = scan(door, lobby.qr(admitted), door="North").json()

    body = door.get(f"/api/v1/checkins/screenings/{lobby.screening.pk}/tickets/").json()
    assert body["screening"] == {
        "id": lobby.screening.pk,
        "film": lobby.screening.film.title,
        "starts_at": lobby.screening.starts_at.isoformat(),
        "auditorium": "Screen 1",
        "doors_open_at": (lobby.screening.starts_at - timedelta(minutes=60)).isoformat(),
    }
    assert body["generated_at"]
    assert body["tickets"] == [
        {
            "t": valid.code,
            "seat": "A1",
            "type": "Adult",
            "status": "valid",
            "admitted_at": None,
            "door": "",
        },
        {
            "t": refunded.code,
            "seat": "A2",
            "type": "Adult",
            "status": "refunded",
            "admitted_at": None,
            "door": "",
        },
        {
            "t": admitted.code,
            "seat": "A3",
            "type": "Adult",
            "status": "valid",
            "admitted_at": admission["admitted_at"],
            "door": "North",
        },
        {
            "t": cancelled.code,
            "seat": "B1",
            "type": "Adult",
            "status": "cancelled",
            "admitted_at": None,
            "door": "",
        },
    ]


def test_another_cinemas_screening_has_no_ticket_list(lobby):
    elsewhere = Lobby()
    url = f"/api/v1/checkins/screenings/{elsewhere.screening.pk}/tickets/"
    assert_error(lobby.scanner().get(url), 404, "screening_not_found")
    assert elsewhere.scanner().get(url).status_code == 200
    assert_error(
        lobby.scanner().get("/api/v1/checkins/screenings/999999/tickets/"),
        404,
        "screening_not_found",
    )
