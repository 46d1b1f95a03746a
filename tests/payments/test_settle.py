"""Settling: a platform partner that took the money itself marks its order paid, with its
reference and its commission; only keys with the `settle` scope may."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from payments.models import Payment
from tests import factories
from tests.api.support import assert_error, hold, order
from ticketing.orders.models import Order, OrderStatus
from ticketing.outbox.models import OutboxMessage
from ticketing.partners.models import Partner

from . import flow

pytestmark = pytest.mark.django_db


def _client(scopes, commission_bps=0):
    partner, raw = factories.partner_with_key(scopes=scopes)
    Partner.objects.filter(pk=partner.pk).update(commission_bps=commission_bps)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def _order(client, screening, *labels):
    seat_ids = factories.seats(screening.auditorium, *labels)
    held = hold(client, screening, *seat_ids).json()
    created = order(client, held["id"], [(s, "adult") for s in seat_ids])
    assert created.status_code == 201, created.content
    return created.json()


def test_a_partner_with_the_settle_scope_settles_its_order_with_commission(screening):
    client = _client(["read", "book", "settle"], commission_bps=750)
    created = _order(client, screening, "A1", "A2")
    response = client.post(
        f"/api/v1/orders/{created['id']}/settle/", {"reference": "ACME-42"}, format="json"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "paid"
    assert body["partner_reference"] == "ACME-42"
    assert body["commission"] == created["total"] * 750 // 10000
    settled = Order.objects.get(pk=created["id"])
    assert (settled.status, settled.partner_reference) == (OrderStatus.PAID, "ACME-42")
    assert settled.commission == created["total"] * 750 // 10000
    assert settled.history.last().reason == "settled by partner: ACME-42"
    assert OutboxMessage.objects.filter(topic="order.confirmation").count() == 1
    assert not Payment.objects.exists()


def test_settling_again_is_a_no_op_and_the_idempotency_key_replays(screening):
    client = _client(["book", "settle"], commission_bps=1000)
    created = _order(client, screening, "A1")
    url = f"/api/v1/orders/{created['id']}/settle/"
    first = client.post(url, {"reference": "R1"}, format="json", HTTP_IDEMPOTENCY_KEY="s1")
    replay = client.post(url, {"reference": "R1"}, format="json", HTTP_IDEMPOTENCY_KEY="s1")
    again = client.post(url, {"reference": "R1"}, format="json")
    assert first.status_code == replay.status_code == again.status_code == 200
    assert replay["Idempotent-Replayed"] == "true"
    assert_error(client.post(url, {"reference": "R2"}, format="json"), 409, "order_state_conflict")
    assert Order.objects.get(pk=created["id"]).partner_reference == "R1"
    assert OutboxMessage.objects.filter(topic="order.confirmation").count() == 1


def test_a_key_without_the_settle_scope_is_forbidden(screening):
    client = _client(["read", "book"])
    created = _order(client, screening, "A1")
    response = client.post(
        f"/api/v1/orders/{created['id']}/settle/", {"reference": "X"}, format="json"
    )
    assert_error(response, 403, "scope_required")
    assert Order.objects.get(pk=created["id"]).status == OrderStatus.PENDING_PAYMENT


def test_a_partner_cannot_settle_another_partners_order(screening):
    owner = _client(["book", "settle"])
    created = _order(owner, screening, "A1")
    stranger = _client(["book", "settle"])
    response = stranger.post(
        f"/api/v1/orders/{created['id']}/settle/", {"reference": "X"}, format="json"
    )
    assert_error(response, 404, "order_not_found")


def test_settle_needs_a_reference(screening):
    client = _client(["book", "settle"])
    created = _order(client, screening, "A1")
    details = assert_error(
        client.post(f"/api/v1/orders/{created['id']}/settle/", {}, format="json"), 400, "invalid"
    )
    assert "reference" in details


def test_an_order_paid_through_a_provider_cannot_be_settled(screening):
    client = _client(["book", "settle"])
    created = _order(client, screening, "A1")
    response = client.post(f"/api/v1/orders/{created['id']}/payments/", {}, format="json")
    flow.receive(flow.event(Payment.objects.get(pk=response.json()["id"])))
    assert_error(
        client.post(f"/api/v1/orders/{created['id']}/settle/", {"reference": "X"}, format="json"),
        409,
        "order_state_conflict",
    )


def test_a_settled_order_cannot_be_refunded_by_us(screening):
    from payments.refunds import refund_create
    from ticketing import errors

    client = _client(["book", "settle"])
    created = _order(client, screening, "A1")
    client.post(f"/api/v1/orders/{created['id']}/settle/", {"reference": "X9"}, format="json")
    with pytest.raises(errors.RefundNotAllowed) as caught:
        refund_create(order_id=created["id"], actor="user:1", reason="goodwill")
    assert caught.value.details["partner_reference"] == "X9"
    # The partner cancels it itself (and refunds its customer): the seats go back on sale.
    response = client.post(f"/api/v1/orders/{created['id']}/cancel/", {}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
