"""Writing to the outbox and handing messages to Celery.

`message_add` is called inside the service transaction that causes the message. After commit a
task is queued; if the broker cannot take it the row simply stays pending for the relay.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from .models import MessageStatus, OutboxMessage

log = logging.getLogger(__name__)

HANDLERS: dict[str, Callable[[dict], None]] = {}
STALE_CLAIM = timedelta(minutes=5)
MAX_ATTEMPTS = 20
BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_CAP = timedelta(hours=1)


def backoff(attempts: int) -> timedelta:
    """How long a message that failed `attempts` times waits before the relay tries again:
    30 s, 1 min, 2 min, ... up to an hour (20 attempts span about half a day)."""
    return min(BACKOFF_BASE * 2 ** max(attempts - 1, 0), BACKOFF_CAP)


def handler(topic: str):
    """Register the function that delivers messages of a topic (`ticketing.outbox.topics`).

    A topic has one handler: a second, different one raises ImproperlyConfigured at import
    instead of silently taking the first one's messages. The same function registered again
    (its module reloaded) replaces itself."""

    def register(func: Callable[[dict], None]):
        known = HANDLERS.get(topic)
        if known is not None and _name(known) != _name(func):
            raise ImproperlyConfigured(
                f"outbox topic {topic!r} already has a handler, {_name(known)}; "
                f"{_name(func)} cannot be a second one"
            )
        HANDLERS[topic] = func
        return func

    return register


def _name(func: Callable) -> str:
    return f"{func.__module__}.{func.__qualname__}"


def message_add(*, topic: str, dedupe_key: str, payload: dict) -> OutboxMessage:
    """Record a message once per dedupe key and queue its delivery after commit."""
    message, created = OutboxMessage.objects.get_or_create(
        dedupe_key=dedupe_key, defaults={"topic": topic, "payload": payload}
    )
    if created:
        transaction.on_commit(lambda: dispatch(message.pk))
    return message


def dispatch(message_id: int) -> bool:
    """Queue delivery; False (and the row left pending) when the broker is unreachable."""
    from .tasks import deliver_message

    try:
        deliver_message.apply_async(args=[message_id], retry=False)
    except Exception as exc:
        log.warning(
            "outbox message %s waits for the relay: broker unavailable (%s)", message_id, exc
        )
        return False
    return True


def deliver(message_id: int) -> bool:
    """Deliver one message if nobody else has it. True when this call sent it."""
    now = timezone.now()
    claimable = Q(status=MessageStatus.PENDING) | Q(
        status=MessageStatus.SENDING, claimed_at__lt=now - STALE_CLAIM
    )
    got = OutboxMessage.objects.filter(claimable, pk=message_id).update(
        status=MessageStatus.SENDING, claimed_at=now, attempts=F("attempts") + 1
    )
    if not got:
        return False
    message = OutboxMessage.objects.get(pk=message_id)
    try:
        HANDLERS[message.topic](message.payload)
    except Exception as exc:
        failed = message.attempts >= MAX_ATTEMPTS
        OutboxMessage.objects.filter(pk=message_id).update(
            status=MessageStatus.FAILED if failed else MessageStatus.PENDING,
            last_error=f"{type(exc).__name__}: {exc}"[:2000],
        )
        log.exception(
            "outbox message %s (%s) failed, attempt %d", message_id, message.topic, message.attempts
        )
        return False
    OutboxMessage.objects.filter(pk=message_id).update(
        status=MessageStatus.SENT, sent_at=timezone.now(), last_error=""
    )
    return True


@transaction.atomic
def messages_retry(*, message_ids: list[int]) -> int:
    """Give failed messages another round of attempts (staff fixed the cause)."""
    ids = list(
        OutboxMessage.objects.filter(pk__in=message_ids, status=MessageStatus.FAILED).values_list(
            "pk", flat=True
        )
    )
    retried = OutboxMessage.objects.filter(pk__in=ids, status=MessageStatus.FAILED).update(
        status=MessageStatus.PENDING, attempts=0
    )
    for message_id in ids:
        transaction.on_commit(lambda message_id=message_id: dispatch(message_id))
    return retried


def relay_pending(*, older_than: timedelta = timedelta(seconds=10), limit: int = 500) -> int:
    """Queue again what is still pending (the broker was down, or delivery failed and its
    backoff has passed) or stuck mid-send. Stops at the first refusal from the broker; the next
    run carries on."""
    now = timezone.now()
    candidates = (
        OutboxMessage.objects.filter(
            Q(status=MessageStatus.PENDING, created_at__lt=now - older_than)
            | Q(status=MessageStatus.SENDING, claimed_at__lt=now - STALE_CLAIM)
        )
        .order_by("id")
        .values_list("id", "status", "attempts", "claimed_at")[:limit]
    )
    queued = 0
    for message_id, status, attempts, claimed_at in candidates:
        waiting = status == MessageStatus.PENDING and attempts and claimed_at
        if waiting and claimed_at > now - backoff(attempts):
            continue
        if not dispatch(message_id):
            break
        queued += 1
    return queued
