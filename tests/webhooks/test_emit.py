"""Emitting an event: one delivery per active endpoint of the partner subscribed to its type,
written in the caller's transaction, sent after it commits and never when it rolls back."""

from __future__ import annotations

import pytest
from django.db import transaction

from ticketing.outbox.models import OutboxMessage
from ticketing.outbox.topics import WEBHOOK_DELIVERY_TOPIC
from ticketing.webhooks import events, services
from ticketing.webhooks.models import DeliveryStatus, WebhookDelivery

from .conftest import endpoint_for

pytestmark = pytest.mark.django_db


def _emit(partner, key="order.paid:1", type=events.ORDER_PAID):
    return services.event_emit(
        partner=partner, type=type, data={"order": "MQ-7KX4P2"}, dedupe_key=key
    )


def test_emitting_writes_deliveries_only_for_the_partners_subscribed_active_endpoints(
    partner, other_partner
):
    paid, _ = endpoint_for(partner, "https://hooks.example.com/a", events=["order.paid"])
    both, _ = endpoint_for(
        partner, "https://hooks.example.com/b", events=["order.paid", "order.refunded"]
    )
    endpoint_for(partner, "https://hooks.example.com/c", events=["order.refunded"])
    deleted, _ = endpoint_for(partner, "https://hooks.example.com/d")
    services.endpoint_delete(endpoint=deleted)
    turned_off, _ = endpoint_for(partner, "https://hooks.example.com/e")
    services.endpoint_disable(endpoint_id=turned_off.pk, reason="410")
    endpoint_for(other_partner, "https://hooks.example.com/other")

    deliveries = _emit(partner)

    assert {d.endpoint_id for d in deliveries} == {paid.pk, both.pk}
    assert WebhookDelivery.objects.count() == 2
    assert {d.event_id for d in deliveries} == {deliveries[0].event_id}  # one event, one id
    first = WebhookDelivery.objects.get(endpoint=paid)
    assert first.status == DeliveryStatus.PENDING and first.attempts == 0
    assert first.payload["type"] == "order.paid"
    assert first.payload["data"] == {"order": "MQ-7KX4P2"}
    assert OutboxMessage.objects.filter(topic=WEBHOOK_DELIVERY_TOPIC).count() == 2


def test_an_event_emitted_twice_is_delivered_once_per_endpoint(partner):
    endpoint_for(partner, "https://hooks.example.com/a")

    first = _emit(partner, key="order.paid:42")
    again = _emit(partner, key="order.paid:42")

    assert [d.pk for d in first] == [d.pk for d in again]
    assert WebhookDelivery.objects.count() == 1
    assert OutboxMessage.objects.count() == 1


def test_a_partner_without_subscribed_endpoints_gets_nothing_written(partner):
    endpoint_for(partner, "https://hooks.example.com/a", events=["screening.cancelled"])

    assert _emit(partner) == []
    assert not WebhookDelivery.objects.exists() and not OutboxMessage.objects.exists()


def test_an_unknown_event_type_is_a_programming_error(partner):
    with pytest.raises(ValueError, match="Unknown webhook event type"):
        _emit(partner, type="order.exploded")


@pytest.mark.django_db(transaction=True)
def test_the_delivery_is_sent_after_the_commit_and_not_before(partner, receiver):
    endpoint_for(partner, receiver.url)

    with transaction.atomic():
        _emit(partner)
        assert receiver.requests == []  # no HTTP inside the change's transaction

    (request,) = receiver.wait_for(1)
    assert request.headers["webhook-id"] == WebhookDelivery.objects.get().event_id
    assert WebhookDelivery.objects.get().status == DeliveryStatus.DELIVERED


@pytest.mark.django_db(transaction=True)
def test_nothing_is_sent_or_kept_when_the_change_rolls_back(partner, receiver):
    endpoint_for(partner, receiver.url)

    with pytest.raises(RuntimeError), transaction.atomic():
        _emit(partner)
        raise RuntimeError("the sale failed")

    assert receiver.wait_for(1, timeout=1) == []
    assert not WebhookDelivery.objects.exists() and not OutboxMessage.objects.exists()
