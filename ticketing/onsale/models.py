"""An onsale: screenings that go on sale at one instant behind the waiting room."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


def closed_by(closes_at, now=None) -> bool:
    """Whether an onsale closing at `closes_at` (None: never) has closed: the one rule, for the
    model and for the cached `selectors.OnsaleInfo` the storefront reads."""
    return closes_at is not None and (now or timezone.now()) >= closes_at


class Onsale(models.Model):
    """Staff declare which screenings, when the sale opens (UTC), how many buyers are let in a
    minute, how long an admitted buyer has, the most tickets one buyer may buy in it, and when
    it closes (after which its screenings sell as any other)."""

    name = models.CharField(max_length=120)
    screenings = models.ManyToManyField("screenings.Screening", related_name="onsales", blank=True)
    opens_at = models.DateTimeField(help_text="When the sale opens (stored UTC).")
    closes_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the waiting room ends: from then on its screenings sell as any other, "
        "without a queue or the onsale's ticket limit. Empty: until they are taken out of it.",
    )
    admit_per_minute = models.PositiveIntegerField(
        default=0,
        help_text="Buyers let in a minute; 0 = as fast as the sale completes purchases.",
    )
    admission_minutes = models.PositiveIntegerField(
        default=10, help_text="How long an admitted buyer has to choose seats and pay."
    )
    ticket_limit = models.PositiveIntegerField(
        default=6, help_text="The most tickets one buyer may buy in the whole onsale."
    )
    paused = models.BooleanField(default=False, help_text="Admissions stop while paused.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-opens_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(admission_minutes__gte=1),
                name="onsale_admission_minutes_positive",
            ),
            models.CheckConstraint(
                condition=models.Q(ticket_limit__gte=1), name="onsale_ticket_limit_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(closes_at__isnull=True)
                | models.Q(closes_at__gt=models.F("opens_at")),
                name="onsale_closes_after_opening",
                violation_error_message="The onsale must close after it opens.",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def closed(self, now=None) -> bool:
        return closed_by(self.closes_at, now)
