"""Invariant 11: a ticket is admitted at most once, whatever the number of scanners. Doors scan
at the same instant on their own PostgreSQL connections; the rows left decide the test."""

from __future__ import annotations

import pytest
from django.db import connection

from tests.concurrency import run_concurrently, run_many, unexpected, winners
from ticketing import errors
from ticketing.checkin.models import CheckIn, Scan
from ticketing.checkin.services import Door, ScanRequest, checkin_scan
from ticketing.orders.models import Ticket
from ticketing.orders.services import order_mark_refunded

from .support import Lobby

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="races need PostgreSQL"),
]


def at(lobby: Lobby, name: str) -> Door:
    """A door of the lobby's cinema (`name` is what the scan says)."""
    return Door(cinema_ids=frozenset({lobby.cinema.pk}))


def test_two_doors_scanning_one_ticket_at_once_admit_it_exactly_once():
    lobby = Lobby()
    ticket = lobby.ticket("C7")
    code = lobby.qr(ticket)

    def door(name):
        return lambda: checkin_scan(door=at(lobby, name), scan=ScanRequest(code=code, door=name))

    outcomes = run_concurrently([door("North door"), door("South door")])
    assert unexpected(outcomes) == []
    answers = winners(outcomes)
    admitted = [a for a in answers if a.error is None]
    refused = [a for a in answers if a.error is not None]
    assert len(admitted) == 1 and len(refused) == 1
    assert isinstance(refused[0].error, errors.AlreadyCheckedIn)
    admission = CheckIn.objects.get(ticket=ticket)  # exactly one row
    assert refused[0].error.details == {
        "admitted_at": admission.admitted_at.isoformat(),
        "door": admission.door,
    }
    assert admission.door == admitted[0].admission["door"]
    assert Ticket.objects.get(pk=ticket.pk).checked_in_at == admission.admitted_at
    assert sorted(Scan.objects.values_list("result", flat=True)) == [
        "admitted",
        "already_checked_in",
    ]


def test_eight_scanners_racing_for_one_ticket_admit_it_once():
    lobby = Lobby()
    ticket = lobby.ticket()
    code = lobby.qr(ticket)
    outcomes = run_many(
        8,
        lambda i: checkin_scan(
            door=at(lobby, f"Door {i}"), scan=ScanRequest(code=code, door=f"Door {i}")
        ),
    )
    assert unexpected(outcomes) == []
    assert sum(1 for o in winners(outcomes) if o.error is None) == 1
    assert CheckIn.objects.filter(ticket=ticket).count() == 1


def test_one_scan_sent_twice_at_once_with_its_nonce_counts_once_and_both_get_its_answer():
    lobby = Lobby()
    ticket = lobby.ticket()
    scan = ScanRequest(code=lobby.qr(ticket), door="Door 1", nonce="5b8c9d0e-race")
    outcomes = run_many(2, lambda i: checkin_scan(door=at(lobby, "Door 1"), scan=scan))
    assert unexpected(outcomes) == []
    answers = winners(outcomes)
    assert [a.error for a in answers] == [None, None]
    assert answers[0].admission == answers[1].admission
    assert CheckIn.objects.filter(ticket=ticket).count() == 1
    assert Scan.objects.filter(nonce=scan.nonce).count() == 1


def test_a_scan_racing_its_orders_refund_is_decided_on_the_order_as_the_lock_leaves_it():
    """The scan locks the order FOR SHARE; the refund waits for it, or it for the refund and
    then reads `refunded`: never an admission decided on a status already gone."""
    lobby = Lobby()
    ticket = lobby.ticket()
    code = lobby.qr(ticket)
    outcomes = run_concurrently(
        [
            lambda: checkin_scan(door=at(lobby, "Door 1"), scan=ScanRequest(code=code)),
            lambda: order_mark_refunded(order_id=ticket.order_id, actor="test"),
        ]
    )
    assert unexpected(outcomes) == []
    scan = outcomes[0].result
    ticket.refresh_from_db()
    admitted = CheckIn.objects.filter(ticket=ticket).exists()
    assert admitted == (scan.error is None)
    if not admitted:
        assert isinstance(scan.error, errors.TicketRefunded)
