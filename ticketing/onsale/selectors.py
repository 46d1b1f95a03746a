"""Reads of onsales for the hot path: which onsale a screening belongs to, cached.

`onsale_for_screening` runs on every seat map page, hold and checkout, so it is answered from a
per-process memory first (a few seconds), then the shared cache (Redis, an hour, dropped by the
services on every change; degrading to nothing when Redis is away), and only then the database. A change made by staff reaches every process
within `LOCAL_SECONDS` (the service drops the shared entries at once).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime

from django.core.cache import cache as dj_cache

from ticketing import cache

from .models import Onsale, closed_by

LOCAL_SECONDS = 5.0
# Long: every change goes through services, which drops the shared entries at once; a short
# lifetime only sent each web process to the database again mid-rush (`make bench-waiting`).
SHARED_SECONDS = 3600
_NONE = "-"  # cached "no onsale", told apart from "not cached"


class NotCached(Exception):
    """Asked with `cached_only`: the answer is not in memory or Redis (the database would be asked)."""


@dataclass(frozen=True)
class OnsaleInfo:
    """What the gate and the waiting room need, without touching the database again."""

    id: int
    name: str
    opens_at: datetime
    admit_per_minute: int
    admission_minutes: int
    ticket_limit: int
    paused: bool
    zone: str  # the first screening's cinema: where the opening time is shown
    closes_at: datetime | None = None

    def closed(self, now: datetime | None = None) -> bool:
        """Past its closing: its screenings sell as any other (no queue, no onsale limit)."""
        return closed_by(self.closes_at, now)


class _Local:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: dict[str, tuple[float, object]] = {}

    def get(self, key: str):
        hit = self._values.get(key)
        if hit is None or hit[0] <= time.monotonic():
            return None
        return hit[1]

    def put(self, key: str, value) -> None:
        with self._lock:
            if len(self._values) > 10_000:
                self._values.clear()
            self._values[key] = (time.monotonic() + LOCAL_SECONDS, value)

    def clear(self) -> None:
        with self._lock:
            self._values.clear()


_local = _Local()


def _info(onsale: Onsale) -> OnsaleInfo:
    first = onsale.screenings.select_related("auditorium__cinema").order_by("starts_at").first()
    zone = first.auditorium.cinema.time_zone if first is not None else "UTC"
    return OnsaleInfo(
        id=onsale.pk,
        name=onsale.name,
        opens_at=onsale.opens_at,
        admit_per_minute=onsale.admit_per_minute,
        admission_minutes=onsale.admission_minutes,
        ticket_limit=onsale.ticket_limit,
        paused=onsale.paused,
        zone=str(zone),
        closes_at=onsale.closes_at,
    )


def _cached(key: str, load, cached_only: bool = False):
    value = _local.get(dj_cache.make_key(key))
    if value is None:
        value = cache.get(key)
        if value is None:
            if cached_only:
                raise NotCached(key)
            value = load() or _NONE
            cache.set(key, value, SHARED_SECONDS)
        _local.put(dj_cache.make_key(key), value)
    return None if value == _NONE else value


# v2: OnsaleInfo has closes_at. A process still on the code before it, during a rolling deploy,
# would cache entries without it for an hour under the old keys; the new code does not read them.
def screening_key(screening_id: int) -> str:
    return f"onsale:v2:for-screening:{screening_id}"


def onsale_key(onsale_id: int) -> str:
    return f"onsale:v2:info:{onsale_id}"


def onsale_for_screening(screening_id: int, *, cached_only: bool = False) -> OnsaleInfo | None:
    """The onsale the screening is part of (the latest opening if several), or None; None too
    once that onsale has closed (its closing is read from the cached entry, so it takes effect
    at the instant, in every process).

    `cached_only`: raise NotCached rather than ask the database (the waiting room's fast path)."""
    info = _of_screening(screening_id, cached_only)
    return None if info is None or info.closed() else info


def _of_screening(screening_id: int, cached_only: bool) -> OnsaleInfo | None:
    def load():
        onsale = Onsale.objects.filter(screenings__id=screening_id).order_by("-opens_at").first()
        return _info(onsale) if onsale is not None else None

    return _cached(screening_key(screening_id), load, cached_only)


def onsale_get(onsale_id: int, *, cached_only: bool = False) -> OnsaleInfo | None:
    def load():
        onsale = Onsale.objects.filter(pk=onsale_id).first()
        return _info(onsale) if onsale is not None else None

    return _cached(onsale_key(onsale_id), load, cached_only)


def remember(onsale: Onsale) -> None:
    """Cache an onsale just read (after a change: the waiting room's fast path answers from
    memory and Redis only, and hands requests to Django while they do not know it)."""
    info = _info(onsale)
    cache.set(onsale_key(onsale.pk), info, SHARED_SECONDS)
    _local.put(dj_cache.make_key(onsale_key(onsale.pk)), info)


def forget(*, onsale_id: int, screening_ids) -> None:
    """Drop the shared entries after a change (each process's memory lapses by itself)."""
    cache.delete(onsale_key(onsale_id))
    for screening_id in screening_ids:
        cache.delete(screening_key(screening_id))
    _local.clear()


def screening_in_onsale(screening_id: int, onsale_id: int, *, cached_only: bool = False) -> bool:
    """Whether the screening is (or was, if it has closed) in this onsale."""
    info = _of_screening(screening_id, cached_only)
    return info is not None and info.id == onsale_id
