"""Sending a delivery: Standard Webhooks headers a partner verifies with the `standardwebhooks`
package, 2xx delivered, other answers and silence retried on the delivery's own schedule, a 410
turning the endpoint off, and each attempt made by one sender only."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from ticketing.webhooks import events, services
from ticketing.webhooks.models import DeliveryStatus, WebhookDelivery

from .conftest import endpoint_for

pytestmark = pytest.mark.django_db


def _emit(partner, key="order.paid:1"):
    with transaction.atomic():
        return services.event_emit(
            partner=partner, type=events.ORDER_PAID, data={"order": "MQ-1"}, dedupe_key=key
        )


def _make_due(delivery):
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1)
    )


def _retry(delivery) -> bool:
    _make_due(delivery)
    return services.delivery_attempt(delivery_id=delivery.pk)


def test_a_2xx_marks_the_delivery_delivered_and_the_signature_verifies(
    partner, receiver, django_capture_on_commit_callbacks
):
    _, secret = endpoint_for(partner, receiver.url)
    assert secret.startswith("whsec_")

    with django_capture_on_commit_callbacks(execute=True):
        (delivery,) = _emit(partner)

    (request,) = receiver.wait_for(1)
    assert request.path == "/hooks/marquee"
    assert request.headers["content-type"] == "application/json"
    body = Webhook(secret).verify(request.body, request.headers)
    assert body["type"] == "order.paid" and body["data"] == {"order": "MQ-1"}
    assert request.headers["webhook-id"] == delivery.event_id
    assert len(request.headers["webhook-signature"].split(" ")) == 1
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED
    assert delivery.attempts == 1 and delivery.last_status_code == 200
    assert delivery.last_response == "answered 200" and delivery.delivered_at is not None


def test_another_secret_does_not_verify(partner, receiver, django_capture_on_commit_callbacks):
    endpoint_for(partner, receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        _emit(partner)

    (request,) = receiver.wait_for(1)
    with pytest.raises(WebhookVerificationError):
        Webhook("whsec_" + "A" * 43 + "=").verify(request.body, request.headers)


def test_a_failure_is_retried_on_the_schedule_until_the_endpoint_recovers(
    partner, make_receiver, django_capture_on_commit_callbacks
):
    receiver = make_receiver(500, 503, 200)
    _, secret = endpoint_for(partner, receiver.url)

    with django_capture_on_commit_callbacks(execute=True):
        (delivery,) = _emit(partner)
    receiver.wait_for(1)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING and delivery.attempts == 1
    assert delivery.last_status_code == 500 and delivery.last_error == "Answered HTTP 500."
    wait = delivery.next_attempt_at - delivery.last_attempt_at
    assert timedelta(seconds=4) < wait <= timedelta(seconds=6)  # Svix's first retry: 5 s

    assert services.delivery_attempt(delivery_id=delivery.pk) is False  # not due yet
    assert _retry(delivery) is True
    delivery.refresh_from_db()
    assert delivery.last_status_code == 503 and delivery.attempts == 2
    assert delivery.next_attempt_at - delivery.last_attempt_at == timedelta(minutes=5)

    assert _retry(delivery) is True
    requests = receiver.wait_for(3)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED and delivery.attempts == 3
    assert delivery.next_attempt_at is None and delivery.last_error == ""
    assert len({r.headers["webhook-id"] for r in requests}) == 1  # the same event each time
    for request in requests:
        Webhook(secret).verify(request.body, request.headers)


def test_the_schedule_spans_about_three_days_then_the_delivery_fails():
    total = sum(services.RETRY_DELAYS, timedelta(0))
    assert timedelta(days=2.5) < total < timedelta(days=3.5)
    assert services.RETRY_DELAYS[:5] == (
        timedelta(seconds=5),
        timedelta(minutes=5),
        timedelta(minutes=30),
        timedelta(hours=2),
        timedelta(hours=5),
    )


def test_the_last_attempt_failing_fails_the_delivery(partner, make_receiver):
    receiver = make_receiver(500)
    endpoint_for(partner, receiver.url)
    (delivery,) = _emit(partner)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(attempts=len(services.RETRY_DELAYS))

    assert _retry(delivery) is True

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.attempts == len(services.RETRY_DELAYS) + 1
    assert delivery.next_attempt_at is None


def test_no_answer_within_the_timeout_is_retried(partner, make_receiver, settings):
    settings.MARQUEE_WEBHOOKS = {**settings.MARQUEE_WEBHOOKS, "TIMEOUT_SECONDS": 0.5}
    receiver = make_receiver(200, delay=2)
    endpoint_for(partner, receiver.url)
    (delivery,) = _emit(partner)

    started = timezone.now()
    assert services.delivery_attempt(delivery_id=delivery.pk) is True

    assert timezone.now() - started < timedelta(seconds=2)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING
    assert "timed out" in delivery.last_error and delivery.last_status_code is None


def test_a_410_turns_the_endpoint_off_and_says_why(partner, make_receiver):
    receiver = make_receiver(410)
    endpoint, _ = endpoint_for(partner, receiver.url)
    (first,) = _emit(partner, key="order.paid:1")
    (waiting,) = _emit(partner, key="order.paid:2")

    services.delivery_attempt(delivery_id=first.pk)

    endpoint.refresh_from_db()
    assert endpoint.is_active is False and endpoint.disabled_at is not None
    assert "410" in endpoint.disabled_reason and str(first.pk) in endpoint.disabled_reason
    first.refresh_from_db()
    waiting.refresh_from_db()
    assert first.status == DeliveryStatus.FAILED and first.last_status_code == 410
    assert waiting.status == DeliveryStatus.FAILED and "turned off" in waiting.last_error
    assert _emit(partner, key="order.paid:3") == []  # nothing more is written for it
    assert len(receiver.requests) == 1


def test_during_a_rotation_both_secrets_sign_and_each_verifies(partner, make_receiver):
    receiver = make_receiver(200)
    endpoint, old = endpoint_for(partner, receiver.url)
    endpoint, new = services.endpoint_secret_rotate(endpoint=endpoint)
    assert new != old and endpoint.previous_secret_expires_at > timezone.now()

    (delivery,) = _emit(partner, key="order.paid:1")
    services.delivery_attempt(delivery_id=delivery.pk)

    (request,) = receiver.wait_for(1)
    signatures = request.headers["webhook-signature"].split(" ")
    assert len(signatures) == 2 and all(s.startswith("v1,") for s in signatures)
    for secret, signature in zip((new, old), signatures, strict=True):
        alone = {**request.headers, "webhook-signature": signature}
        Webhook(secret).verify(request.body, alone)  # each signature is its secret's
        Webhook(secret).verify(request.body, request.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(old).verify(request.body, {**request.headers, "webhook-signature": signatures[0]})


def test_after_the_overlap_only_the_new_secret_signs(partner, make_receiver):
    receiver = make_receiver(200)
    endpoint, old = endpoint_for(partner, receiver.url)
    endpoint, new = services.endpoint_secret_rotate(endpoint=endpoint, overlap=timedelta(0))
    assert endpoint.previous_secret == ""

    (delivery,) = _emit(partner)
    services.delivery_attempt(delivery_id=delivery.pk)

    (request,) = receiver.wait_for(1)
    assert len(request.headers["webhook-signature"].split(" ")) == 1
    Webhook(new).verify(request.body, request.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(old).verify(request.body, request.headers)


def test_a_delivery_queued_twice_is_sent_once(partner, receiver):
    endpoint_for(partner, receiver.url)
    (delivery,) = _emit(partner)

    assert services.delivery_attempt(delivery_id=delivery.pk) is True
    assert services.delivery_attempt(delivery_id=delivery.pk) is False  # the outbox again
    assert services.deliveries_send_due() == []  # and the sweep

    assert len(receiver.wait_for(2, timeout=0.5)) == 1


def test_a_sender_that_died_mid_send_is_replaced_after_the_stale_time(partner, receiver):
    endpoint_for(partner, receiver.url)
    (delivery,) = _emit(partner)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.SENDING,
        attempts=1,
        claimed_at=timezone.now() - services.STALE_CLAIM - timedelta(seconds=1),
    )

    assert services.deliveries_send_due() == [(str(delivery.pk), 2)]
    assert services.delivery_post(delivery_id=delivery.pk, attempt=1) is False  # the dead one's
    assert services.delivery_post(delivery_id=delivery.pk, attempt=2) is True

    assert len(receiver.wait_for(1)) == 1
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED


@pytest.mark.django_db(transaction=True)
def test_the_sweep_skips_deliveries_another_sweep_has_locked(partner):
    endpoint_for(partner, "https://hooks.example.com/a")
    (locked,) = _emit(partner, key="order.paid:1")
    (free,) = _emit(partner, key="order.paid:2")  # both tried once on commit, both due again:
    WebhookDelivery.objects.update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    holding, release, done = threading.Event(), threading.Event(), threading.Event()

    def other_sweep():
        try:
            with transaction.atomic():
                list(WebhookDelivery.objects.select_for_update().filter(pk=locked.pk))
                holding.set()
                release.wait(10)
        finally:
            connection.close()
            done.set()

    thread = threading.Thread(target=other_sweep)
    thread.start()
    try:
        assert holding.wait(10)
        claimed = services.deliveries_send_due()  # does not wait for the locked row
    finally:
        release.set()
        thread.join(10)

    assert claimed == [(str(free.pk), 2)]
    assert WebhookDelivery.objects.get(pk=locked.pk).status == DeliveryStatus.PENDING


def test_a_host_that_resolves_to_a_private_address_is_not_called(partner, receiver, settings):
    endpoint_for(partner, receiver.url.replace("127.0.0.1", "localhost"))
    settings.MARQUEE_WEBHOOKS = {**settings.MARQUEE_WEBHOOKS, "ALLOW_PRIVATE_ADDRESSES": False}
    (delivery,) = _emit(partner)

    services.delivery_attempt(delivery_id=delivery.pk)

    assert receiver.wait_for(1, timeout=0.5) == []
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING  # retried: the name may change its answer
    assert "DestinationRefused" in delivery.last_error and "127.0.0.1" in delivery.last_error
