"""Orders, their tickets (one per seat, price snapshotted) and the log of status changes."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class OrderStatus(models.TextChoices):
    PENDING_PAYMENT = "pending_payment", _("Pending payment")
    PAID = "paid", _("Paid")
    CANCELLED = "cancelled", _("Cancelled")
    REFUNDED = "refunded", _("Refunded")
    EXPIRED = "expired", _("Expired")


class PaidVia(models.TextChoices):
    """Who took the buyer's money: what cancelling the order has to give back, and through whom."""

    NOTHING = "", _("Not paid")
    PROVIDER = "provider", _("A payment provider")
    PARTNER = "partner", _("The partner (settled)")
    OTHER = "other", _("Recorded without a payment")


class Order(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    code = models.CharField(max_length=12, unique=True, help_text="Short code the buyer quotes.")
    screening = models.ForeignKey(
        "screenings.Screening", on_delete=models.PROTECT, related_name="orders"
    )
    hold = models.OneToOneField(
        "inventory.Hold", null=True, blank=True, on_delete=models.SET_NULL, related_name="order"
    )
    partner = models.ForeignKey(
        "partners.Partner", null=True, blank=True, on_delete=models.PROTECT, related_name="orders"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="orders",
        help_text="The signed-in buyer, if they were signed in; guests have none.",
    )
    customer_email = models.EmailField()
    customer_name = models.CharField(max_length=120)
    language = models.CharField(max_length=8, default="en")
    status = models.CharField(
        max_length=16, choices=OrderStatus.choices, default=OrderStatus.PENDING_PAYMENT
    )
    currency = models.CharField(max_length=3)
    subtotal = models.PositiveIntegerField(help_text="Tickets and surcharges, minor units.")
    booking_fee = models.PositiveIntegerField(default=0)
    discount = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField()
    promo_code = models.CharField(max_length=40, blank=True)
    partner_reference = models.CharField(
        max_length=120, blank=True, help_text="The partner's own id for an order it settled."
    )
    commission = models.PositiveIntegerField(
        default=0, help_text="Partner commission, minor units."
    )
    expires_at = models.DateTimeField(help_text="Unpaid after this, the order expires.")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    paid_via = models.CharField(
        max_length=10,
        choices=PaidVia.choices,
        blank=True,
        default=PaidVia.NOTHING,
        help_text="A provider's payment is refunded through it, never just cancelled.",
    )

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["status", "expires_at"]),
            # Sales by the day they were paid (the staff dashboard): paid orders only.
            models.Index(
                fields=["paid_at"], condition=models.Q(status="paid"), name="order_paid_at"
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(
                    total=models.F("subtotal") + models.F("booking_fee") - models.F("discount")
                ),
                name="order_total_adds_up",
            )
        ]

    def __str__(self) -> str:
        return self.code

    @property
    def effective_status(self) -> str:
        """The status as of now: an unpaid order past its time reads as expired before the sweep
        gets to it, as a dead hold does."""
        if self.status == OrderStatus.PENDING_PAYMENT and self.expires_at <= timezone.now():
            return OrderStatus.EXPIRED
        return self.status


class Ticket(models.Model):
    """One seat of an order. The code is unguessable: it goes in the QR code."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="tickets")
    seat = models.ForeignKey("screenings.Seat", on_delete=models.PROTECT, related_name="tickets")
    ticket_type = models.ForeignKey(
        "screenings.TicketType", on_delete=models.PROTECT, related_name="+"
    )
    ticket_type_name = models.CharField(max_length=60)
    seat_label = models.CharField(max_length=12)
    seat_type = models.CharField(max_length=12)
    price = models.PositiveIntegerField(help_text="Ticket type price at purchase, minor units.")
    surcharge = models.PositiveIntegerField(default=0)
    discount = models.PositiveIntegerField(
        default=0, help_text="Taken off this ticket by a promo code, minor units."
    )
    discount_funder = models.CharField(
        max_length=10, blank=True, help_text="Who pays for the discount: studio, platform, cinema."
    )
    code = models.CharField(max_length=32, unique=True)
    checked_in_at = models.DateTimeField(null=True, blank=True)
    refunded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["seat_label"]
        constraints = [models.UniqueConstraint(fields=["order", "seat"], name="ticket_seat_once")]

    def __str__(self) -> str:
        return f"{self.order.code} {self.seat_label}"


class OrderStatusChange(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="history")
    from_status = models.CharField(max_length=16, blank=True)
    to_status = models.CharField(max_length=16)
    actor = models.CharField(max_length=80, help_text="user:ID, partner:ID or system:WHAT")
    reason = models.CharField(max_length=200, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.from_status or 'new'} -> {self.to_status} by {self.actor}"
