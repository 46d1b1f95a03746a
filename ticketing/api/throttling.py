"""Rate limits that never take the API down with Redis: if the cache fails, the request passes."""

from __future__ import annotations

import logging

from rest_framework import throttling

log = logging.getLogger(__name__)


class _Degrading:
    def allow_request(self, request, view):
        try:
            return super().allow_request(request, view)
        except Exception as exc:
            log.warning("throttle skipped, cache unavailable: %s", exc)
            return True


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
