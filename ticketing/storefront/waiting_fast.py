"""The waiting room's page and status poll, in front of Django's full request cycle.

`GET /wait/<onsale>/status.json` is what every waiting browser asks every 5 seconds, and
`GET /wait/<onsale>/` what a browser without JavaScript reloads: during a rush they are most of
the site's traffic. Through Django's whole stack about half of their CPU went to middleware they
do not need (sessions, authentication, OTP, messages, URL resolving). `FastWaitingRoom` wraps
the WSGI application: those two paths (GET only) are answered by the views' own code
(`onsale_gate.wait_page` for the page; the same signed waiter cookie, Lua visit through the
cache's pooled Redis connection, `_status` body and error shapes as `onsale_gate.wait_status`
for the poll), passed through only the middleware whose headers such an answer carries: the
request id, security headers (nosniff, referrer and opener policies, HSTS, the HTTPS
redirect), the CSP, the language (Content-Language, Vary), the host check (CommonMiddleware),
CSRF for the page (its language switch is a form: the cookie is set as Django sets it) and
X-Frame-Options. The classes are Django's and ours, in the order of settings.MIDDLEWARE, so
headers cannot drift.

Anything they cannot answer from memory and Redis alone (Redis has lost the onsale's settings,
or never had them: an unknown onsale) goes through the whole Django application as before,
which puts the settings back or answers 404. No database, no session on the fast path.
"""

from __future__ import annotations

import re
import time

from django.conf import settings
from django.core.handlers.exception import convert_exception_to_response
from django.core.handlers.wsgi import WSGIRequest, get_script_name
from django.http import Http404, HttpResponse
from django.urls import set_script_prefix
from django.utils.http import http_date
from django.utils.module_loading import import_string

from ticketing.onsale import selectors, tokens, waiting

from . import onsale_gate

STATUS_PATH = re.compile(r"/wait/([0-9]+)/status\.json")
PAGE_PATH = re.compile(r"/wait/([0-9]+)/")
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
PAGE_KEPT = (*KEPT, "django.middleware.csrf.CsrfViewMiddleware")


class _NotInRedis(Exception):
    """Redis does not know the onsale: the full application answers (it may ask the database)."""


class _Delegate(HttpResponse):
    """Returned by the fast view to say: let Django's whole application answer instead."""


def _not_in_redis():
    raise _NotInRedis


def status_view(request, onsale_id: int) -> HttpResponse:
    """`onsale_gate.wait_status` without the database: memory and Redis alone, or delegate
    (the onsale not cached: a staff change dropped it, and only Django knows if it closed)."""
    waiter = tokens.waiter_of(request)
    if waiter is None:
        response = onsale_gate.unknown_answer()
    else:
        try:
            if closed := onsale_gate.closed_answer(onsale_id, cached_only=True):
                return _never_cache(closed)
            visit = waiting.visit(onsale_id, waiter, load=_not_in_redis)
        except (_NotInRedis, selectors.NotCached):
            return _Delegate()
        except waiting.WaitingRoomUnavailable:
            response = onsale_gate._unavailable(request, onsale_id, json=True)
        else:
            response = onsale_gate.poll_answer(visit)
    return _never_cache(response)


def page_view(request, onsale_id: int) -> HttpResponse:
    """`onsale_gate.wait` from memory and Redis, or delegate (not cached, unknown onsale)."""
    try:
        response = onsale_gate.wait_page(request, onsale_id, cached_only=True)
    except (selectors.NotCached, Http404):
        return _Delegate()
    return _never_cache(response)


def _never_cache(response: HttpResponse) -> HttpResponse:
    # as @never_cache (add_never_cache_headers), its Cache-Control written once
    response["Expires"] = http_date(time.time())
    response["Cache-Control"] = NEVER_CACHE
    return response


class _PolicyOnce:
    """django-csp's middleware, its policy built once per status instead of twice a request
    (a third of the poll's CPU on the fast path): neither the poll nor the waiting page uses a
    nonce (the page's script is a file under 'self'; a template that wants `request.csp_nonce`
    must leave the fast path), so the policy depends on the settings alone. The headers are
    the middleware's own."""

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


def _chain(view, kept):
    """The kept middleware around `view(request)`, built as Django's BaseHandler builds it."""
    handler = convert_exception_to_response(view)
    for path in reversed([m for m in settings.MIDDLEWARE if m in kept]):
        middleware = REPLACED.get(path) or import_string(path)
        handler = convert_exception_to_response(middleware(handler))
    return handler


ONSALE_KEY = "marquee.onsale_id"  # the environ entry _route fills from the path


def _by_onsale(view):
    return lambda request: view(request, request.META[ONSALE_KEY])


class FastWaitingRoom:
    """WSGI: the waiting page and its poll answered here, every other request by `app`."""

    def __init__(self, app):
        self.app = app
        self._handlers = None

    def _route(self, environ):
        """The handler for this request (its onsale's id put in the environ), or None."""
        if environ.get("REQUEST_METHOD") != "GET":
            return None
        path = environ.get("PATH_INFO", "")
        for pattern, name in ((STATUS_PATH, "status"), (PAGE_PATH, "page")):
            match = pattern.fullmatch(path)
            if match:
                if self._handlers is None:
                    self._handlers = {
                        "status": _chain(_by_onsale(status_view), KEPT),
                        "page": _chain(_by_onsale(page_view), PAGE_KEPT),
                    }
                environ[ONSALE_KEY] = int(match.group(1))
                return self._handlers[name]
        return None

    def __call__(self, environ, start_response):
        handler = self._route(environ)
        if handler is None:
            return self.app(environ, start_response)
        set_script_prefix(get_script_name(environ))  # as WSGIHandler does: reverse() under a prefix
        request = WSGIRequest(environ)
        response = handler(request)
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
    return FastWaitingRoom(app)
