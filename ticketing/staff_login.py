"""`/admin/login/` with limits, the same mechanism as every other (ticketing/ratelimit.py).

Every sign-in post counts against the client address (`admin_login`, 10 a minute); a failed one
also counts against the address and against the username (`admin_login_failed`, 10 an hour
each). Once either failure count is used up, the next post is refused before any password is
checked: a guesser gets ten tries an hour per username however many addresses it has. With Redis
down the counts are kept per process. The price is that a guesser can lock a staff member out
for up to the window; they sign in again when it ends (docs/operations.md, "Staff sign-in").
"""

from __future__ import annotations

import hashlib
import logging
import math

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.debug import sensitive_post_parameters

from ticketing.client_ip import client_key
from ticketing.ratelimit import ClientRateThrottle

log = logging.getLogger(__name__)


class SignInAttempts(ClientRateThrottle):
    scope = "admin_login"


class FailedSignIns(ClientRateThrottle):
    """Failed sign-ins of one identity: a client address (`addr:...`) or a username (`user:...`)."""

    scope = "admin_login_failed"

    def __init__(self, ident: str) -> None:
        super().__init__()
        self.ident = ident

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.ident}


def _username_ident(username: str) -> str:
    # Hashed: a key of bounded length and alphabet whatever is typed; case folded, so "Staff"
    # and "staff" share their count.
    return "user:" + hashlib.sha256(username.strip().casefold().encode()).hexdigest()[:32]


@sensitive_post_parameters("password")
def login(request: HttpRequest, extra_context=None) -> HttpResponse:
    if request.method != "POST":
        return admin.site.login(request, extra_context)
    failures = [FailedSignIns("addr:" + client_key(request))]
    username = request.POST.get("username", "")
    if username.strip():
        failures.append(FailedSignIns(_username_ident(username)))
    over = [t for t in failures if t.is_exhausted(request)]
    attempts = SignInAttempts()
    if not over and not attempts.allow_request(request, None):
        over = [attempts]
    if over:
        return _refused(request, over)
    response = admin.site.login(request, extra_context)
    if not (response.status_code == 302 and request.user.is_authenticated):
        for throttle in failures:
            throttle.add(request)
    return response


def _refused(request: HttpRequest, over) -> HttpResponse:
    wait = max(1, math.ceil(max(t.wait() for t in over)))
    log.warning("admin sign-in throttled for %s (%s)", client_key(request), over[0].scope)
    context = {**admin.site.each_context(request), "wait": wait}
    response = render(request, "admin/login_throttled.html", context, status=429)
    response["Retry-After"] = str(wait)
    return response
