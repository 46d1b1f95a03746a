"""A screening's cancellation and its refunds, one row per order (`mass_refunds.py` writes them).

A run is made in the transaction that marks its screening cancelled, with one item per order
that was paid at that moment. An item moves once from `pending` to what became of its order
(refunded through the provider, cancelled for the partner that sold it, already refunded or
cancelled by someone else) under its row lock, in the transaction that refunds the order: the
unique (run, order) row and its conditional state decide that an order is refunded once, not
Python. A refund the provider refused or could not be reached for is `failed`, with the
reason, until staff retry it.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class CancellationRun(models.Model):
    screening = models.OneToOneField(
        "screenings.Screening", on_delete=models.PROTECT, related_name="cancellation_run"
    )
    reason = models.CharField(max_length=200, blank=True)
    actor = models.CharField(max_length=80, help_text="user:ID or system:WHAT")
    actor_name = models.CharField(max_length=150, blank=True)
    started_at = models.DateTimeField(default=timezone.now)
    holds_released = models.PositiveIntegerField(default=0)
    unpaid_cancelled = models.PositiveIntegerField(default=0)
    last_batch_at = models.DateTimeField(
        null=True, blank=True, help_text="When a worker last finished a batch of this run."
    )
    finished_at = models.DateTimeField(
        null=True, blank=True, help_text="When no order was left to do (failed ones may remain)."
    )

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"cancellation of screening {self.screening_id}"


class ItemStatus(models.TextChoices):
    PENDING = "pending", "Waiting"
    REFUNDED = "refunded", "Refunded"
    CANCELLED = "cancelled", "Cancelled (the partner refunds)"
    ALREADY = "already", "Already refunded or cancelled"
    FAILED = "failed", "Refund failed: needs attention"


DONE = (ItemStatus.REFUNDED, ItemStatus.CANCELLED, ItemStatus.ALREADY)


class CancellationItem(models.Model):
    run = models.ForeignKey(CancellationRun, on_delete=models.CASCADE, related_name="items")
    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=10, choices=ItemStatus.choices, default=ItemStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    refund = models.ForeignKey(
        "payments.Refund",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The latest refund asked for this order (a failed one is retried).",
    )
    amount = models.PositiveIntegerField(default=0, help_text="Refunded, minor units.")
    currency = models.CharField(max_length=3, blank=True)
    failure_reason = models.CharField(max_length=200, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["run", "order"], name="cancellation_item_once")
        ]
        indexes = [models.Index(fields=["run", "status"], name="cancellation_item_status")]

    def __str__(self) -> str:
        return f"{self.order_id} ({self.status})"
