"""Cache access that degrades: when Redis is down a read misses and a write is skipped.

Nothing that decides who gets a seat reads the cache, so losing it costs speed, never a sale.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from django.core.cache import cache

log = logging.getLogger(__name__)
_quiet_until = 0.0


def _complain(op: str, key: str, exc: Exception) -> None:
    global _quiet_until
    now = time.monotonic()
    if now >= _quiet_until:
        log.warning("cache %s %s failed, carrying on without the cache: %s", op, key, exc)
        _quiet_until = now + 30


def get(key: str) -> Any:
    try:
        return cache.get(key)
    except Exception as exc:
        _complain("get", key, exc)
        return None


def set(key: str, value: Any, timeout: float) -> None:
    try:
        cache.set(key, value, timeout)
    except Exception as exc:
        _complain("set", key, exc)


def delete(key: str) -> None:
    try:
        cache.delete(key)
    except Exception as exc:
        _complain("delete", key, exc)


def get_many(keys: list[str]) -> dict[str, Any] | None:
    """The values found, in one round trip (missing keys left out); None if the cache is away,
    for a caller that must tell "not cached" from "cannot ask" (partners' key checks)."""
    try:
        return cache.get_many(keys)
    except Exception as exc:
        _complain("get_many", keys[0] if keys else "", exc)
        return None


def counter_add(key: str, ttl: int) -> int | None:
    """Add one to a counter that lives `ttl` seconds; its new value, or None if the cache is away.

    On Redis one INCR and one EXPIRE in one round trip; elsewhere add-then-incr."""
    try:
        backend = getattr(cache, "_cache", None)
        if hasattr(backend, "get_client"):  # Django's RedisCache
            full = cache.make_and_validate_key(key)
            pipe = backend.get_client(full, write=True).pipeline(transaction=False)
            pipe.incr(full)
            pipe.expire(full, ttl)
            count, _ = pipe.execute()
            return int(count)
        cache.add(key, 0, ttl)
        try:
            return cache.incr(key)
        except ValueError:  # expired between add and incr: a fresh count
            cache.set(key, 1, ttl)
            return 1
    except Exception as exc:
        _complain("incr", key, exc)
        return None


def counter_get(key: str) -> int | None:
    """A counter's value (0 if there is none), or None if the cache is away."""
    try:
        return int(cache.get(key) or 0)
    except Exception as exc:
        _complain("get", key, exc)
        return None


def full_key(key: str) -> str:
    """The key as the cache stores it (prefix and version included); needs no connection."""
    return cache.make_key(key)
