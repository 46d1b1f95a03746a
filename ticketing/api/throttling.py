"""The API's rate limits, per client address, per partner key and per signed-in user.

The counting is ticketing/ratelimit.py's. With Redis down requests pass uncounted, so the API
never goes down with Redis, except hold posts: a script must not take a room while the limit is
away, so those are counted per process."""

from __future__ import annotations

from rest_framework import throttling

from ticketing.ratelimit import FixedWindowThrottle, RateFromSettings

# The routes whose posts take seats (ticketing/api/urls.py).
SEAT_TAKING_ROUTES = frozenset({"hold-create"})


class _ApiThrottle(FixedWindowThrottle):
    def counts_locally_when_cache_is_down(self, request) -> bool:
        match = getattr(request, "resolver_match", None)
        return request.method == "POST" and getattr(match, "view_name", None) in SEAT_TAKING_ROUTES


class AnonRateThrottle(_ApiThrottle, throttling.AnonRateThrottle):
    """Per client address (ticketing/client_ip.py), for callers with neither an API key nor a
    session."""

    def get_cache_key(self, request, view):
        if getattr(request.user, "is_authenticated", False):
            return None
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class PartnerRateThrottle(_ApiThrottle, throttling.SimpleRateThrottle):
    """Per API key, at the key's own `rate_per_minute` or else the partners' rate (`partner`,
    MARQUEE_THROTTLE_PARTNER): a partner's keys are counted apart, so one busy integration
    does not use up the others' allowance."""

    scope = "partner"

    def allow_request(self, request, view):
        own = getattr(getattr(request.user, "api_key", None), "rate_per_minute", None)
        if own:
            self.rate = f"{own}/min"
            self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def get_cache_key(self, request, view):
        api_key = getattr(request.user, "api_key", None)
        if api_key is None:
            return None
        return self.cache_format % {"scope": self.scope, "ident": f"key{api_key.pk}"}


class UserRateThrottle(_ApiThrottle, throttling.SimpleRateThrottle):
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


# A browser session's posts that book (ticketing/api/urls.py).
SESSION_BOOKING_ROUTES = frozenset({"hold-create", "order-create", "order-cancel"})


class SessionBookingThrottle(RateFromSettings, _ApiThrottle, throttling.SimpleRateThrottle):
    """A signed-in browser session booking through the API is held to the storefront's limit
    (the `storefront` rate, per client address): an account made in a minute does not get the
    API's higher rate for taking seats."""

    scope = "storefront"

    def get_cache_key(self, request, view):
        user = request.user
        match = getattr(request, "resolver_match", None)
        if (
            request.method != "POST"
            or not getattr(user, "is_authenticated", False)
            or getattr(user, "partner", None) is not None
            or getattr(match, "view_name", None) not in SESSION_BOOKING_ROUTES
        ):
            return None
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
