"""Holds and seat claims: the one place that says who has a seat.

A `SeatClaim` row exists while a seat of a screening is held or sold. The unique constraint on
(screening, seat) is the guarantee that no seat is ever held or sold twice. A claim with
`expires_at` in the past is dead everywhere: reads ignore it and writes replace it.
A claim with `expires_at` NULL is sold.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone


class HoldStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    RELEASED = "released", "Released"
    ORDERED = "ordered", "Turned into an order"
    EXPIRED = "expired", "Expired"


class Hold(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    screening = models.ForeignKey(
        "screenings.Screening", on_delete=models.CASCADE, related_name="holds"
    )
    partner = models.ForeignKey(
        "partners.Partner", null=True, blank=True, on_delete=models.PROTECT, related_name="holds"
    )
    buyer_key = models.CharField(
        max_length=64,
        blank=True,
        db_index=True,
        help_text="A browser buyer's hashed token (ticketing/buyers.py), not the session key.",
    )
    client_network = models.CharField(
        max_length=43,
        blank=True,
        help_text="The browser buyer's network (/24 for IPv4, /64 for IPv6): its held seats "
        "per screening are limited.",
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    extended_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=HoldStatus.choices, default=HoldStatus.ACTIVE)
    seat_ids = models.JSONField(default=list, help_text="Seats asked for, kept for the record.")

    class Meta:
        indexes = [
            models.Index(fields=["status", "expires_at"]),
            models.Index(
                fields=["screening", "client_network"],
                name="hold_by_network",
                condition=~models.Q(client_network=""),
            ),
        ]

    def __str__(self) -> str:
        return f"hold {self.id}"

    def is_live(self, now=None) -> bool:
        return self.status == HoldStatus.ACTIVE and self.expires_at > (now or timezone.now())


class Allocation(models.Model):
    """Seats of a screening set aside for one partner until `release_at`: only that partner holds
    or sells them until then; afterwards they are back on general sale by themselves. The seats
    are claims like any other (`allocation`, `allocated_to`, `allocated_until` on SeatClaim),
    so the claim table's unique constraint still decides every sale."""

    screening = models.ForeignKey(
        "screenings.Screening", on_delete=models.CASCADE, related_name="allocations"
    )
    partner = models.ForeignKey(
        "partners.Partner", on_delete=models.PROTECT, related_name="allocations"
    )
    seat_ids = models.JSONField(default=list)
    release_at = models.DateTimeField()
    created_at = models.DateTimeField(default=timezone.now)
    released_notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["release_at", "released_notified_at"])]

    def __str__(self) -> str:
        return f"{len(self.seat_ids)} seats of screening {self.screening_id} for {self.partner_id}"


class SeatClaim(models.Model):
    screening = models.ForeignKey(
        "screenings.Screening", on_delete=models.CASCADE, related_name="+"
    )
    seat = models.ForeignKey("screenings.Seat", on_delete=models.PROTECT, related_name="+")
    hold = models.ForeignKey(
        Hold, null=True, blank=True, on_delete=models.SET_NULL, related_name="claims"
    )
    order = models.ForeignKey(
        "orders.Order", null=True, blank=True, on_delete=models.SET_NULL, related_name="claims"
    )
    expires_at = models.DateTimeField(null=True, blank=True, help_text="NULL means sold.")
    created_at = models.DateTimeField(default=timezone.now)
    # Set aside for a partner until `allocated_until`: only it may take the seat until then, and
    # when its hold or order on the seat dies the seat goes back to it, not to general sale.
    allocation = models.ForeignKey(
        Allocation, null=True, blank=True, on_delete=models.SET_NULL, related_name="claims"
    )
    allocated_to = models.ForeignKey(
        "partners.Partner", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    allocated_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["screening", "seat"], name="one_claim_per_seat")
        ]
        indexes = [models.Index(fields=["expires_at"])]

    def __str__(self) -> str:
        state = "sold" if self.expires_at is None else f"held until {self.expires_at:%H:%M:%S}"
        return f"seat {self.seat_id} of screening {self.screening_id}, {state}"

    @property
    def is_sold(self) -> bool:
        return self.expires_at is None
