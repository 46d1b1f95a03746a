"""The seat map of a screening with each seat's live status, in a constant number of queries.

The rendered map is cached for at most a second and dropped on every change to the screening's
claims, so a buyer sees a taken seat within a second. The cache is a view, never the arbiter:
only the claim insert decides who gets a seat.
"""

from __future__ import annotations

import json

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from ticketing import cache
from ticketing.screenings.models import Screening, Seat

from .models import SeatClaim

AVAILABLE, HELD, SOLD, BLOCKED = "available", "held", "sold", "blocked"


def cache_key(screening_id: int) -> str:
    return f"seatmap:v1:{screening_id}"


def invalidate(screening_id: int) -> None:
    """Drop the cached map once the current transaction commits (at once outside one)."""
    transaction.on_commit(lambda: cache.delete(cache_key(screening_id)))


def live_claims(screening_id: int, now=None) -> dict[int, bool]:
    """{seat_id: is_sold} for every live claim of the screening."""
    now = now or timezone.now()
    rows = (
        SeatClaim.objects.filter(screening_id=screening_id)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .values_list("seat_id", "expires_at")
    )
    return {seat_id: expires_at is None for seat_id, expires_at in rows}


def build(screening: Screening) -> dict:
    """The map as the API returns it: two queries whatever the number of seats."""
    claims = live_claims(screening.pk)
    seats = Seat.objects.filter(auditorium_id=screening.auditorium_id).values_list(
        "id", "row_label", "number", "x", "y", "seat_type", "is_sellable", "pair_id"
    )
    out = []
    counts = {AVAILABLE: 0, HELD: 0, SOLD: 0, BLOCKED: 0}
    for seat_id, row, number, x, y, seat_type, sellable, pair_id in seats:
        if seat_id in claims:
            status = SOLD if claims[seat_id] else HELD
        elif not sellable:
            status = BLOCKED
        else:
            status = AVAILABLE
        counts[status] += 1
        out.append(
            {
                "id": seat_id,
                "row": row,
                "number": number,
                "label": f"{row}{number}",
                "x": x,
                "y": y,
                "type": seat_type,
                "pair": pair_id,
                "status": status,
            }
        )
    return {
        "screening": screening.pk,
        "auditorium": screening.auditorium_id,
        "generated_at": timezone.now().isoformat(),
        "counts": counts,
        "seats": out,
    }


def cached_json(screening: Screening) -> bytes:
    """The map serialised, from the cache when fresh."""
    key = cache_key(screening.pk)
    body = cache.get(key)
    if body is None:
        body = json.dumps(build(screening), separators=(",", ":")).encode()
        cache.set(key, body, settings.MARQUEE["SEAT_MAP_CACHE_SECONDS"])
    return body
