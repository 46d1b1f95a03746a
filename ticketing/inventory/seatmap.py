"""The seat map of a screening with each seat's live status, in a constant number of queries.

The rendered map is cached for at most a second and dropped on every change to the screening's
claims, so a buyer sees a taken seat within a second. The cache is a view, never the arbiter:
only the claim insert decides who gets a seat.

Each rendering carries a weak ETag made from the seats and their statuses (not the time it was
made), cached with the bytes, so a client that has the map answers `If-None-Match` and gets a
304 without the body while nothing changed, across rebuilds too.
"""

from __future__ import annotations

import hashlib
import json
import time

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.db.models.signals import post_delete, post_save
from django.utils import timezone

from ticketing import cache
from ticketing.screenings.models import Screening, Seat

from . import live
from .models import SeatClaim

AVAILABLE, HELD, SOLD, BLOCKED = "available", "held", "sold", "blocked"


def cache_key(screening_id: int) -> str:
    return f"seatmap:v2:{screening_id}"  # (etag, body); v1 was the body alone


def invalidate(screening_id: int, seats=None, status: str | None = None) -> None:
    """Drop the cached map once the current transaction commits (at once outside one), and
    publish the change to the open seat maps (`live.publish`: the seats that changed, with
    their new `status` when the caller knows it; none named: the maps fetch it again)."""

    def committed() -> None:
        cache.delete(cache_key(screening_id))
        live.publish(screening_id, seats, status)

    transaction.on_commit(committed, robust=True)


def live_claims(screening_id: int, now=None) -> dict[int, bool]:
    """{seat_id: is_sold} for every live claim of the screening (seats set aside for a partner
    included: they are not for everyone)."""
    now = now or timezone.now()
    rows = (
        SeatClaim.objects.filter(screening_id=screening_id)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now) | Q(allocated_until__gt=now))
        .values_list("seat_id", "expires_at")
    )
    return {seat_id: expires_at is None for seat_id, expires_at in rows}


def set_aside_for(screening_id: int, partner_id: int, now=None) -> set[int]:
    """The seats of a screening set aside for a partner that it may take right now (nobody of
    its own holds them): available to it, held for everyone else."""
    now = now or timezone.now()
    return set(
        SeatClaim.objects.filter(
            Q(hold__isnull=True, order__isnull=True) | Q(expires_at__lte=now),
            screening_id=screening_id,
            allocated_to_id=partner_id,
            allocated_until__gt=now,
        ).values_list("seat_id", flat=True)
    )


def build(screening: Screening) -> dict:
    """The map as the API returns it, decoded (for callers that want to look inside)."""
    return json.loads(render(screening.pk))


# ---- the read path: one query for the statuses, the layout from this process's memory ---------
LAYOUT_SECONDS = 30.0  # another process's layout edit shows on the map within this
_layouts: dict[int, tuple[float, list[tuple[int, str, bool]]]] = {}

STATUS_SQL = f"""
    SELECT s.auditorium_id, c.seat_id, c.expires_at IS NULL
    FROM {Screening._meta.db_table} s
    LEFT JOIN {SeatClaim._meta.db_table} c
      ON c.screening_id = s.id
     AND (c.expires_at IS NULL OR c.expires_at > %s OR c.allocated_until > %s)
    WHERE s.id = %s
"""


def _seat_saved_or_deleted(sender, instance, **kwargs) -> None:
    layout_changed(instance.auditorium_id)


post_save.connect(_seat_saved_or_deleted, sender=Seat, dispatch_uid="seatmap-layout-save")
post_delete.connect(_seat_saved_or_deleted, sender=Seat, dispatch_uid="seatmap-layout-delete")


def layout_changed(auditorium_id: int | None = None) -> None:
    """Forget this process's copy of a layout (of all of them with no argument)."""
    if auditorium_id is None:
        _layouts.clear()
    else:
        _layouts.pop(auditorium_id, None)


def _layout(auditorium_id: int) -> list[tuple[int, str, bool]]:
    """[(seat id, the seat's JSON up to its status, sellable)] in map order, kept a while."""
    now = time.monotonic()
    hit = _layouts.get(auditorium_id)
    if hit is not None and hit[0] > now:
        return hit[1]
    dumps = json.JSONEncoder(separators=(",", ":")).encode
    rows = []
    for seat_id, row, number, x, y, seat_type, sellable, pair_id in (
        Seat.objects.filter(auditorium_id=auditorium_id)
        .order_by("y", "x")
        .values_list("id", "row_label", "number", "x", "y", "seat_type", "is_sellable", "pair_id")
    ):
        head = (
            f'{{"id":{seat_id},"row":{dumps(row)},"number":{number},'
            f'"label":{dumps(f"{row}{number}")},"x":{x},"y":{y},"type":{dumps(seat_type)},'
            f'"pair":{dumps(pair_id)},"status":"'
        )
        rows.append((seat_id, head, sellable))
    _layouts[auditorium_id] = (now + LAYOUT_SECONDS, rows)
    return rows


def render(screening_id: int) -> bytes | None:
    """The map's JSON, byte for byte what `build` gives, in one query; None: no such screening."""
    tagged = render_tagged(screening_id)
    return tagged[1] if tagged is not None else None


def render_tagged(screening_id: int) -> tuple[str, bytes] | None:
    """(weak ETag, the map's JSON) in one query; None: no such screening."""
    from django.db import connection

    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(STATUS_SQL, [now, now, screening_id])
        rows = cursor.fetchall()
    if not rows:
        return None
    auditorium_id = rows[0][0]
    claims = {seat_id: sold for _, seat_id, sold in rows if seat_id is not None}
    counts = {AVAILABLE: 0, HELD: 0, SOLD: 0, BLOCKED: 0}
    parts = []
    for seat_id, head, sellable in _layout(auditorium_id):
        sold = claims.get(seat_id)
        if sold is not None:
            status = SOLD if sold else HELD
        elif not sellable:
            status = BLOCKED
        else:
            status = AVAILABLE
        counts[status] += 1
        parts.append(f'{head}{status}"}}')
    counts_json = json.dumps(counts, separators=(",", ":"))
    seats_json = ",".join(parts)
    digest = hashlib.blake2b(
        f"{screening_id}:{auditorium_id}:{seats_json}".encode(), digest_size=12
    ).hexdigest()
    body = (
        f'{{"screening":{screening_id},"auditorium":{auditorium_id},'
        f'"generated_at":"{now.isoformat()}","counts":{counts_json},"seats":[{seats_json}]}}'
    ).encode()
    return f'W/"{digest}"', body


def cached_render(screening_id: int) -> bytes | None:
    """The map's JSON from the cache when fresh, else rendered and cached; None: no such screening."""
    tagged = cached_render_tagged(screening_id)
    return tagged[1] if tagged is not None else None


def cached_render_tagged(screening_id: int) -> tuple[str, bytes] | None:
    """(weak ETag, the map's JSON) from the cache when fresh, else rendered and cached."""
    key = cache_key(screening_id)
    tagged = cache.get(key)
    if tagged is None:
        tagged = render_tagged(screening_id)
        if tagged is not None:
            cache.set(key, tagged, settings.MARQUEE["SEAT_MAP_CACHE_SECONDS"])
    return tagged
