"""Partner webhooks: endpoints, emitting events, and sending each delivery at least once.

**Emitting** (`event_emit`) is called inside the transaction of the change that causes the
event. It writes one delivery row per active endpoint subscribed to the event type, and one
outbox message per delivery, so nothing leaves before the change commits, a rollback takes
the deliveries with it, and no HTTP happens in the request: the worker sends.

**Each delivery has its own retry schedule, in its row**, rather than riding the outbox's
attempts. The outbox retries a message for about half a day with one backoff for every topic
(30 s doubling to an hour, 20 attempts) and marks it failed; webhooks need about three days,
Svix's schedule (5 s, 5 min, 30 min, 2 h, 5 h, then every 10 h), a 410 that stops at once and
turns the endpoint off, and a log the partner reads: attempts, the next one, the last answer.
Keeping that state in the delivery row makes the log and the schedule one thing. So the outbox
carries only the first attempt, after commit (its handler is `delivery_attempt`, which never
raises for a failed delivery: the failure is recorded and scheduled here); the retries, and
redeliveries, are picked up by beat's `deliveries_send_due`, which claims due rows in batches
(`FOR UPDATE SKIP LOCKED`) and hands each to a worker task. A broker that is down delays a
delivery and loses none: the row stays due.

**Once per attempt.** A delivery is sent only by whoever claimed it: a conditional update from
`pending` and due to `sending`, which also counts the attempt; the attempt count is the claim's
token, and the outcome is recorded only under it. A worker that dies mid-send leaves the row
`sending`; after STALE_CLAIM it is claimed again, so a delivery goes out at least once, and
twice only if a worker died between sending and recording. Its `webhook-id` stays the same
(the event's id), which is what Standard Webhooks receivers deduplicate on.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from ticketing import errors
from ticketing.outbox.services import message_add
from ticketing.outbox.topics import WEBHOOK_DELIVERY_TOPIC
from ticketing.partners.models import Partner

from . import destinations, events, standard, transport
from .models import DeliveryStatus, WebhookDelivery, WebhookEndpoint

log = logging.getLogger(__name__)

RETRY_DELAYS = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    *[timedelta(hours=10)] * 7,
)
"""After the first attempt fails, wait these in turn (about 3.2 days in all), then give up."""

STALE_CLAIM = timedelta(minutes=1)
"""A `sending` row older than this was left by a worker that died: claim it again. Well above
a send (the timeout, 5 s, for connecting and for each read)."""

EVENT_NAMESPACE = uuid.UUID("6f1b2c3d-9a7e-4f60-8b15-0c2d4e6f8a9b")


def _config() -> dict:
    return settings.MARQUEE_WEBHOOKS


def _due(now) -> Q:
    return Q(status=DeliveryStatus.PENDING, next_attempt_at__lte=now) | Q(
        status=DeliveryStatus.SENDING, claimed_at__lt=now - STALE_CLAIM
    )


# ---- endpoints -------------------------------------------------------------------------------
def _event_types_check(event_types: list[str]) -> list[str]:
    unknown = sorted(set(event_types) - set(events.SUBSCRIBABLE))
    if unknown or not event_types:
        raise errors.WebhookEventUnknown(unknown=unknown, known=list(events.SUBSCRIBABLE))
    return sorted(set(event_types), key=events.SUBSCRIBABLE.index)


@transaction.atomic
def endpoint_create(
    *, partner: Partner, url: str, event_types: list[str], description: str = ""
) -> tuple[WebhookEndpoint, str]:
    """A new endpoint and its signing secret (`whsec_...`), which the partner sees only now."""
    secret = standard.secret_new()
    endpoint = WebhookEndpoint.objects.create(
        partner=partner,
        url=destinations.url_check(url),
        event_types=_event_types_check(event_types),
        description=description,
        secret=secret,
    )
    return endpoint, secret


def _deliveries_stop(endpoint_id, *, why: str) -> int:
    """Deliveries still waiting for a turned-off endpoint fail now instead of at their turn."""
    return WebhookDelivery.objects.filter(
        endpoint_id=endpoint_id, status=DeliveryStatus.PENDING
    ).update(status=DeliveryStatus.FAILED, next_attempt_at=None, last_error=why)


@transaction.atomic
def endpoint_delete(*, endpoint: WebhookEndpoint) -> None:
    """The partner no longer wants it. Kept (deleted_at) so staff still see its deliveries."""
    now = timezone.now()
    WebhookEndpoint.objects.filter(pk=endpoint.pk, deleted_at__isnull=True).update(
        deleted_at=now, is_active=False, disabled_at=now, disabled_reason="Deleted by the partner."
    )
    _deliveries_stop(endpoint.pk, why="The endpoint was deleted.")


@transaction.atomic
def endpoint_disable(*, endpoint_id, reason: str) -> bool:
    """Turn an endpoint off (it answered 410 Gone), saying why; its waiting deliveries fail."""
    got = WebhookEndpoint.objects.filter(pk=endpoint_id, is_active=True).update(
        is_active=False, disabled_at=timezone.now(), disabled_reason=reason[:300]
    )
    _deliveries_stop(endpoint_id, why=f"The endpoint was turned off: {reason}"[:2000])
    if got:
        log.warning("webhook endpoint %s turned off: %s", endpoint_id, reason)
    return bool(got)


@transaction.atomic
def endpoints_enable(*, endpoint_ids: list) -> int:
    """Staff turn endpoints back on (the partner fixed its receiver). Deleted ones stay off;
    deliveries that failed meanwhile are redelivered only if asked for."""
    return WebhookEndpoint.objects.filter(
        pk__in=endpoint_ids, is_active=False, deleted_at__isnull=True
    ).update(is_active=True, disabled_at=None, disabled_reason="")


@transaction.atomic
def endpoint_secret_rotate(
    *, endpoint: WebhookEndpoint, overlap: timedelta | None = None
) -> tuple[WebhookEndpoint, str]:
    """A new signing secret, returned once. The old one keeps signing beside it for `overlap`
    (MARQUEE_WEBHOOKS_SECRET_OVERLAP_HOURS by default) so the partner can switch its verifier
    without losing a delivery; an overlap of zero drops it at once (a leaked secret). Rotating
    again during an overlap keeps only the secret being replaced."""
    if overlap is None:
        overlap = timedelta(hours=_config()["SECRET_OVERLAP_HOURS"])
    locked = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    secret = standard.secret_new()
    keep = overlap > timedelta(0)
    WebhookEndpoint.objects.filter(pk=locked.pk).update(
        secret=secret,
        previous_secret=locked.secret if keep else "",
        previous_secret_expires_at=timezone.now() + overlap if keep else None,
    )
    locked.refresh_from_db()
    return locked, secret


# ---- emitting --------------------------------------------------------------------------------
def event_id_for(*, partner_id: int, dedupe_key: str) -> str:
    """The event's `webhook-id`: derived from what caused it, so emitting the same event twice
    (a retried payment webhook, say) finds the deliveries already written."""
    return "evt_" + uuid.uuid5(EVENT_NAMESPACE, f"{partner_id}:{dedupe_key}").hex


@transaction.atomic
def event_emit(
    *,
    partner: Partner,
    type: str,
    data: dict,
    dedupe_key: str,
    endpoint: WebhookEndpoint | None = None,
) -> list[WebhookDelivery]:
    """Tell `partner` that `type` happened, once per `dedupe_key` (e.g. `order.paid:<order
    id>`): a delivery for each of its active endpoints subscribed to `type` (or for `endpoint`
    alone), sent by the worker after the caller's transaction commits. Call it inside that
    transaction; it does no I/O but the database. Returns the event's deliveries."""
    if type not in events.ALL:
        raise ValueError(f"Unknown webhook event type {type!r}; see ticketing/webhooks/events.py")
    if endpoint is not None:
        if endpoint.partner_id != partner.pk:
            raise ValueError("That endpoint is another partner's.")
        targets = [endpoint] if endpoint.is_active else []
    else:
        targets = [
            e
            for e in WebhookEndpoint.objects.filter(partner=partner, is_active=True)
            if type in e.event_types
        ]
    if not targets:
        return []
    now = timezone.now()
    event_id = event_id_for(partner_id=partner.pk, dedupe_key=dedupe_key)
    payload = {"type": type, "timestamp": now.isoformat().replace("+00:00", "Z"), "data": data}
    WebhookDelivery.objects.bulk_create(
        [
            WebhookDelivery(
                endpoint=target,
                event_id=event_id,
                event_type=type,
                payload=payload,
                next_attempt_at=now,
                created_at=now,
            )
            for target in targets
        ],
        ignore_conflicts=True,
    )
    deliveries = list(
        WebhookDelivery.objects.filter(event_id=event_id, endpoint__in=targets).order_by("pk")
    )
    for delivery in deliveries:
        message_add(
            topic=WEBHOOK_DELIVERY_TOPIC,
            dedupe_key=f"{WEBHOOK_DELIVERY_TOPIC}:{delivery.pk}",
            payload={"delivery_id": str(delivery.pk)},
        )
    return deliveries


def endpoint_test(*, endpoint: WebhookEndpoint) -> WebhookDelivery:
    """A `webhook.test` event for this endpoint alone, sent like any other."""
    if not endpoint.is_active:
        raise errors.WebhookEndpointDisabled(
            endpoint=str(endpoint.pk), reason=endpoint.disabled_reason
        )
    (delivery,) = event_emit(
        partner=endpoint.partner,
        type=events.WEBHOOK_TEST,
        data={"endpoint": str(endpoint.pk), "message": "A test event from Marquee."},
        dedupe_key=f"{events.WEBHOOK_TEST}:{uuid.uuid4()}",
        endpoint=endpoint,
    )
    return delivery


# ---- sending ---------------------------------------------------------------------------------
def body_bytes(payload: dict) -> bytes:
    """The exact bytes sent and signed."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


def delivery_attempt(*, delivery_id) -> bool:
    """Claim the delivery if it is due, and send it. True when this call sent it (whatever the
    answer); False when it was not due or someone else has it. The outbox's handler, and the
    task a redelivery queues."""
    now = timezone.now()
    claimed = WebhookDelivery.objects.filter(_due(now), pk=delivery_id).update(
        status=DeliveryStatus.SENDING, claimed_at=now, attempts=F("attempts") + 1
    )
    if not claimed:
        return False
    delivery = WebhookDelivery.objects.select_related("endpoint").get(pk=delivery_id)
    _send(delivery)
    return True


def deliveries_send_due(*, limit: int | None = None) -> list[tuple[str, int]]:
    """Claim up to `limit` due deliveries (retries, redeliveries, and first attempts the broker
    missed), skipping rows another sweep holds, and return (delivery id, attempt) for the
    worker to post (`delivery_post`)."""
    limit = limit or _config()["BATCH_SIZE"]
    now = timezone.now()
    with transaction.atomic():
        ids = list(
            WebhookDelivery.objects.filter(_due(now))
            .order_by("next_attempt_at")
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)[:limit]
        )
        WebhookDelivery.objects.filter(pk__in=ids).update(
            status=DeliveryStatus.SENDING, claimed_at=now, attempts=F("attempts") + 1
        )
        return [
            (str(pk), attempt)
            for pk, attempt in WebhookDelivery.objects.filter(pk__in=ids).values_list(
                "pk", "attempts"
            )
        ]


def delivery_post(*, delivery_id, attempt: int) -> bool:
    """Send a delivery claimed by `deliveries_send_due` as attempt `attempt`, if that claim
    still stands (renewed now, so a slow queue does not let it go stale mid-send)."""
    renewed = WebhookDelivery.objects.filter(
        pk=delivery_id, status=DeliveryStatus.SENDING, attempts=attempt
    ).update(claimed_at=timezone.now())
    if not renewed:
        return False
    _send(WebhookDelivery.objects.select_related("endpoint").get(pk=delivery_id))
    return True


def _send(delivery: WebhookDelivery) -> None:
    """POST a claimed delivery and record what happened under the claim."""
    endpoint = delivery.endpoint
    if not endpoint.is_active:
        _record(delivery, status=DeliveryStatus.FAILED, error="The endpoint is turned off.")
        return
    body = body_bytes(delivery.payload)
    timestamp = int(time.time())
    headers = standard.headers(
        event_id=delivery.event_id,
        timestamp=timestamp,
        body=body,
        secrets_=endpoint.secrets_signing(timezone.now()),
    )
    try:
        answer = transport.post(endpoint.url, body, headers, timeout=_config()["TIMEOUT_SECONDS"])
    except Exception as exc:
        # (OSError, a refused destination, but also a host that cannot be encoded, a malformed
        # answer...): recorded like no answer, so the schedule and its end still apply.
        log.info("webhook delivery %s to %s: no answer (%s)", delivery.pk, endpoint.url, exc)
        _record(delivery, status=_retry_or_fail(delivery), error=f"{type(exc).__name__}: {exc}")
        return
    if 200 <= answer.status < 300:
        _record(delivery, status=DeliveryStatus.DELIVERED, answer=answer)
        return
    if answer.status == 410:
        _record(delivery, status=DeliveryStatus.FAILED, answer=answer, error="410 Gone.")
        endpoint_disable(
            endpoint_id=endpoint.pk,
            reason=f"Answered 410 Gone to delivery {delivery.pk} at "
            f"{timezone.now().isoformat(timespec='seconds')}.",
        )
        return
    log.info("webhook delivery %s to %s: answered %s", delivery.pk, endpoint.url, answer.status)
    _record(
        delivery,
        status=_retry_or_fail(delivery),
        answer=answer,
        error=f"Answered HTTP {answer.status}.",
    )


def _retry_or_fail(delivery: WebhookDelivery) -> str:
    return (
        DeliveryStatus.PENDING if delivery.attempts <= len(RETRY_DELAYS) else DeliveryStatus.FAILED
    )


def _record(
    delivery: WebhookDelivery,
    *,
    status: str,
    answer: transport.Answer | None = None,
    error: str = "",
) -> bool:
    now = timezone.now()
    retry = status == DeliveryStatus.PENDING
    return bool(
        WebhookDelivery.objects.filter(
            pk=delivery.pk, status=DeliveryStatus.SENDING, attempts=delivery.attempts
        ).update(
            status=status,
            last_attempt_at=now,
            last_status_code=answer.status if answer else None,
            last_response=answer.excerpt if answer else "",
            last_error=error[:2000],
            next_attempt_at=now + RETRY_DELAYS[delivery.attempts - 1] if retry else None,
            delivered_at=now if status == DeliveryStatus.DELIVERED else None,
        )
    )


@transaction.atomic
def delivery_redeliver(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send a delivery again now, with a fresh round of retries (its attempts count from
    zero again) and the same `webhook-id`. Refused while it is being sent, or when its
    endpoint is turned off."""
    endpoint = delivery.endpoint
    if not endpoint.is_active:
        raise errors.WebhookEndpointDisabled(
            endpoint=str(endpoint.pk), reason=endpoint.disabled_reason
        )
    now = timezone.now()
    got = (
        WebhookDelivery.objects.filter(pk=delivery.pk)
        .exclude(status=DeliveryStatus.SENDING, claimed_at__gte=now - STALE_CLAIM)
        .update(
            status=DeliveryStatus.PENDING,
            attempts=0,
            next_attempt_at=now,
            claimed_at=None,
            delivered_at=None,
        )
    )
    if not got:
        raise errors.WebhookDeliveryInFlight(delivery=str(delivery.pk))
    transaction.on_commit(lambda: _queue(delivery.pk))
    delivery.refresh_from_db()
    return delivery


def _queue(delivery_id) -> bool:
    """Ask a worker to try a due delivery now; if the broker is away, beat's sweep will."""
    from .tasks import send_delivery

    try:
        send_delivery.apply_async(args=[str(delivery_id)], retry=False)
    except Exception as exc:
        log.warning(
            "webhook delivery %s waits for the sweep: broker unavailable (%s)", delivery_id, exc
        )
        return False
    return True
