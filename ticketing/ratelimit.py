"""The rate limits' one mechanism: the API's throttles, the storefront's and the staff sign-in's.

A fixed-window counter in the shared cache (one INCR per request), instead of DRF's list of
every request's timestamp, which grows with the rate and is rewritten on each request. Clients
are told apart by `client_ip.client_key` (the address the trusted proxies vouch for).

When the cache is down a limit lets requests through (losing Redis costs speed, never a sale),
except the limits that guard seats and passwords (holds, sign-ins): those count in this process
instead. Each process then allows the rate on its own, so a site of N processes allows N times
the rate, which is still a limit, where letting everything through would hand a script the
whole room or unlimited password guesses.
"""

from __future__ import annotations

import threading
import time

from rest_framework.throttling import SimpleRateThrottle

from ticketing import cache, client_ip


class _LocalCounts:
    """Per-process counters for when the shared cache is away; bounded in size."""

    MAX_KEYS = 50_000

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[str, tuple[int, float]] = {}

    def add(self, key: str, ttl: float) -> int:
        now = time.monotonic()
        with self._lock:
            count, expires = self._counts.get(key, (0, 0.0))
            if expires <= now:
                count, expires = 0, now + ttl
            self._counts[key] = (count + 1, expires)
            if len(self._counts) > self.MAX_KEYS:
                self._prune(now)
            return count + 1

    def get(self, key: str) -> int:
        count, expires = self._counts.get(key, (0, 0.0))
        return count if expires > time.monotonic() else 0

    def _prune(self, now: float) -> None:
        self._counts = {k: v for k, v in self._counts.items() if v[1] > now}
        if len(self._counts) > self.MAX_KEYS:  # a flood of new clients: start afresh
            self._counts.clear()


_local = _LocalCounts()


class FixedWindowThrottle:
    """Mixed in before a DRF `SimpleRateThrottle`: `allow_request` counts the request and says
    whether it is within the rate; `is_exhausted` and `add` let a caller count only some
    requests (failed sign-ins) and refuse once their limit is reached."""

    def get_ident(self, request) -> str:
        return client_ip.client_key(request)

    # Limits that guard seats or passwords count per process while the cache is away; others
    # let requests pass uncounted.
    counts_without_cache = False

    def counts_locally_when_cache_is_down(self, request) -> bool:
        return self.counts_without_cache

    def allow_request(self, request, view):
        count = self._count(request, view, add=True)
        return count is None or count <= self.num_requests

    def is_exhausted(self, request, view=None) -> bool:
        count = self._count(request, view, add=False)
        return count is not None and count >= self.num_requests

    def add(self, request, view=None) -> None:
        self._count(request, view, add=True)

    def _count(self, request, view, *, add: bool) -> int | None:
        """The window's count (after adding one if `add`); None when nothing counts: no rate,
        no key, or the cache away for a limit that then lets requests pass."""
        if self.rate is None:
            return None
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return None
        window = int(self.timer() // self.duration)
        self._window_ends = (window + 1) * self.duration
        key = f"{self.key}:{window}"
        ttl = self.duration + 1
        count = cache.counter_add(key, ttl) if add else cache.counter_get(key)
        if count is None and self.counts_locally_when_cache_is_down(request):
            local = cache.full_key(key)
            count = _local.add(local, ttl) if add else _local.get(local)
        return count

    def wait(self):
        return max(self._window_ends - self.timer(), 0)


class RateFromSettings:
    """The rate is read at each request from REST_FRAMEWORK's DEFAULT_THROTTLE_RATES, not once
    at import as DRF's API throttles do: the rate is a setting like any other. No rate for the
    scope, no limit."""

    def get_rate(self):
        from rest_framework.settings import api_settings

        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)


class ClientRateThrottle(RateFromSettings, FixedWindowThrottle, SimpleRateThrottle):
    """Per client address, at its scope's rate in the settings: the storefront's forms and the
    staff sign-in. Both guard seats or passwords, so they count per process without Redis."""

    counts_without_cache = True

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
