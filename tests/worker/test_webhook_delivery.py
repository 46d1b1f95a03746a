"""Partner webhooks through a real Celery worker on the real Redis broker: an event emitted in a
committed transaction reaches a local receiver that fails, then, when beat's sweep retries it,
recovers; the partner verifies both with the `standardwebhooks` package; and the event's
transaction never waits for the receiver."""

from __future__ import annotations

import os
import time
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from tests import factories
from tests.webhooks.receiver import Receiver
from ticketing.celery import app
from ticketing.outbox.models import OutboxMessage
from ticketing.outbox.tasks import deliver_message
from ticketing.webhooks import events, services
from ticketing.webhooks.models import DeliveryStatus, WebhookDelivery
from ticketing.webhooks.tasks import send_due_deliveries

from .conftest import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.xdist_group("celery-worker")]

LOCAL_RECEIVERS = {"MARQUEE_WEBHOOKS_ALLOW_HTTP": "1", "MARQUEE_WEBHOOKS_ALLOW_PRIVATE": "1"}


@pytest.fixture(scope="module", autouse=True)
def _worker_may_call_local_receivers():
    """The worker this module starts reads its settings from the environment: let it reach
    the receivers on 127.0.0.1 over http, as the suite's production settings would not."""
    saved = {name: os.environ.get(name) for name in LOCAL_RECEIVERS}
    os.environ.update(LOCAL_RECEIVERS)
    yield
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.fixture(autouse=True)
def _here_too(settings):
    settings.MARQUEE_WEBHOOKS = {
        **settings.MARQUEE_WEBHOOKS,
        "ALLOW_HTTP": True,
        "ALLOW_PRIVATE_ADDRESSES": True,
    }


def _partner_endpoint(url: str):
    partner, _ = factories.partner_with_key(scopes=["read", "book", "webhooks"])
    endpoint, secret = services.endpoint_create(
        partner=partner, url=url, event_types=[events.ORDER_PAID]
    )
    return partner, endpoint, secret


def _emit(partner, key="order.paid:1"):
    with transaction.atomic():
        (delivery,) = services.event_emit(
            partner=partner,
            type=events.ORDER_PAID,
            data={"order": "MQ-7KX4P2", "total": 2200, "currency": "EUR"},
            dedupe_key=key,
        )
    return delivery


def _status(delivery) -> tuple[str, int]:
    delivery.refresh_from_db()
    return delivery.status, delivery.attempts


def test_a_receiver_that_fails_then_recovers_gets_the_event_verified_and_only_once_more(
    live_worker,
):
    with Receiver(500, 200) as receiver:
        partner, _, secret = _partner_endpoint(receiver.url)

        delivery = _emit(partner)

        # The worker's first attempt, from the outbox after commit: a 500, retried in 5 s.
        assert len(receiver.wait_for(1)) == 1
        assert wait_for(lambda: _status(delivery) == (DeliveryStatus.PENDING, 1))
        assert delivery.last_status_code == 500
        assert delivery.next_attempt_at - delivery.last_attempt_at == timedelta(seconds=5)

        # Beat's sweep before the retry is due sends nothing...
        send_due_deliveries.delay()
        app.control.ping(timeout=1)
        assert len(receiver.wait_for(2, timeout=1)) == 1
        # ...and once it is due, hands the delivery to the worker, which gets a 200.
        time.sleep(max((delivery.next_attempt_at - timezone.now()).total_seconds(), 0) + 0.2)
        send_due_deliveries.delay()
        requests = receiver.wait_for(2)
        assert wait_for(lambda: _status(delivery) == (DeliveryStatus.DELIVERED, 2))
        assert delivery.last_status_code == 200 and delivery.delivered_at is not None

        for request in requests:
            body = Webhook(secret).verify(request.body, request.headers)
            assert body["type"] == "order.paid"
            assert body["data"] == {"order": "MQ-7KX4P2", "total": 2200, "currency": "EUR"}
        assert {r.headers["webhook-id"] for r in requests} == {delivery.event_id}

        # The outbox message queued again and another sweep: still sent once more, no more.
        deliver_message.delay(OutboxMessage.objects.get().pk)
        send_due_deliveries.delay()
        app.control.ping(timeout=1)
        assert len(receiver.wait_for(3, timeout=1.5)) == 2


def test_the_events_transaction_never_waits_for_a_slow_receiver(live_worker):
    with Receiver(200, delay=3) as receiver:
        partner, _, secret = _partner_endpoint(receiver.url)

        started = time.monotonic()
        delivery = _emit(partner)
        assert time.monotonic() - started < 1  # no HTTP in the change's path

        assert wait_for(lambda: _status(delivery)[0] == DeliveryStatus.DELIVERED)
        (request,) = receiver.requests
        Webhook(secret).verify(request.body, request.headers)
        assert WebhookDelivery.objects.count() == 1
