"""Webhook sending in the worker: the outbox handler for a delivery's first attempt, and the
tasks beat and redeliveries use. Thin and safe to run twice: every one claims or checks its
delivery row before it sends (services.py says how)."""

from __future__ import annotations

import logging

from celery import shared_task

from ticketing.outbox.services import handler
from ticketing.outbox.topics import WEBHOOK_DELIVERY_TOPIC

from . import services

log = logging.getLogger(__name__)


@handler(WEBHOOK_DELIVERY_TOPIC)
def deliver_webhook(payload: dict) -> bool:
    """First attempt after the event's commit. A failed delivery does not fail the message:
    its retries are scheduled in its own row, not by the outbox."""
    return services.delivery_attempt(delivery_id=payload["delivery_id"])


@shared_task(ignore_result=True, acks_late=True, soft_time_limit=30, time_limit=45)
def send_delivery(delivery_id: str) -> bool:
    return services.delivery_attempt(delivery_id=delivery_id)


@shared_task(ignore_result=True, acks_late=True, soft_time_limit=30, time_limit=45)
def post_delivery(delivery_id: str, attempt: int) -> bool:
    return services.delivery_post(delivery_id=delivery_id, attempt=attempt)


@shared_task(ignore_result=True)
def send_due_deliveries() -> int:
    """Beat: hand each due delivery to a worker. Stops at the first refusal from the broker;
    the rows it claimed but could not queue are claimed again once stale."""
    claimed = services.deliveries_send_due()
    for queued, (delivery_id, attempt) in enumerate(claimed):
        try:
            post_delivery.apply_async(args=[delivery_id, attempt], retry=False)
        except Exception as exc:
            log.warning("webhook deliveries wait: broker unavailable (%s)", exc)
            return queued
    return len(claimed)
