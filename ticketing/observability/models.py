from django.db import models


class Heartbeat(models.Model):
    """When a background component last showed it was working: one row per component.

    In the database rather than Redis: readiness must tell a dead worker from a dead cache, and
    the beat and worker already need the database.
    """

    component = models.CharField(max_length=20, primary_key=True)
    beat_at = models.DateTimeField()
    host = models.CharField(max_length=200, blank=True)

    def __str__(self) -> str:
        return f"{self.component} at {self.beat_at:%Y-%m-%d %H:%M:%S}"
