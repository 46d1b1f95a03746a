"""Seat statuses published as they change, for the push server to send to every open seat map.

After a write to a screening's claims commits (the same place that drops the cached map,
`seatmap.invalidate`), one Redis round trip numbers the change and publishes it on the
screening's channel: `{"v": 41, "seats": {"12": "held", "13": "held"}}`, or
`{"v": 42, "refetch": true}` when the writer did not say which seats changed (a screening
moved, an order's seats). `v` counts up per screening; a viewer that reconnects tells the push
server the last `v` it saw, and one that missed any is told to fetch the map again.

Publishing is a courtesy to viewers, never part of a sale: with no Redis configured it does
nothing, and when Redis is down it logs (once in a while) and carries on, so the seat maps fall
back to polling and the sale goes through.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable

from django.conf import settings
from django.db import connection
from django.utils import timezone

from ticketing.screenings.models import Seat

from .models import SeatClaim

log = logging.getLogger(__name__)

VERSION_TTL = 2 * 24 * 3600  # a screening's counter outlives any open map
QUIET_SECONDS = 5.0  # after a failure, skip publishing this long (a dead Redis costs no time)

# INCR and PUBLISH in one atomic step: versions reach the channel in the order they count.
_PUBLISH_LUA = """
local v = redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], ARGV[3])
redis.call('PUBLISH', ARGV[1], '{"v":' .. v .. ',' .. ARGV[2])
return v
"""

_client = None
_script = None
_quiet_until = 0.0


def prefix() -> str:
    """The channels' and counters' prefix: the cache's, so test runs sharing a Redis are apart."""
    return f"{settings.CACHES['default'].get('KEY_PREFIX') or 'marquee'}:live"


def channel(screening_id: int) -> str:
    return f"{prefix()}:seats:{screening_id}"


def channel_pattern() -> str:
    """What one push process subscribes to: every screening's channel."""
    return f"{prefix()}:seats:*"


def version_key(screening_id: int) -> str:
    return f"{prefix()}:v:{screening_id}"


def enabled() -> bool:
    return bool(getattr(settings, "REDIS_URL", ""))


def _redis():
    global _client, _script
    if _client is None:
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        _client = redis.Redis.from_url(  # no retries: a sale never waits for a viewer's push
            settings.REDIS_URL,
            socket_connect_timeout=0.25,
            socket_timeout=0.25,
            retry=Retry(NoBackoff(), 0),
        )
        _script = _client.register_script(_PUBLISH_LUA)
    return _script


def statuses(screening_id: int, seat_ids: Iterable[int]) -> dict[int, str]:
    """The seats' statuses as the map shows them now, in one query."""
    ids = sorted({int(s) for s in seat_ids})
    if not ids:
        return {}
    marks = ", ".join(["%s"] * len(ids))
    sql = f"""
        SELECT s.id, s.is_sellable, c.id IS NOT NULL, c.expires_at IS NULL
        FROM {Seat._meta.db_table} s
        LEFT JOIN {SeatClaim._meta.db_table} c
          ON c.seat_id = s.id AND c.screening_id = %s
         AND (c.expires_at IS NULL OR c.expires_at > %s OR c.allocated_until > %s)
        WHERE s.id IN ({marks})
    """
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(sql, [screening_id, now, now, *ids])
        rows = cursor.fetchall()
    out = {}
    for seat_id, sellable, claimed, sold in rows:
        if claimed:
            out[seat_id] = "sold" if sold else "held"
        else:
            out[seat_id] = "available" if sellable else "blocked"
    return out


def publish(
    screening_id: int, seat_ids: Iterable[int] | None = None, status: str | None = None
) -> int | None:
    """Publish the change (call it after the commit); the change's number, or None if not sent.

    `seat_ids` with `status`: those seats are now that (a hold just claimed them: no query);
    `seat_ids` alone: their statuses are read; neither: viewers are told to fetch the map."""
    global _quiet_until
    if not enabled() or time.monotonic() < _quiet_until:
        return None
    try:
        if seat_ids is None:
            body = '"refetch":true}'
        else:
            ids = list(seat_ids)
            seats = (
                {int(s): status for s in ids} if status is not None else statuses(screening_id, ids)
            )
            if not seats:
                return None
            body = (
                '"seats":'
                + json.dumps({str(k): v for k, v in seats.items()}, separators=(",", ":"))
                + "}"
            )
        return int(
            _redis()(
                keys=[version_key(screening_id)], args=[channel(screening_id), body, VERSION_TTL]
            )
        )
    except Exception as exc:  # never fail a sale for a viewer's convenience
        _quiet_until = time.monotonic() + QUIET_SECONDS
        log.warning(
            "seat map push for screening %s not published, viewers will poll: %s",
            screening_id,
            exc,
        )
        return None


def reset() -> None:
    """Forget the client and any quiet period (tests that stop and start Redis)."""
    global _client, _script, _quiet_until
    _client = _script = None
    _quiet_until = 0.0
