"""Rate limits that never take the API down with Redis: if the cache fails, the request passes."""

from __future__ import annotations

import logging

from rest_framework import throttling

log = logging.getLogger(__name__)


class _Degrading:
    """A fixed-window counter in the cache (one INCR per request), instead of DRF's list of
    every request's timestamp, which grows with the rate and is rewritten on each request.
    Lets the request through when the cache is down."""

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        now = self.timer()
        window = int(now // self.duration)
        self._window_ends = (window + 1) * self.duration
        key = f"{self.key}:{window}"
        try:
            count = self._increment(key, self.duration + 1)
        except ValueError:  # expired between add and incr: a fresh window
            count = 1
        except Exception as exc:
            log.warning("throttle skipped, cache unavailable: %s", exc)
            return True
        return count <= self.num_requests

    def _increment(self, key: str, ttl: int) -> int:
        backend = getattr(self.cache, "_cache", None)
        if hasattr(backend, "get_client"):  # Django's RedisCache: INCR and EXPIRE in one trip
            full = self.cache.make_and_validate_key(key)
            pipe = backend.get_client(full, write=True).pipeline(transaction=False)
            pipe.incr(full)
            pipe.expire(full, ttl)
            count, _ = pipe.execute()
            return int(count)
        self.cache.add(key, 0, ttl)  # any other cache: three calls
        return self.cache.incr(key)

    def wait(self):
        return max(self._window_ends - self.timer(), 0)


class AnonRateThrottle(_Degrading, throttling.AnonRateThrottle):
    """Per client address, for callers with neither an API key nor a session."""

    def get_cache_key(self, request, view):
        if getattr(request.user, "is_authenticated", False):
            return None
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class PartnerRateThrottle(_Degrading, throttling.SimpleRateThrottle):
    scope = "partner"

    def get_cache_key(self, request, view):
        partner = getattr(request.user, "partner", None)
        if partner is None:
            return None
        return self.cache_format % {"scope": self.scope, "ident": partner.pk}


class UserRateThrottle(_Degrading, throttling.SimpleRateThrottle):
    """Per signed-in user, for browser sessions using the API (partners have their own)."""

    scope = "user"

    def get_cache_key(self, request, view):
        user = request.user
        if (
            not getattr(user, "is_authenticated", False)
            or getattr(user, "partner", None) is not None
        ):
            return None
        return self.cache_format % {"scope": self.scope, "ident": user.pk}
