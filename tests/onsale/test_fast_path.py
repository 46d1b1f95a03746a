"""The status poll's fast path (ticketing.storefront.waiting_fast) answers exactly what Django's
view answers (body and the headers that matter), from Redis alone: no database, and anything
Redis cannot answer goes through the whole application."""

from __future__ import annotations

import json

import pytest
from django.core import signals, signing
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections
from django.test import Client, RequestFactory

from tests.onsale.support import onsale
from ticketing.onsale import tokens
from ticketing.storefront.waiting_fast import FastWaitingStatus

pytestmark = pytest.mark.django_db

KEY_HEADERS = (
    "Content-Type",
    "Cache-Control",
    "X-Content-Type-Options",
    "X-Frame-Options",
    "Referrer-Policy",
    "Cross-Origin-Opener-Policy",
    "Content-Security-Policy",
    "Vary",
    "Content-Language",
    "Retry-After",
)


@pytest.fixture(autouse=True)
def _rooms(settings):
    settings.MARQUEE_ONSALE = {"LIVE_ADMISSIONS": 2, "KEEP_SECONDS": 300, "GRACE_SECONDS": 120}


@pytest.fixture(autouse=True)
def _keep_the_test_transaction():
    """As Django's test client does: a request's end must not close the test's connection."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


class Recorder:
    """The application behind the fast path: Django's own, and whether it was asked."""

    def __init__(self):
        self.app = WSGIHandler()
        self.calls = 0

    def __call__(self, environ, start_response):
        self.calls += 1
        return self.app(environ, start_response)


def waiter_cookie(waiter: str) -> str:
    signer = signing.get_cookie_signer(salt=tokens.WAITER_COOKIE + tokens.WAITER_SALT)
    return f"{tokens.WAITER_COOKIE}={signer.sign(waiter)}"


def fast_get(path: str, *, cookie: str = "", language: str = "en", behind=None):
    behind = behind or Recorder()
    environ = RequestFactory().get(path).environ
    environ["HTTP_ACCEPT_LANGUAGE"] = language
    if cookie:
        environ["HTTP_COOKIE"] = cookie
    answered = {}

    def start_response(status, headers, exc_info=None):
        answered["status"] = int(status.split()[0])
        answered["headers"] = dict(headers)

    result = FastWaitingStatus(behind)(environ, start_response)
    try:
        body = b"".join(result)
    finally:
        result.close()
    return answered["status"], answered["headers"], body, behind.calls


def django_get(path: str, *, cookie: str = "", language: str = "en"):
    browser = Client(HTTP_ACCEPT_LANGUAGE=language)
    if cookie:
        name, value = cookie.split("=", 1)
        browser.cookies[name] = value
    response = browser.get(path)
    return response.status_code, dict(response.headers), response.content


def comparable(body: bytes) -> dict:
    answer = json.loads(body)
    answer.pop("serverTime", None)  # the two answers are a moment apart
    return answer


def assert_same_answer(path: str, *, cookie: str = "", language: str = "en"):
    """Django's answer first, then the fast path's: the same status, body and key headers,
    the fast path without Django behind it."""
    d_status, d_headers, d_body = django_get(path, cookie=cookie, language=language)
    f_status, f_headers, f_body, delegated = fast_get(path, cookie=cookie, language=language)
    assert (f_status, comparable(f_body)) == (d_status, comparable(d_body))
    for name in KEY_HEADERS:
        assert f_headers.get(name) is not None or d_headers.get(name) is None, name
        if name == "Content-Security-Policy" and name in d_headers:
            # the same directives (django-csp does not keep their order from one process
            # to the next)
            assert sorted(f_headers[name].split("; ")) == sorted(d_headers[name].split("; "))
        else:
            assert f_headers.get(name) == d_headers.get(name), name
    assert f_headers["X-Request-ID"] and "Expires" in f_headers
    assert delegated == 0
    return json.loads(f_body)


def test_before_opening_the_fast_path_answers_as_django_does(screening):
    sale = onsale(screening, opens_in=600)

    answer = assert_same_answer(f"/wait/{sale.pk}/status.json", cookie=waiter_cookie("early-1"))

    assert answer["state"] == "early"


def test_a_waiter_in_the_queue_is_told_the_same_position_in_every_language(screening):
    sale = onsale(screening)
    for ahead in ("first", "second"):  # the room lets 2 in at once
        fast_get(f"/wait/{sale.pk}/status.json", cookie=waiter_cookie(ahead))

    for language in ("en", "fr", "zh-hans"):
        answer = assert_same_answer(
            f"/wait/{sale.pk}/status.json", cookie=waiter_cookie("third"), language=language
        )
        assert answer["state"] == "waiting" and answer["position"] == 1


def test_an_admitted_waiter_is_told_to_reload_as_django_tells_them(screening):
    sale = onsale(screening)

    answer = assert_same_answer(f"/wait/{sale.pk}/status.json", cookie=waiter_cookie("first"))

    assert answer["state"] == "admitted" and answer["reload"] is True


def test_a_forged_or_missing_waiter_cookie_is_told_to_reload_the_page(screening):
    sale = onsale(screening)

    forged = assert_same_answer(
        f"/wait/{sale.pk}/status.json", cookie=f"{tokens.WAITER_COOKIE}=not-signed"
    )
    missing = assert_same_answer(f"/wait/{sale.pk}/status.json")

    assert forged == missing == {"state": "unknown", "reload": True}


def test_an_onsale_redis_does_not_know_goes_through_the_whole_application(screening):
    status, _headers, body, delegated = fast_get(
        "/wait/999999/status.json", cookie=waiter_cookie("lost")
    )

    assert delegated == 1
    assert status == 404
    assert json.loads(body)["error"]["code"] == "not_found"


def test_with_redis_down_the_fast_path_answers_503_and_the_error_shape(settings, screening):
    sale = onsale(screening)
    caches = {name: dict(conf) for name, conf in settings.CACHES.items()}
    caches["default"]["LOCATION"] = "redis://127.0.0.1:1/0"  # nothing listens there
    settings.CACHES = caches

    answer = assert_same_answer(f"/wait/{sale.pk}/status.json", cookie=waiter_cookie("w"))

    assert answer["error"]["code"] == "waiting_room_unavailable"


def test_the_fast_path_asks_the_database_nothing(django_assert_num_queries, screening):
    sale = onsale(screening, opens_in=600)
    later = onsale(screening)

    with django_assert_num_queries(0):
        fast_get(f"/wait/{sale.pk}/status.json", cookie=waiter_cookie("a"))
        fast_get(f"/wait/{later.pk}/status.json", cookie=waiter_cookie("b"))
        fast_get(f"/wait/{later.pk}/status.json", cookie=waiter_cookie("c"))
        fast_get(f"/wait/{later.pk}/status.json", cookie=waiter_cookie("d"))


def test_other_requests_are_left_to_django(screening):
    sale = onsale(screening)
    behind = Recorder()

    fast_get(f"/wait/{sale.pk}/", cookie=waiter_cookie("page"), behind=behind)
    fast_get(f"/wait/{sale.pk}/status.jsonx", behind=behind)

    assert behind.calls == 2


def test_a_host_not_allowed_is_refused_as_django_refuses_it(screening):
    sale = onsale(screening)
    environ = RequestFactory().get(f"/wait/{sale.pk}/status.json").environ
    environ["HTTP_HOST"] = "evil.example"
    answered = {}

    def start_response(status, headers, exc_info=None):
        answered["status"] = int(status.split()[0])

    FastWaitingStatus(Recorder())(environ, start_response).close()

    assert answered["status"] == 400
