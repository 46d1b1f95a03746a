"""A rate limit on the storefront's forms that change something (hold, checkout, pay, sign in,
sign up), per client address: a script cannot hold a cinema's seats from fresh sessions in a
loop, nor guess passwords at speed. Reading pages is not limited. The same fixed-window counter
as the API's (ticketing/ratelimit.py). These posts take seats and check passwords, so with Redis
down they are counted per process rather than let through."""

from __future__ import annotations

import logging
import math
from functools import wraps

from django.shortcuts import render

from ticketing.ratelimit import ClientRateThrottle

log = logging.getLogger(__name__)


class StorefrontThrottle(ClientRateThrottle):
    scope = "storefront"


def throttled(view):
    """Answer 429 with a plain page (and Retry-After) to a POST over the limit."""

    @wraps(view)
    def inner(request, *args, **kwargs):
        if request.method == "POST":
            throttle = StorefrontThrottle()
            if not throttle.allow_request(request, None):
                wait = max(1, math.ceil(throttle.wait()))
                log.warning(
                    "storefront throttled %s on %s", throttle.get_ident(request), request.path
                )
                response = render(request, "storefront/throttled.html", {"wait": wait}, status=429)
                response["Retry-After"] = str(wait)
                return response
        return view(request, *args, **kwargs)

    return inner
