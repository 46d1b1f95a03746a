"""A security review of the staff pages and the door (issue 11): each test is an attack that
worked before its fix."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.checkin.support import Lobby, nonce, scan
from tests.staff.support import signed_in, staff_user, totp_device
from ticketing.checkin.models import CheckIn, CheckInConflict
from ticketing.staff import devices, roles

pytestmark = pytest.mark.django_db


def sync(client, *scans):
    response = client.post("/api/v1/checkins/sync/", {"scans": list(scans)}, format="json")
    assert response.status_code == 200, response.content
    return response.json()["results"]


def test_an_offline_scan_dated_before_the_doors_opened_cannot_take_an_admission():
    """A scanner posting a scanned_at long past (2001) for a ticket another door admitted used to
    become the admission, and the real door a conflict."""
    lobby = Lobby()
    ticket = lobby.ticket("A1")
    north, south = lobby.scanner("North"), lobby.scanner("South")
    assert scan(north, lobby.qr(ticket), screening=lobby.screening.pk).status_code == 200

    (result,) = sync(
        south,
        {
            "code": lobby.qr(ticket),
            "door": "South",
            "nonce": nonce(),
            "scanned_at": "2001-01-01T00:00:00Z",
        },
    )

    assert result["status"] == 422
    assert result["error"]["code"] == "checkin_not_open"
    admission = CheckIn.objects.get(ticket=ticket)
    assert admission.door == "North"
    assert timezone.now() - admission.admitted_at < timedelta(minutes=1)
    ticket.refresh_from_db()
    assert ticket.checked_in_at == admission.admitted_at
    assert not CheckInConflict.objects.exists()


def test_a_sign_in_with_a_nul_byte_is_a_wrong_password_not_a_500(client):
    for url in ("/staff/login/", "/admin/login/"):
        response = client.post(url, {"username": "boss\x00", "password": "x\x00"})
        assert response.status_code == 200
        assert "do not match a staff account" in response.content.decode()


def test_a_code_with_a_nul_byte_is_a_wrong_code_not_a_500(client):
    member = staff_user(roles.BOX_OFFICE)
    totp_device(member)
    devices.backup_codes_issue(user=member)
    client.post("/staff/login/", {"username": member.username, "password": "pw-for-tests-only"})

    for code in ("abcd\x00efg", "12345\x00"):
        response = client.post("/staff/login/code/", {"code": code})
        assert response.status_code == 200
        assert "That code is not right" in response.content.decode()


def test_the_door_page_reads_a_screening_that_is_not_a_number_as_none(client):
    lobby = Lobby()
    signed_in(client, staff_user(roles.BOX_OFFICE, lobby.cinema))
    for asked in ("²", "٣", "1²"):
        assert client.get("/staff/door/", {"screening": asked}).status_code == 200


def test_a_scanner_key_repeating_big_syncs_is_throttled(settings):
    """Each sync of 500 scans is seconds of database work: a leaked key sending it at the
    scanner's 600 requests a minute held every worker."""
    settings.MARQUEE_CHECKIN = {**settings.MARQUEE_CHECKIN, "SYNC_RATE": "3/min"}
    lobby = Lobby()
    scanner, other = lobby.scanner("North"), lobby.scanner("South")
    junk = {"code": "A" * 24, "scanned_at": timezone.now().isoformat()}

    def send(client):
        return client.post(
            "/api/v1/checkins/sync/", {"scans": [{**junk, "nonce": nonce()}]}, format="json"
        )

    assert [send(scanner).status_code for _ in range(4)] == [200, 200, 200, 429]
    refused = send(scanner)
    assert refused.json()["error"]["code"] == "throttled"
    assert int(refused["Retry-After"]) >= 1
    assert send(other).status_code == 200  # counted per door
    # Scans one at a time are the door's usual rate, not the sync's.
    assert scan(scanner, "A" * 24).status_code == 404
