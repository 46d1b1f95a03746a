"""Staff find tickets let in at two doors in the admin, and the doors' admissions and log."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from tests.staff.support import signed_in
from ticketing.checkin.services import Door, ScanRequest, checkin_sync

from .support import Lobby

pytestmark = pytest.mark.django_db


def test_the_conflicts_admission_and_scans_lists_show_what_the_doors_did():
    lobby = Lobby()
    ticket = lobby.ticket("C7")
    code = lobby.qr(ticket)
    door = Door(cinema_ids=frozenset({lobby.cinema.pk}))
    for name, ago in (("North", 5), ("South", 3)):
        scan = ScanRequest(
            code=code,
            door=name,
            nonce=f"{name}-1",
            scanned_at=timezone.now() - timedelta(minutes=ago),
        )
        checkin_sync(door=door, scans=[scan])
    admin = signed_in(Client(), User.objects.create_superuser("boss", password="pw-for-tests-only"))
    conflicts = admin.get("/admin/checkin/checkinconflict/")
    assert conflicts.status_code == 200
    page = conflicts.content.decode()
    assert "C7" in page and "North" in page and "South" in page
    assert admin.get("/admin/checkin/checkin/").status_code == 200
    assert admin.get("/admin/checkin/scan/").status_code == 200
    assert admin.get("/admin/checkin/checkinconflict/add/").status_code == 403
