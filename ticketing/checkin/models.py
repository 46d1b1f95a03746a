"""Admissions at the door, the answers doors were given, and offline double admissions."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class CheckIn(models.Model):
    """A ticket admitted: one row per ticket at most (the ticket's own conditional update
    decides who admits it; the unique ticket is the database's last word)."""

    ticket = models.OneToOneField("orders.Ticket", on_delete=models.PROTECT, related_name="checkin")
    screening = models.ForeignKey(
        "screenings.Screening", on_delete=models.PROTECT, related_name="checkins"
    )
    admitted_at = models.DateTimeField(help_text="When the door let the holder in (UTC).")
    recorded_at = models.DateTimeField(default=timezone.now)
    door = models.CharField(max_length=60, blank=True)
    device = models.ForeignKey(
        "partners.ApiKey",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The scanner's key, when a scanner admitted it.",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The staff member, when admitted from the door page signed in.",
    )
    nonce = models.CharField(max_length=64, null=True, blank=True, unique=True)
    offline = models.BooleanField(
        default=False, help_text="Admitted by a door without the network, sent later."
    )

    class Meta:
        ordering = ["-admitted_at"]
        indexes = [models.Index(fields=["screening", "admitted_at"])]
        verbose_name = "check-in"

    def __str__(self) -> str:
        return f"ticket {self.ticket_id} at {self.door or 'the door'} {self.admitted_at:%H:%M}"


class Scan(models.Model):
    """Every answer a door was given, admitted or refused: the door's log, and what a scan sent
    again with its nonce gets back (the first answer, counted once)."""

    nonce = models.CharField(max_length=64, null=True, blank=True, unique=True)
    request_digest = models.CharField(
        max_length=64, help_text="SHA-256 of the code and screening scanned (a nonce's scan)."
    )
    ticket = models.ForeignKey(
        "orders.Ticket", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    cinema = models.ForeignKey(
        "screenings.Cinema", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    screening = models.ForeignKey(
        "screenings.Screening",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The screening the door was checking, if it said.",
    )
    door = models.CharField(max_length=60, blank=True)
    device = models.ForeignKey(
        "partners.ApiKey", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    scanned_at = models.DateTimeField(null=True, blank=True, help_text="The device's clock.")
    recorded_at = models.DateTimeField(default=timezone.now, db_index=True)
    offline = models.BooleanField(default=False)
    result = models.CharField(max_length=40, help_text="`admitted` or the refusal's code.")
    answer = models.JSONField(
        default=dict,
        help_text="The answer's body: the admission, or the error's message and details.",
    )

    class Meta:
        ordering = ["-recorded_at"]

    def __str__(self) -> str:
        return f"{self.result} at {self.door or 'the door'} {self.recorded_at:%H:%M:%S}"


class CheckInConflict(models.Model):
    """A ticket let in twice: a door without the network admitted it, and when its scans came
    in the ticket had been admitted elsewhere (the first scan by time is the admission). Staff
    look at these: a copied ticket, or a party that went in at two doors."""

    ticket = models.ForeignKey("orders.Ticket", on_delete=models.PROTECT, related_name="+")
    screening = models.ForeignKey(
        "screenings.Screening", on_delete=models.PROTECT, related_name="checkin_conflicts"
    )
    admission = models.ForeignKey(CheckIn, on_delete=models.PROTECT, related_name="conflicts")
    door = models.CharField(max_length=60, blank=True, help_text="The other door.")
    device = models.ForeignKey(
        "partners.ApiKey", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    scanned_at = models.DateTimeField(help_text="When the other door scanned it.")
    nonce = models.CharField(max_length=64, blank=True)
    offline = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "check-in conflict"

    def __str__(self) -> str:
        return f"ticket {self.ticket_id} also at {self.door or 'another door'}"
