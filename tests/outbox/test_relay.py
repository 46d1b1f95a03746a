"""The relay backs off from a failing message instead of burning its attempts in minutes."""

from datetime import timedelta

import pytest
from django.utils import timezone

from ticketing.outbox import services
from ticketing.outbox.models import MessageStatus, OutboxMessage

pytestmark = pytest.mark.django_db


@pytest.fixture
def failing_topic():
    calls = []

    def deliver(payload):
        calls.append(payload)
        raise ConnectionRefusedError("mail server down")

    services.HANDLERS["test.failing"] = deliver
    yield calls
    services.HANDLERS.pop("test.failing")


def test_a_failed_message_waits_for_its_backoff_before_the_relay_tries_again(
    failing_topic, monkeypatch
):
    message = OutboxMessage.objects.create(
        topic="test.failing",
        dedupe_key="m-1",
        payload={},
        created_at=timezone.now() - timedelta(minutes=1),
    )
    assert services.deliver(message.pk) is False
    message.refresh_from_db()
    assert (message.status, message.attempts) == (MessageStatus.PENDING, 1)
    assert "mail server down" in message.last_error

    dispatched = []
    monkeypatch.setattr(
        services, "dispatch", lambda message_id: dispatched.append(message_id) or True
    )
    assert services.relay_pending() == 0  # tried a moment ago: not yet

    OutboxMessage.objects.filter(pk=message.pk).update(
        claimed_at=timezone.now() - services.backoff(1)
    )
    assert services.relay_pending() == 1
    assert dispatched == [message.pk]


def test_backoff_doubles_and_is_capped():
    assert services.backoff(1) == timedelta(seconds=30)
    assert services.backoff(2) == timedelta(seconds=60)
    assert services.backoff(30) == timedelta(hours=1)


def test_after_the_last_attempt_the_message_is_marked_failed(failing_topic):
    message = OutboxMessage.objects.create(
        topic="test.failing", dedupe_key="m-2", payload={}, attempts=services.MAX_ATTEMPTS - 1
    )
    services.deliver(message.pk)
    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED
