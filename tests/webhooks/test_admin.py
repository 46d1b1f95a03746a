"""Staff see every partner's webhook endpoints (never their secrets) and the delivery log, and
redeliver or turn an endpoint back on through actions that call the services."""

from __future__ import annotations

import pytest

from ticketing.webhooks import events, services
from ticketing.webhooks.models import DeliveryStatus, WebhookDelivery

from .conftest import endpoint_for

pytestmark = pytest.mark.django_db


def _delivery(partner, url):
    endpoint, secret = endpoint_for(partner, url)
    (delivery,) = services.event_emit(
        partner=partner, type=events.ORDER_PAID, data={"order": "MQ-1"}, dedupe_key="order.paid:1"
    )
    return endpoint, secret, delivery


def test_staff_see_endpoints_and_deliveries_but_no_secret(admin_client, partner):
    endpoint, secret, delivery = _delivery(partner, "https://hooks.example.com/a")

    for path in (
        "/admin/webhooks/webhookendpoint/",
        f"/admin/webhooks/webhookendpoint/{endpoint.pk}/change/",
        "/admin/webhooks/webhookdelivery/",
        f"/admin/webhooks/webhookdelivery/{delivery.pk}/change/",
    ):
        response = admin_client.get(path)
        assert response.status_code == 200, path
        assert secret not in response.content.decode(), path
    page = admin_client.get("/admin/webhooks/webhookdelivery/").content.decode()
    assert delivery.event_id in page


def test_the_redeliver_action_sends_a_delivery_again(
    admin_client, partner, receiver, django_capture_on_commit_callbacks
):
    _, _, delivery = _delivery(partner, receiver.url)
    services.delivery_attempt(delivery_id=delivery.pk)

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            "/admin/webhooks/webhookdelivery/",
            {"action": "redeliver", "_selected_action": [str(delivery.pk)]},
            follow=True,
        )

    assert "1 delivery queued again" in response.content.decode()
    assert len(receiver.wait_for(2)) == 2
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED


def test_redelivering_to_a_turned_off_endpoint_is_refused_with_the_reason(admin_client, partner):
    endpoint, _, delivery = _delivery(partner, "https://hooks.example.com/a")
    services.endpoint_disable(endpoint_id=endpoint.pk, reason="Answered 410 Gone.")

    response = admin_client.post(
        "/admin/webhooks/webhookdelivery/",
        {"action": "redeliver", "_selected_action": [str(delivery.pk)]},
        follow=True,
    )

    assert "turned off (Answered 410 Gone.)" in response.content.decode()
    assert WebhookDelivery.objects.get(pk=delivery.pk).status == DeliveryStatus.FAILED


def test_staff_turn_an_endpoint_back_on(admin_client, partner):
    endpoint, _, _ = _delivery(partner, "https://hooks.example.com/a")
    services.endpoint_disable(endpoint_id=endpoint.pk, reason="Answered 410 Gone.")

    admin_client.post(
        "/admin/webhooks/webhookendpoint/",
        {"action": "enable", "_selected_action": [str(endpoint.pk)]},
    )

    endpoint.refresh_from_db()
    assert endpoint.is_active and endpoint.disabled_reason == "" and endpoint.disabled_at is None
