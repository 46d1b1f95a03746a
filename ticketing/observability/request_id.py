"""One id per web request, in every log line the request causes and in the Celery tasks it
queues (ticketing.observability.celery_hooks), and answered in the `X-Request-ID` header.

An incoming `X-Request-ID` is used only when the operator says a proxy in front sets it
(`MARQUEE_TRUST_REQUEST_ID`): otherwise any client could write what it likes into our logs.
Even then it must look like an id, or a new one is made.
"""

from __future__ import annotations

import contextvars
import re
import uuid

from django.conf import settings
from django.core.signals import request_finished

HEADER = "X-Request-ID"
_WELL_FORMED = re.compile(r"[A-Za-z0-9._:=+/@-]{1,128}")
_current: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)


def current() -> str | None:
    return _current.get()


def bind(value: str | None) -> contextvars.Token:
    return _current.set(value)


def unbind(token: contextvars.Token) -> None:
    _current.reset(token)


def well_formed(value: str) -> bool:
    return bool(_WELL_FORMED.fullmatch(value))


def from_request(request) -> str:
    if settings.MARQUEE_OBSERVABILITY["TRUST_REQUEST_ID"]:
        incoming = request.headers.get(HEADER, "")
        if well_formed(incoming):
            return incoming
    return uuid.uuid4().hex


def _clear(**_) -> None:
    bind(None)


def connect() -> None:
    request_finished.connect(_clear, dispatch_uid="request-id-clear")


class RequestIdMiddleware:
    """First in the list, so that every later middleware's log lines carry the id too.

    The id stays bound until the response is closed (`request_finished`), not only while the
    middleware runs: Django logs a 4xx or 5xx answer after the middleware has returned, and
    gunicorn writes its access line after that.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.request_id = from_request(request)
        bind(request.request_id)
        response = self.get_response(request)
        response[HEADER] = request.request_id
        return response
