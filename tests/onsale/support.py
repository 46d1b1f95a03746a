"""Helpers of the onsale tests: an onsale as staff declare it, and a waiting room's settings."""

from __future__ import annotations

import time
from datetime import timedelta
from types import SimpleNamespace

from django.utils import timezone

from ticketing.onsale import waiting
from ticketing.onsale.models import Onsale


def room(ident: int, *, opens_in: float = -60, rate: int = 0, minutes: float = 10, paused=False):
    """A waiting room's settings in Redis, without the database (the scripts read nothing else)."""
    settings = SimpleNamespace(
        id=ident,
        opens_at=timezone.now() + timedelta(seconds=opens_in),
        admit_per_minute=rate,
        admission_minutes=minutes,
        paused=paused,
    )
    waiting.configure(settings)
    return settings


def no_load():
    raise AssertionError("the waiting room asked the database")


def visit(settings, waiter: str) -> waiting.Visit:
    return waiting.visit(settings.id, waiter, load=no_load)


def wait_until(moment, margin: float = 0.05) -> None:
    time.sleep(max(0.0, (moment - timezone.now()).total_seconds() + margin))


def onsale(*screenings, opens_in: float = -60, **fields) -> Onsale:
    """An onsale saved as the admin saves it (its settings reach Redis on commit)."""
    from ticketing.onsale import services

    fields.setdefault("name", "Opening weekend")
    made = Onsale.objects.create(opens_at=timezone.now() + timedelta(seconds=opens_in), **fields)
    made.screenings.set(screenings)
    services._sync(made.pk)
    return made
