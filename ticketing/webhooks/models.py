"""A partner's webhook endpoints and the log of every delivery to them.

Each delivery row carries its own retry schedule (`status`, `attempts`, `next_attempt_at`), so
the log a partner reads is the state the sender works from: there is no second copy to drift.
"""

from __future__ import annotations

import uuid

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone

from ticketing.partners.models import Partner


class WebhookEndpoint(models.Model):
    """Where a partner wants events, and which ones.

    The signing secret is kept as the partner was shown it (`whsec_<base64>`): signing needs
    it, so it cannot be hashed as API keys are; it is shown once and never again. During a
    rotation the previous secret also signs until `previous_secret_expires_at`."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="webhook_endpoints")
    url = models.URLField(max_length=500)
    description = models.CharField(max_length=200, blank=True)
    event_types = models.JSONField(default=list, help_text="The event types it subscribed to.")
    is_active = models.BooleanField(default=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=300, blank=True)
    deleted_at = models.DateTimeField(
        null=True, blank=True, help_text="Deleted by the partner; its deliveries stay logged."
    )
    secret = models.CharField(max_length=100)
    previous_secret = models.CharField(max_length=100, blank=True)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at"]
        indexes = [models.Index(fields=["partner", "is_active"])]

    def __str__(self) -> str:
        return f"{self.url} ({self.partner})"

    def secrets_signing(self, now) -> list[str]:
        """The secrets a delivery sent at `now` is signed with: the current one, and the
        previous one while its overlap lasts."""
        if (
            self.previous_secret
            and self.previous_secret_expires_at
            and (self.previous_secret_expires_at > now)
        ):
            return [self.secret, self.previous_secret]
        return [self.secret]


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"  # waiting for next_attempt_at
    SENDING = "sending", "Sending"  # claimed by a worker at claimed_at
    DELIVERED = "delivered", "Delivered"  # a 2xx answer
    FAILED = "failed", "Failed"  # retries exhausted, 410, or the endpoint turned off


class WebhookDelivery(models.Model):
    """One event for one endpoint: what was sent, how often, and what the endpoint answered.

    `event_id` is the `webhook-id` header: the same on every attempt and redelivery, and the
    same for every endpoint that gets the event, so a receiver can drop what it already saw."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.PROTECT, related_name="deliveries"
    )
    event_id = models.CharField(max_length=60)
    event_type = models.CharField(max_length=60)
    payload = models.JSONField(
        encoder=DjangoJSONEncoder, help_text="The body sent: {type, timestamp, data}."
    )
    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_response = models.TextField(blank=True, help_text="The start of the last answer's body.")
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "webhook deliveries"
        constraints = [
            models.UniqueConstraint(
                fields=["endpoint", "event_id"], name="webhooks_one_delivery_per_event"
            )
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"]),
            models.Index(fields=["endpoint", "-created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id} → {self.endpoint_id} ({self.status})"


DELIVERY_LOG_FIELDS = [
    "id",
    "endpoint",
    "event_id",
    "event_type",
    "status",
    "attempts",
    "next_attempt_at",
    "last_attempt_at",
    "last_status_code",
    "last_response",
    "last_error",
    "created_at",
    "delivered_at",
    "payload",
]
"""What an entry of the delivery log shows, to the partner (the API) and to staff (the admin)."""
