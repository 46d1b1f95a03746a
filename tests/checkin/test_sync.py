"""POST /api/v1/checkins/sync/: scans a door made without the network, sent when it returns.
Each gets the answer POST /checkins/ would have given; two doors that let one ticket in offline
leave one admission (the first scan by time) and a conflict listed for staff."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.api.support import assert_error
from ticketing.checkin.models import CheckIn, CheckInConflict, Scan

from .support import Lobby, admissions, nonce

pytestmark = pytest.mark.django_db


@pytest.fixture
def lobby():
    return Lobby()


def offline(code, *, door, ago: timedelta, once=None, **fields):
    return {
        "code": code,
        "door": door,
        "nonce": once or nonce(),
        "scanned_at": (timezone.now() - ago).isoformat(),
        **fields,
    }


def sync(client, *scans):
    response = client.post("/api/v1/checkins/sync/", {"scans": list(scans)}, format="json")
    assert response.status_code == 200, response.content
    return response.json()["results"]


def test_offline_scans_are_admitted_at_the_time_they_were_scanned(lobby):
    one, two = lobby.paid("A1", "A2")
    north = lobby.scanner("North")
    results = sync(
        north,
        offline(lobby.qr(one), door="North", ago=timedelta(minutes=9), once="n-1"),
        offline(lobby.qr(two), door="North", ago=timedelta(minutes=8), once="n-2"),
    )
    assert [(r["nonce"], r["status"], r["result"]["result"]) for r in results] == [
        ("n-1", 200, "admitted"),
        ("n-2", 200, "admitted"),
    ]
    admission = CheckIn.objects.get(ticket=one)
    assert admission.offline
    assert abs(admission.admitted_at - (timezone.now() - timedelta(minutes=9))) < timedelta(
        seconds=5
    )
    assert results[0]["result"]["ticket"]["seat"] == "A1"


def test_two_doors_that_admitted_one_ticket_offline_leave_one_admission_and_a_conflict(lobby):
    ticket = lobby.ticket("C7")
    north, south = lobby.scanner("North"), lobby.scanner("South")
    # South scanned first (10 minutes ago) but syncs last.
    (late,) = sync(north, offline(lobby.qr(ticket), door="North", ago=timedelta(minutes=4)))
    assert late["status"] == 200
    (early,) = sync(south, offline(lobby.qr(ticket), door="South", ago=timedelta(minutes=10)))
    assert early["status"] == 200 and early["result"]["door"] == "South"

    admission = CheckIn.objects.get(ticket=ticket)
    assert admission.door == "South"
    ticket.refresh_from_db()
    assert ticket.checked_in_at == admission.admitted_at
    (conflict,) = CheckInConflict.objects.all()
    assert (conflict.ticket_id, conflict.admission_id, conflict.door) == (
        ticket.pk,
        admission.pk,
        "North",
    )
    assert conflict.scanned_at > admission.admitted_at


def test_an_offline_scan_of_a_ticket_already_admitted_is_a_conflict_with_the_409_it_would_get(
    lobby,
):
    ticket = lobby.ticket()
    north, south = lobby.scanner("North"), lobby.scanner("South")
    sync(north, offline(lobby.qr(ticket), door="North", ago=timedelta(minutes=10)))
    (result,) = sync(south, offline(lobby.qr(ticket), door="South", ago=timedelta(minutes=2)))
    assert result["status"] == 409
    assert result["error"]["code"] == "already_checked_in"
    assert result["error"]["details"]["door"] == "North"
    assert CheckInConflict.objects.get().door == "South"
    assert admissions(ticket) == 1

    listed = lobby.staff().get("/api/v1/checkins/conflicts/").json()["results"]
    assert [(c["seat"], c["admitted_door"], c["other_door"]) for c in listed] == [
        ("A1", "North", "South")
    ]


def test_a_sync_sent_again_counts_every_scan_once_and_answers_as_the_first_time(lobby):
    one, two = lobby.paid("A1", "A2")
    door = lobby.scanner("North")
    scans = [
        offline(lobby.qr(one), door="North", ago=timedelta(minutes=3)),
        offline(lobby.qr(two), door="North", ago=timedelta(minutes=2)),
        offline(lobby.qr(one), door="North", ago=timedelta(minutes=1)),  # scanned twice
    ]
    first = sync(door, *scans)
    assert [r["status"] for r in first] == [200, 200, 409]
    again = sync(door, *scans)
    assert again == first
    assert CheckIn.objects.count() == 2
    assert Scan.objects.count() == 3
    assert CheckInConflict.objects.count() == 0  # the same door twice: it said so at the time


def test_each_scan_of_a_sync_is_answered_even_when_some_are_refused(lobby):
    good, refunded_one = lobby.paid("A1", "A2")
    from ticketing.orders.services import tickets_mark_refunded

    tickets_mark_refunded(order=refunded_one.order, tickets=[refunded_one], now=timezone.now())
    results = sync(
        lobby.scanner(),
        offline(lobby.qr(good), door="N", ago=timedelta(minutes=1)),
        offline(lobby.qr(refunded_one), door="N", ago=timedelta(minutes=1)),
        offline("forged", door="N", ago=timedelta(minutes=1)),
        {"code": lobby.qr(good), "nonce": "no-time"},
        offline(lobby.qr(good), door="N", ago=-timedelta(hours=1)),  # a clock far ahead
    )
    assert [(r["status"], r.get("error", {}).get("code")) for r in results] == [
        (200, None),
        (422, "ticket_refunded"),
        (422, "ticket_code_invalid"),
        (400, "invalid"),
        (400, "invalid"),
    ]
    assert results[3]["nonce"] == "no-time" and "scanned_at" in results[3]["error"]["details"]


def test_a_sync_body_is_checked(lobby, settings):
    door = lobby.scanner()
    assert_error(door.post("/api/v1/checkins/sync/", {}, format="json"), 400, "invalid")
    assert_error(door.post("/api/v1/checkins/sync/", {"scans": []}, format="json"), 400, "invalid")
    settings.MARQUEE_CHECKIN = {**settings.MARQUEE_CHECKIN, "SYNC_MAX_SCANS": 2}
    scan = {"code": "x", "scanned_at": "2026-01-01T00:00:00Z"}
    many = {"scans": [{**scan, "nonce": str(i)} for i in range(3)]}
    assert_error(door.post("/api/v1/checkins/sync/", many, format="json"), 400, "invalid")


def test_an_offline_scan_before_the_doors_opened_is_refused():
    lobby = Lobby(starts_in=timedelta(minutes=30))
    ticket = lobby.ticket()
    (result,) = sync(
        lobby.scanner(), offline(lobby.qr(ticket), door="N", ago=timedelta(minutes=40))
    )
    assert (result["status"], result["error"]["code"]) == (422, "checkin_not_open")
