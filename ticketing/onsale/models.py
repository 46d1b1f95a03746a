"""An onsale: screenings that go on sale at one instant behind the waiting room."""

from __future__ import annotations

from django.db import models


class Onsale(models.Model):
    """Staff declare which screenings, when the sale opens (UTC), how many buyers are let in a
    minute, how long an admitted buyer has, and the most tickets one buyer may buy in it."""

    name = models.CharField(max_length=120)
    screenings = models.ManyToManyField("screenings.Screening", related_name="onsales", blank=True)
    opens_at = models.DateTimeField(help_text="When the sale opens (stored UTC).")
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
        ]

    def __str__(self) -> str:
        return self.name
