"""A transactional outbox: messages written in the same transaction as the change they follow.

A task is queued on commit to deliver each message; if the broker is down the row waits and
beat's relay queues it again. Delivery claims the row with a conditional update, so a message
is delivered once even when it was queued twice.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class MessageStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class OutboxMessage(models.Model):
    topic = models.CharField(max_length=60)
    dedupe_key = models.CharField(max_length=120, unique=True, help_text="One message per event.")
    payload = models.JSONField(default=dict)
    status = models.CharField(
        max_length=8, choices=MessageStatus.choices, default=MessageStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self) -> str:
        return f"{self.topic} {self.dedupe_key} ({self.status})"
