"""Orders through the API: made from a live hold and priced by the server, seen only by the
partner that made them, and cancelled with their seats back on sale at once."""

from __future__ import annotations

from datetime import datetime

import pytest

from tests import factories
from tests.api.support import assert_error, hold, order, seat_statuses
from ticketing.inventory.models import Hold, HoldStatus, SeatClaim
from ticketing.orders.models import Order, OrderStatusChange
from ticketing.orders.services import order_mark_paid
from ticketing.screenings.models import Seat

pytestmark = pytest.mark.django_db


@pytest.fixture
def placed(api, screening):
    """A pending order for A1 (adult) and A2 (child), and its seats."""
    a1, a2 = factories.seats(screening.auditorium, "A1", "A2")
    hold_id = hold(api, screening, a1, a2).json()["id"]
    response = order(api, hold_id, [(a1, "adult"), (a2, "child")])
    assert response.status_code == 201, response.content
    return response.json(), [a1, a2]


def test_an_order_is_pending_payment_priced_by_the_server(api, screening, placed):
    body, (a1, a2) = placed
    assert body["status"] == "pending_payment"
    assert (
        body["currency"],
        body["subtotal"],
        body["booking_fee"],
        body["discount"],
        body["total"],
    ) == ("EUR", 2000, 200, 0, 2200)
    assert [
        (t["seat"], t["seat_label"], t["ticket_type"], t["price"], t["surcharge"])
        for t in body["tickets"]
    ] == [
        (a1, "A1", "Adult", 1200, 0),
        (a2, "A2", "Child", 800, 0),
    ]
    assert all(t["code"] is None for t in body["tickets"])  # no ticket codes before payment
    assert body["customer"] == {"email": "ada@example.com", "name": "Ada Lovelace"}
    listed = api.get(f"/api/v1/screenings/{screening.pk}/").json()
    assert body["screening"]["id"] == screening.pk
    assert body["screening"]["starts_at"] == listed["starts_at"]  # one way of writing an instant
    assert body["next_action"] == {
        "type": "payment",
        "amount": 2200,
        "currency": "EUR",
        "pay_before": body["expires_at"],
    }
    assert len(body["code"]) >= 6


def test_the_booking_fee_is_capped_and_surcharges_apply_per_seat_type(api, screening):
    seats = factories.seats(screening.auditorium, "A1", "A2", "A3", "A4")
    Seat.objects.filter(pk__in=seats[:2]).update(seat_type="premium")
    hold_id = hold(api, screening, *seats).json()["id"]
    body = order(api, hold_id, [(s, "adult") for s in seats]).json()
    # 4 x 1200, two premium seats at +300; the fee of 100 a ticket is capped at 300
    assert (body["subtotal"], body["booking_fee"], body["total"]) == (5400, 300, 5700)


def test_prices_sent_by_the_caller_are_ignored(api, screening):
    a1, _ = factories.seats(screening.auditorium, "A1", "A2")
    hold_id = hold(api, screening, a1).json()["id"]
    response = api.post(
        "/api/v1/orders/",
        {
            "hold": hold_id,
            "customer": {"email": "a@example.com", "name": "A"},
            "total": 1,
            "subtotal": 1,
            "tickets": [{"seat": a1, "ticket_type": "adult", "price": 1}],
        },
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["total"] == 1300


def test_making_an_order_extends_the_hold_to_reach_payment(api, screening):
    a1, _ = factories.seats(screening.auditorium, "A1", "A2")
    held = hold(api, screening, a1).json()
    body = order(api, held["id"], [(a1, "adult")]).json()
    assert datetime.fromisoformat(body["expires_at"]) >= datetime.fromisoformat(held["expires_at"])
    assert Hold.objects.get(pk=held["id"]).status == HoldStatus.ORDERED


def test_a_partner_sees_its_own_order(api, placed):
    body, _ = placed
    response = api.get(f"/api/v1/orders/{body['id']}/")
    assert response.status_code == 200
    assert response.json() == body


def test_a_paid_order_shows_its_ticket_codes(api, placed):
    body, _ = placed
    order_mark_paid(order_id=body["id"], actor="test")
    paid = api.get(f"/api/v1/orders/{body['id']}/").json()
    assert paid["status"] == "paid" and paid["paid_at"] and paid["next_action"] is None
    assert all(t["code"] for t in paid["tickets"])


def test_another_partner_cannot_see_or_cancel_an_order(api, other_api, placed):
    body, _ = placed
    assert assert_error(other_api.get(f"/api/v1/orders/{body['id']}/"), 404, "order_not_found") == {
        "order": body["id"]
    }
    assert_error(other_api.post(f"/api/v1/orders/{body['id']}/cancel/"), 404, "order_not_found")
    assert Order.objects.get(pk=body["id"]).status == "pending_payment"


@pytest.mark.django_db(transaction=True)
def test_cancelling_a_pending_order_puts_its_seats_back_on_sale_at_once(
    api, other_api, screening, placed
):
    body, (a1, a2) = placed
    assert seat_statuses(api, screening)[a1] == "held"  # the map is now in the cache

    response = api.post(
        f"/api/v1/orders/{body['id']}/cancel/", {"reason": "changed my mind"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert response.json()["next_action"] is None

    statuses = seat_statuses(api, screening)
    assert statuses[a1] == statuses[a2] == "available"
    assert not SeatClaim.objects.exists()
    assert hold(other_api, screening, a1, a2).status_code == 201
    change = OrderStatusChange.objects.get(order_id=body["id"], to_status="cancelled")
    assert (change.from_status, change.actor, change.reason) == (
        "pending_payment",
        f"partner:{api.partner.pk}",
        "changed my mind",
    )


def test_cancelling_twice_is_harmless(api, placed):
    body, _ = placed
    first = api.post(f"/api/v1/orders/{body['id']}/cancel/")
    second = api.post(f"/api/v1/orders/{body['id']}/cancel/")
    assert first.status_code == second.status_code == 200
    assert first.json()["status"] == second.json()["status"] == "cancelled"
    assert OrderStatusChange.objects.filter(order_id=body["id"], to_status="cancelled").count() == 1


def test_cancelling_a_paid_order_before_the_screening_frees_its_seats(api, placed, screening):
    body, (a1, a2) = placed
    order_mark_paid(order_id=body["id"], actor="test")
    response = api.post(f"/api/v1/orders/{body['id']}/cancel/")
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert not SeatClaim.objects.filter(seat_id__in=[a1, a2]).exists()


def test_an_expired_order_cannot_be_cancelled(api, placed):
    body, _ = placed
    Order.objects.filter(pk=body["id"]).update(status="expired")
    details = assert_error(
        api.post(f"/api/v1/orders/{body['id']}/cancel/"), 409, "order_state_conflict"
    )
    assert details["status"] == "expired"


def test_a_cancel_reason_longer_than_200_characters_is_400(api, placed):
    body, _ = placed
    response = api.post(
        f"/api/v1/orders/{body['id']}/cancel/", {"reason": "x" * 201}, format="json"
    )
    assert set(assert_error(response, 400, "invalid")) == {"reason"}
    assert Order.objects.get(pk=body["id"]).status == "pending_payment"
