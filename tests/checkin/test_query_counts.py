"""A scan's cost in queries is fixed: a door scans a full room in minutes, and the ticket list a
door caches is two queries whatever the size of the room."""

from __future__ import annotations

import pytest

from .support import Lobby, nonce, scan

pytestmark = pytest.mark.django_db

# The ticket with its order locked; the conditional UPDATE; the check-in; the scan; and the
# savepoint pair of the scan's transaction (a savepoint here, inside the test's transaction).
ADMISSION = 6
# The ticket; the UPDATE that changes nothing; the admission read (locked); the scan; savepoints.
SECOND_SCAN = 6
TICKET_LIST = 2  # the screening with its film and room; the tickets with their admissions


def test_a_check_in_costs_a_fixed_number_of_queries(django_assert_max_num_queries):
    lobby = Lobby()
    first, second = lobby.paid("A1", "A2")
    door = lobby.scanner()
    door.get("/api/v1/checkins/keys/")  # the key known to this process, its use noted
    code = lobby.qr(first)
    with django_assert_max_num_queries(ADMISSION):
        assert scan(door, code, nonce=nonce()).status_code == 200
    with django_assert_max_num_queries(SECOND_SCAN):
        assert scan(door, code, nonce=nonce()).status_code == 409
    with django_assert_max_num_queries(ADMISSION):
        assert scan(door, second.code).status_code == 200


def test_the_ticket_list_costs_the_same_for_ten_tickets_as_for_forty(django_assert_num_queries):
    lobby = Lobby()
    door = lobby.scanner()
    door.get("/api/v1/checkins/keys/")
    url = f"/api/v1/checkins/screenings/{lobby.screening.pk}/tickets/"
    lobby.paid(*[f"A{n}" for n in range(1, 11)])
    with django_assert_num_queries(TICKET_LIST):
        assert len(door.get(url).json()["tickets"]) == 10
    for row in "BCD":
        lobby.paid(*[f"{row}{n}" for n in range(1, 11)])
    with django_assert_num_queries(TICKET_LIST):
        assert len(door.get(url).json()["tickets"]) == 40
