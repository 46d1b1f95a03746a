"""The partner's happy path: seat map, hold, order, paid."""

import pytest
from django.core import mail

from tests import factories
from ticketing.orders.services import order_mark_paid

pytestmark = pytest.mark.django_db(transaction=True)


def test_partner_holds_two_seats_orders_them_and_the_buyer_is_emailed_once_paid(api, screening):
    a1, a2 = factories.seats(screening.auditorium, "C5", "C6")

    seatmap = api.get(f"/api/v1/screenings/{screening.pk}/seats/").json()
    assert seatmap["counts"]["available"] == 50

    hold = api.post("/api/v1/holds/", {"screening": screening.pk, "seats": [a1, a2]}, format="json")
    assert hold.status_code == 201, hold.json()
    assert sorted(s["id"] for s in hold.json()["seats"]) == sorted([a1, a2])

    statuses = {
        s["id"]: s["status"]
        for s in api.get(f"/api/v1/screenings/{screening.pk}/seats/").json()["seats"]
    }
    assert statuses[a1] == statuses[a2] == "held"

    order = api.post(
        "/api/v1/orders/",
        {
            "hold": hold.json()["id"],
            "customer": {"email": "ada@example.com", "name": "Ada"},
            "tickets": [{"seat": a1, "ticket_type": "adult"}, {"seat": a2, "ticket_type": "child"}],
        },
        format="json",
    )
    assert order.status_code == 201, order.json()
    body = order.json()
    assert body["status"] == "pending_payment"
    # 1200 + 800 tickets, booking fee 100 per ticket (cap 300): 2200
    assert (body["subtotal"], body["booking_fee"], body["total"]) == (2000, 200, 2200)

    order_mark_paid(order_id=body["id"], actor="test")
    paid = api.get(f"/api/v1/orders/{body['id']}/").json()
    assert paid["status"] == "paid"
    assert all(t["code"] for t in paid["tickets"])
    assert len(mail.outbox) == 1
    assert body["code"] in mail.outbox[0].body

    statuses = {
        s["id"]: s["status"]
        for s in api.get(f"/api/v1/screenings/{screening.pk}/seats/").json()["seats"]
    }
    assert statuses[a1] == statuses[a2] == "sold"
