from django.db import models
from django.utils import timezone


class AuditEntry(models.Model):
    """One change a person (or a device, or the system on someone's behalf) made."""

    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.CharField(
        max_length=80, help_text="user:ID, partner:ID, device:ID or system:WHAT"
    )
    actor_name = models.CharField(max_length=150, blank=True, help_text="As it was at the time.")
    action = models.CharField(max_length=60, db_index=True, help_text="e.g. screening.cancelled")
    cinema = models.ForeignKey(
        "screenings.Cinema", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    object_type = models.CharField(max_length=40, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    summary = models.CharField(max_length=300)
    changes = models.JSONField(default=dict, blank=True, help_text="{field: [before, after]}")

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["object_type", "object_id"]),
            models.Index(fields=["cinema", "-at"]),
        ]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_name or self.actor}: {self.summary}"
