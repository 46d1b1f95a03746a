"""The waiting room's status poll, in front of Django's full request cycle.

`GET /wait/<onsale>/status.json` is what every waiting browser asks every 5 seconds: during a
rush it is most of the site's traffic. Through Django's whole stack it cost ~1.5 ms of CPU, most
of it in middleware the poll does not need (sessions, CSRF, authentication, OTP, messages, URL
resolving). `FastWaitingStatus` wraps the WSGI application: that one path (GET only) is answered
by the same code as `onsale_gate.wait_status` (the signed waiter cookie, the same Lua visit
through the cache's pooled Redis connection, the same `_status` body and error shapes), passed
through only the middleware whose headers such an answer carries: the request id, security
headers (nosniff, referrer and opener policies, HSTS, the HTTPS redirect), the CSP, the
language (Content-Language, Vary), the host check (CommonMiddleware) and X-Frame-Options. The
classes are Django's and ours, in the order of settings.MIDDLEWARE, so headers cannot drift.

Anything the poll cannot answer from Redis alone (Redis has lost the onsale's settings, or
never had them: an unknown onsale) goes through the whole Django application as before, which
puts the settings back or answers 404. No database, no session on the fast path.
"""

from __future__ import annotations

import re
import time

from django.conf import settings
from django.core.handlers.exception import convert_exception_to_response
from django.core.handlers.wsgi import WSGIRequest
from django.http import HttpResponse, JsonResponse
from django.utils.http import http_date
from django.utils.module_loading import import_string

from ticketing.onsale import tokens, waiting

from . import onsale_gate

PATH = re.compile(r"/wait/([0-9]+)/status\.json")
NEVER_CACHE = "max-age=0, no-cache, no-store, must-revalidate, private"

# The middleware whose effect a JSON poll's answer shows; the rest (sessions, CSRF, auth, OTP,
# messages, CORS for /api, metrics of 429/409, the API error mapping) does nothing for it.
KEPT = (
    "ticketing.observability.request_id.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
)


class _NotInRedis(Exception):
    """Redis does not know the onsale: the full application answers (it may ask the database)."""


class _Delegate(HttpResponse):
    """Returned by the fast view to say: let Django's whole application answer instead."""


def _not_in_redis():
    raise _NotInRedis


def status_view(request, onsale_id: int) -> HttpResponse:
    """`onsale_gate.wait_status` without the database: Redis alone, or delegate."""
    waiter = tokens.waiter_of(request)
    if waiter is None:  # no place yet: the page makes one
        response = JsonResponse({"state": "unknown", "reload": True})
    else:
        try:
            visit = waiting.visit(onsale_id, waiter, load=_not_in_redis)
        except _NotInRedis:
            return _Delegate()
        except waiting.WaitingRoomUnavailable:
            response = onsale_gate._unavailable(request, onsale_id, json=True)
        else:
            body = onsale_gate._status(visit)
            body["reload"] = visit.state == "admitted"
            response = JsonResponse(body)
    # as @never_cache (add_never_cache_headers), its Cache-Control written once
    response["Expires"] = http_date(time.time())
    response["Cache-Control"] = NEVER_CACHE
    return response


class _PolicyOnce:
    """django-csp's middleware, its policy built once per status instead of twice a request
    (a third of the fast path's CPU): the poll's answer never uses a nonce, so the policy
    depends on the settings alone. The headers are the middleware's own."""

    def __init__(self, get_response):
        from csp.middleware import CSPMiddleware

        self.get_response = get_response
        self.policy = CSPMiddleware(get_response)
        self.headers: dict[int, list[tuple[str, str]]] = {}

    def __call__(self, request):
        response = self.get_response(request)
        headers = self.headers.get(response.status_code)
        if headers is None:
            probe = HttpResponse(status=response.status_code)
            self.policy.process_response(request, probe)
            names = ("Content-Security-Policy", "Content-Security-Policy-Report-Only")
            headers = [(name, probe[name]) for name in names if name in probe]
            self.headers[response.status_code] = headers
        for name, value in headers:
            if name not in response:
                response[name] = value
        return response


REPLACED = {"csp.middleware.CSPMiddleware": _PolicyOnce}


def _chain(view):
    """The kept middleware around `view(request)`, built as Django's BaseHandler builds it."""
    handler = convert_exception_to_response(view)
    for path in reversed([m for m in settings.MIDDLEWARE if m in KEPT]):
        middleware = REPLACED.get(path) or import_string(path)
        handler = convert_exception_to_response(middleware(handler))
    return handler


class FastWaitingStatus:
    """WSGI: the status poll answered here, every other request by `app` (Django's)."""

    def __init__(self, app):
        self.app = app
        self._handler = None

    def _view(self, request):
        match = PATH.fullmatch(request.path_info)
        return status_view(request, int(match.group(1)))

    def __call__(self, environ, start_response):
        if environ.get("REQUEST_METHOD") != "GET" or not PATH.fullmatch(
            environ.get("PATH_INFO", "")
        ):
            return self.app(environ, start_response)
        if self._handler is None:
            self._handler = _chain(self._view)
        request = WSGIRequest(environ)
        response = self._handler(request)
        if isinstance(response, _Delegate):
            response.close()
            return self.app(environ, start_response)
        # as django.core.handlers.wsgi.WSGIHandler answers; close() sends request_finished
        response._handler_class = type(self)
        status = f"{response.status_code} {response.reason_phrase}"
        headers = [
            *response.items(),
            *(("Set-Cookie", c.OutputString()) for c in response.cookies.values()),
        ]
        start_response(status, headers)
        return response


def wrap(app):
    return FastWaitingStatus(app)
