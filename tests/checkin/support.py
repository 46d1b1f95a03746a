"""A cinema whose doors are open, paid tickets, scanners and staff at its door, for the tests."""

from __future__ import annotations

import itertools
import uuid
from datetime import timedelta

from rest_framework.test import APIClient

from tests import factories
from tests.staff.support import signed_in, staff_user
from ticketing import ticket_signing
from ticketing.checkin.models import CheckIn
from ticketing.checkin.services import scanner_create
from ticketing.orders.models import Ticket
from ticketing.orders.services import order_mark_paid
from ticketing.staff import roles

_buyers = itertools.count(1)


class Lobby:
    """A cinema with a screening starting in 15 minutes (its doors are open) and tickets."""

    def __init__(self, *, starts_in: timedelta = timedelta(minutes=15), time_zone="UTC"):
        self.cinema = factories.cinema(time_zone=time_zone)
        self.room = factories.auditorium(self.cinema, rows=5, per_row=10, name="Screen 1")
        self.screening = factories.screening(self.room, starts_in=starts_in)

    def paid(self, *labels: str, screening=None) -> list[Ticket]:
        order = factories.pending_order(
            screening or self.screening, *labels, buyer_key=f"door-buyer-{next(_buyers)}"
        )
        order_mark_paid(order_id=order.pk, actor="test")
        return list(Ticket.objects.filter(order=order).order_by("seat_label"))

    def ticket(self, label: str = "A1", screening=None) -> Ticket:
        (ticket,) = self.paid(label, screening=screening)
        return ticket

    def qr(self, ticket: Ticket) -> str:
        return ticket_signing.sign(code=ticket.code, screening_id=ticket.order.screening_id)

    def scanner(self, name: str = "Door 1") -> APIClient:
        _, raw = scanner_create(cinema=self.cinema, name=name)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
        return client

    def staff(self, role=roles.BOX_OFFICE, *, csrf: bool = False) -> APIClient:
        client = APIClient(enforce_csrf_checks=csrf)
        return signed_in(client, staff_user(role, self.cinema))


def scan(client, code: str, **fields):
    return client.post("/api/v1/checkins/", {"code": code, **fields}, format="json")


def nonce() -> str:
    return str(uuid.uuid4())


def admissions(ticket: Ticket) -> int:
    return CheckIn.objects.filter(ticket=ticket).count()
