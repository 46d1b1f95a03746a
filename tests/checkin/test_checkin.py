"""POST /api/v1/checkins/: a ticket is admitted once, every refusal has its own code, a resent
scan counts once, and a scanner sees its own cinema's tickets alone."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from payments.refunds import refund_create
from tests import factories
from tests.api.support import assert_error
from tests.payments import flow
from ticketing import errors
from ticketing.checkin.models import CheckIn, Scan
from ticketing.orders.models import Ticket
from ticketing.orders.services import (
    order_cancel,
    order_mark_refunded,
    tickets_mark_refunded,
)
from ticketing.screenings.models import Screening, ScreeningStatus

from .support import Lobby, admissions, nonce, scan

pytestmark = pytest.mark.django_db


@pytest.fixture
def lobby():
    return Lobby()


def test_a_signed_ticket_is_admitted_with_its_seat_and_film(lobby):
    ticket = lobby.ticket("C7")
    door = lobby.scanner("Door 1")
    response = scan(door, lobby.qr(ticket), screening=lobby.screening.pk, door="Door 1")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["result"] == "admitted" and body["door"] == "Door 1"
    assert body["ticket"] == {
        "seat": "C7",
        "type": "Adult",
        "screening": lobby.screening.pk,
        "film": lobby.screening.film.title,
        "starts_at": lobby.screening.starts_at.isoformat(),
    }
    ticket.refresh_from_db()
    assert ticket.checked_in_at is not None
    admission = CheckIn.objects.get(ticket=ticket)
    assert admission.door == "Door 1" and not admission.offline
    assert admission.admitted_at == ticket.checked_in_at
    assert admission.device is not None


def test_a_second_scan_is_already_checked_in_with_the_first_time_and_door(lobby):
    ticket = lobby.ticket()
    first = scan(lobby.scanner("Door 1"), lobby.qr(ticket), door="Door 1").json()
    again = scan(lobby.scanner("Door 2"), lobby.qr(ticket), door="Door 2")
    details = assert_error(again, 409, "already_checked_in")
    assert details == {"admitted_at": first["admitted_at"], "door": "Door 1"}
    assert admissions(ticket) == 1


def test_an_old_mqt_code_and_a_typed_code_are_admitted_online(lobby):
    old, typed = lobby.paid("A1", "A2")
    door = lobby.scanner()
    assert scan(door, f"MQT:{old.code}").json()["result"] == "admitted"
    assert scan(door, f" {typed.code} ").json()["result"] == "admitted"


def test_the_door_name_defaults_to_the_scanners_name(lobby):
    ticket = lobby.ticket()
    assert scan(lobby.scanner("Side door phone"), lobby.qr(ticket)).json()["door"] == (
        "Side door phone"
    )


def test_an_unknown_ticket_is_404(lobby):
    assert_error(scan(lobby.scanner(), "Zx3kP0qLm8VtR2wYb7NcJd5A"), 404, "ticket_unknown")


def test_a_ticket_of_an_unpaid_order_is_unknown(lobby):
    order = factories.pending_order(lobby.screening, "B1", buyer_key="unpaid")
    code = order.tickets.get().code
    assert_error(scan(lobby.scanner(), code), 404, "ticket_unknown")


def test_a_ticket_for_another_screening_says_which(lobby):
    later = factories.screening(lobby.room, starts_in=timedelta(hours=4))
    ticket = lobby.ticket("A1", screening=later)
    response = scan(lobby.scanner(), lobby.qr(ticket), screening=lobby.screening.pk)
    details = assert_error(response, 422, "ticket_other_screening")
    assert details["screening"] == {
        "id": later.pk,
        "film": later.film.title,
        "starts_at": later.starts_at.isoformat(),
        "auditorium": "Screen 1",
    }
    assert details["checking"] == lobby.screening.pk
    assert admissions(ticket) == 0


def test_a_refunded_ticket_is_refused(lobby):
    whole, part = lobby.ticket("A1"), lobby.paid("A2", "A3")
    order_mark_refunded(order_id=whole.order_id, actor="test")
    tickets_mark_refunded(order=part[0].order, tickets=[part[0]], now=timezone.now())
    door = lobby.scanner()
    assert_error(scan(door, lobby.qr(whole)), 422, "ticket_refunded")
    assert_error(scan(door, lobby.qr(part[0])), 422, "ticket_refunded")
    assert scan(door, lobby.qr(part[1])).status_code == 200  # the order's other ticket is good


def test_a_cancelled_order_or_screening_is_refused(lobby):
    ticket = lobby.ticket("A1")
    order_cancel(order_id=ticket.order_id, actor="test")
    assert_error(scan(lobby.scanner(), lobby.qr(ticket)), 422, "ticket_cancelled")
    other = lobby.ticket("A2")
    Screening.objects.filter(pk=lobby.screening.pk).update(status=ScreeningStatus.CANCELLED)
    details = assert_error(scan(lobby.scanner(), lobby.qr(other)), 422, "ticket_cancelled")
    assert details == {"reason": "screening_cancelled"}


def test_too_early_is_checkin_not_open_with_the_doors_time(settings):
    lobby = Lobby(starts_in=timedelta(hours=3))
    ticket = lobby.ticket()
    details = assert_error(scan(lobby.scanner(), lobby.qr(ticket)), 422, "checkin_not_open")
    opens = lobby.screening.starts_at - timedelta(minutes=60)
    assert details == {"doors_open_at": opens.isoformat()}
    settings.MARQUEE_CHECKIN = {**settings.MARQUEE_CHECKIN, "DOORS_OPEN_MINUTES": 240}
    assert scan(lobby.scanner(), lobby.qr(ticket)).status_code == 200


@pytest.mark.parametrize("reason", ["body", "signature", "kid"])
def test_a_forged_or_altered_code_is_ticket_code_invalid(lobby, reason):
    ticket = lobby.ticket()
    kid, body, sig = lobby.qr(ticket)[4:].split(".")
    other = lobby.qr(lobby.ticket("A2"))[4:].split(".")
    forged = {
        "body": f"MQ2:{kid}.{other[1]}.{sig}",
        "signature": f"MQ2:{kid}.{body}.{other[2]}",
        "kid": f"MQ2:nope.{body}.{sig}",
    }[reason]
    assert_error(scan(lobby.scanner(), forged), 422, "ticket_code_invalid")
    assert Ticket.objects.filter(checked_in_at__isnull=False).count() == 0


@pytest.mark.parametrize("text", ["MQ2:dev.x.y", "not a code!", "MQ2:" + "A" * 500])
def test_malformed_codes_are_ticket_code_invalid_never_a_500(lobby, text):
    assert_error(scan(lobby.scanner(), text), 422, "ticket_code_invalid")


def test_a_bad_body_is_400_invalid(lobby):
    door = lobby.scanner()
    assert_error(door.post("/api/v1/checkins/", {}, format="json"), 400, "invalid")
    assert_error(scan(door, "x", screening="seven"), 400, "invalid")
    assert_error(scan(door, "x", nonce="not a nonce!"), 400, "invalid")


def test_a_resent_nonce_gets_the_first_answer_and_counts_once(lobby):
    ticket = lobby.ticket()
    door, once = lobby.scanner(), nonce()
    first = scan(door, lobby.qr(ticket), nonce=once)
    again = scan(door, lobby.qr(ticket), nonce=once)
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert admissions(ticket) == 1
    assert Scan.objects.filter(nonce=once).count() == 1
    assert Scan.objects.count() == 1


def test_a_resent_refusal_is_replayed_as_it_was_answered(lobby):
    ticket = lobby.ticket()
    door, once = lobby.scanner(), nonce()
    scan(door, lobby.qr(ticket))
    first = scan(door, lobby.qr(ticket), nonce=once)
    assert_error(first, 409, "already_checked_in")
    again = scan(door, lobby.qr(ticket), nonce=once)
    assert again.status_code == 409 and again.json() == first.json()


def test_a_nonce_sent_with_another_code_or_by_another_scanner_is_refused(lobby):
    one, two = lobby.paid("A1", "A2")
    door, once = lobby.scanner(), nonce()
    assert scan(door, lobby.qr(one), nonce=once).status_code == 200
    assert_error(scan(door, lobby.qr(two), nonce=once), 400, "nonce_reused")
    assert_error(scan(lobby.scanner("Door 2"), lobby.qr(one), nonce=once), 400, "nonce_reused")
    assert admissions(two) == 0


def test_a_scanner_sees_its_own_cinemas_tickets_alone(lobby):
    elsewhere = Lobby()
    ticket = elsewhere.ticket()
    assert_error(scan(lobby.scanner(), elsewhere.qr(ticket)), 404, "ticket_unknown")
    assert_error(scan(lobby.scanner(), ticket.code), 404, "ticket_unknown")
    assert admissions(ticket) == 0
    assert scan(elsewhere.scanner(), elsewhere.qr(ticket)).status_code == 200


def test_every_answer_is_in_the_doors_log(lobby):
    ticket = lobby.ticket()
    door = lobby.scanner("Door 3")
    scan(door, lobby.qr(ticket), door="Door 3")
    scan(door, lobby.qr(ticket), door="Door 3")
    scan(door, "forged!")
    assert list(Scan.objects.order_by("pk").values_list("result", "door")) == [
        ("admitted", "Door 3"),
        ("already_checked_in", "Door 3"),
        ("ticket_code_invalid", "Door 3"),
    ]


def test_a_ticket_admitted_at_the_door_is_not_refunded(lobby):
    """The door's admission meets the refund rule of payments/refunds.py."""
    payment = flow.paid(lobby.screening, "A1")
    ticket = Ticket.objects.get(order_id=payment.order_id)
    assert scan(lobby.scanner(), lobby.qr(ticket)).status_code == 200
    with pytest.raises(errors.TicketCheckedIn):
        refund_create(order_id=payment.order_id, ticket_ids=[ticket.pk], actor="u", reason="x")


def test_a_ticket_refunded_through_its_provider_is_refused_at_the_door(lobby):
    payment = flow.paid(lobby.screening, "A1", "A2")
    one, two = Ticket.objects.filter(order_id=payment.order_id).order_by("seat_label")
    refund_create(order_id=payment.order_id, ticket_ids=[one.pk], actor="u", reason="x")
    assert_error(scan(lobby.scanner(), lobby.qr(one)), 422, "ticket_refunded")
    assert scan(lobby.scanner(), lobby.qr(two)).status_code == 200
