"""`/admin/login/`'s limits, now shared with the staff sign-in (ticketing/staff/login.py).

Every sign-in post counts against the client address (`admin_login`, 10 a minute); a failed one
also counts against the address and against the username (`admin_login_failed`, 10 an hour
each). Once either failure count is used up, the next post is refused before any password is
checked: a guesser gets ten tries an hour per username however many addresses it has. With Redis
down the counts are kept per process. The price is that a guesser can lock a staff member out
for up to the window; they sign in again when it ends (docs/operations.md, "Staff sign-in").

`/admin/login/` itself is the staff sign-in: a visit is sent to `/staff/login/` (password, then
the second factor), and a post is that page's password step, counted the same way.
"""

from __future__ import annotations

import hashlib
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.debug import sensitive_post_parameters

from ticketing.ratelimit import ClientRateThrottle


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


def username_ident(username: str) -> str:
    # Hashed: a key of bounded length and alphabet whatever is typed; case folded, so "Staff"
    # and "staff" share their count.
    return "user:" + hashlib.sha256(username.strip().casefold().encode()).hexdigest()[:32]


@sensitive_post_parameters("password")
def login(request: HttpRequest, extra_context=None) -> HttpResponse:
    from ticketing.staff import login as staff_login  # it uses the limits above

    next_url = staff_login.safe_next(
        request, request.POST.get("next") or request.GET.get("next") or "/admin/"
    )
    if request.method != "POST":
        return redirect(f"{reverse('staff:login')}?{urlencode({'next': next_url})}")
    return staff_login.password_post(request, next_url)
