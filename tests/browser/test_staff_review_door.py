"""The door page drains a long offline queue (security review of issue 11): a phone that made more
scans offline than one sync takes sends them in batches, instead of being refused every time and
keeping them for ever."""

from __future__ import annotations

import json

from playwright.sync_api import expect

from ticketing.checkin.models import Scan

from .support import wait_until
from .test_door import door, door_phone, open_door  # noqa: F401 (fixtures)

QUEUED = 520  # more than the server's SYNC_MAX_SCANS (500)


def test_a_queue_longer_than_one_sync_is_sent_in_batches(door_phone, door):  # noqa: F811
    page = open_door(door_phone, door)
    scans = [
        {
            "code": f"MQT:unknownticket{n:05d}",
            "screening": door.screening.pk,
            "door": "Main door",
            "nonce": f"review-{n:05d}",
            "scanned_at": "2026-01-01T00:00:00Z",
        }
        for n in range(QUEUED)
    ]
    page.evaluate("q => localStorage.setItem('mq-door:queue', q)", json.dumps(scans))
    page.reload()

    wait_until(
        lambda: Scan.objects.count() == QUEUED, "every queued scan reached the server", timeout=60
    )
    expect(page.locator("#door-banner")).to_be_hidden(timeout=20_000)
    assert page.evaluate("JSON.parse(localStorage.getItem('mq-door:queue'))") == []
