"""Payments, refunds and the provider events that move them.

Money is integer minor units with a currency. A payment records what the provider says it took
(`captured_amount`, `captured_currency`), even when that is not what was asked: such money is
refunded, never kept unrecorded. A refund that failed stays failed, with the provider's reason;
staff ask again with a new refund (`retry_of`), so each attempt keeps its own provider reference
and idempotency key. A provider event is stored once per
(provider, event_id): the unique constraint is what makes a webhook delivered twice, or twice at
the same moment, count once.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone


class PaymentStatus(models.TextChoices):
    CREATED = "created", "Created"
    REQUIRES_ACTION = "requires_action", "Waiting for the buyer"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    REFUNDED = "refunded", "Refunded"
    PARTIALLY_REFUNDED = "partially_refunded", "Partially refunded"
    REFUND_FAILED = "refund_failed", "Refund failed: needs attention"


class Payment(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="payments")
    provider = models.CharField(max_length=20)
    provider_ref = models.CharField(max_length=120, blank=True, help_text="The provider's id.")
    amount = models.PositiveIntegerField(help_text="Minor units.")
    currency = models.CharField(max_length=3)
    status = models.CharField(
        max_length=20, choices=PaymentStatus.choices, default=PaymentStatus.CREATED
    )
    redirect_url = models.URLField(max_length=500, blank=True)
    failure_reason = models.CharField(max_length=200, blank=True)
    captured_amount = models.PositiveIntegerField(
        null=True, blank=True, help_text="What the provider says it took, minor units."
    )
    captured_currency = models.CharField(max_length=3, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # The sweep looks for open payments of closed orders: few rows, read every run.
            models.Index(
                fields=["created_at"],
                condition=models.Q(status__in=["created", "requires_action"]),
                name="payment_open",
            )
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "provider_ref"],
                condition=~models.Q(provider_ref=""),
                name="payment_provider_ref_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.provider_ref or self.pk} ({self.status})"


class RefundStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class Refund(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    amount = models.PositiveIntegerField(help_text="Minor units.")
    currency = models.CharField(max_length=3)
    tickets = models.ManyToManyField("orders.Ticket", blank=True, related_name="refunds")
    reason = models.CharField(max_length=200, blank=True)
    actor = models.CharField(max_length=80)
    status = models.CharField(
        max_length=10, choices=RefundStatus.choices, default=RefundStatus.PENDING
    )
    provider_ref = models.CharField(max_length=120, blank=True)
    failure_reason = models.CharField(
        max_length=200, blank=True, help_text="Why the provider did not pay it back."
    )
    retry_of = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="retries",
        help_text="The failed refund this one asks for again.",
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"refund {self.amount} {self.currency} of {self.payment_id} ({self.status})"

    @property
    def needs_attention(self) -> bool:
        """Failed and not yet asked for again: money the buyer is still owed."""
        return self.status == RefundStatus.FAILED and not self.retries.exists()


class ProviderEvent(models.Model):
    provider = models.CharField(max_length=20)
    event_id = models.CharField(max_length=120)
    type = models.CharField(max_length=80)
    payload = models.JSONField()
    received_at = models.DateTimeField(default=timezone.now)
    outcome = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-received_at"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "event_id"], name="provider_event_once")
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.type} {self.event_id}"
