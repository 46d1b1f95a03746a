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
