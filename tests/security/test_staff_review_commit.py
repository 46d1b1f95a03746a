"""Security review of issue 11, the check-ins that only fail at commit (tests that commit)."""

from __future__ import annotations

import pytest
from django.utils import timezone

from tests.checkin.support import Lobby, nonce, scan
from ticketing.checkin.models import Scan

pytestmark = pytest.mark.django_db(transaction=True)

NO_SUCH_SCREENING = 2_147_483_000


def test_a_scan_naming_a_screening_that_does_not_exist_is_answered_not_a_500():
    lobby = Lobby()
    ticket = lobby.ticket("A1")
    door = lobby.scanner()
    door.raise_request_exception = False

    unknown = scan(door, "A" * 24, screening=NO_SUCH_SCREENING, nonce=nonce())
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "ticket_unknown"

    other = scan(door, lobby.qr(ticket), screening=NO_SUCH_SCREENING)
    assert other.status_code == 422
    assert other.json()["error"]["code"] == "ticket_other_screening"

    synced = door.post(
        "/api/v1/checkins/sync/",
        {
            "scans": [
                {
                    "code": lobby.qr(ticket),
                    "screening": NO_SUCH_SCREENING,
                    "nonce": nonce(),
                    "scanned_at": timezone.now().isoformat(),
                }
            ]
        },
        format="json",
    )
    assert synced.status_code == 200
    assert synced.json()["results"][0]["status"] == 422
    assert Scan.objects.count() == 3
    assert not Scan.objects.filter(screening_id__isnull=False).exists()
