"""Heartbeats of the background components, and how old they may be before readiness fails.

- `beat`: written by the beat process each time it publishes the heartbeat task (and when it
  starts): beat is alive and reaches the broker.
- `worker`: written by the heartbeat task a worker runs (and when a worker starts): a worker is
  alive and takes tasks off the queue. Beat publishes that task every
  `MARQUEE_HEARTBEAT_INTERVAL` seconds, so a dead beat stops it too.
- `sweep`: written after each sweep of dead holds and unpaid orders (a metric, not a readiness
  condition: nothing correct depends on the sweep running on time).
"""

from __future__ import annotations

import socket
from datetime import datetime

from django.conf import settings
from django.utils import timezone

from .models import Heartbeat

BEAT = "beat"
WORKER = "worker"
SWEEP = "sweep"
REQUIRED = (WORKER, BEAT)


def interval_seconds() -> int:
    return settings.MARQUEE_OBSERVABILITY["HEARTBEAT_INTERVAL_SECONDS"]


def max_age_seconds() -> int:
    """How old a worker or beat heartbeat may be: a few missed intervals, so a slow queue or
    a restart does not flap readiness."""
    conf = settings.MARQUEE_OBSERVABILITY
    return conf["HEARTBEAT_INTERVAL_SECONDS"] * conf["HEARTBEAT_MAX_MISSED"]


def heartbeat_record(*, component: str, now: datetime | None = None) -> None:
    """One upsert: the row of this component now says `now`."""
    row = Heartbeat(component=component, beat_at=now or timezone.now(), host=socket.gethostname())
    Heartbeat.objects.bulk_create(
        [row], update_conflicts=True, unique_fields=["component"], update_fields=["beat_at", "host"]
    )


def heartbeat_ages(*, now: datetime | None = None) -> dict[str, float]:
    """Seconds since each recorded component's last heartbeat."""
    now = now or timezone.now()
    return {
        component: max((now - beat_at).total_seconds(), 0.0)
        for component, beat_at in Heartbeat.objects.values_list("component", "beat_at")
    }
