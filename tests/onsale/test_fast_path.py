"""The waiting room's fast path (ticketing.storefront.waiting_fast) answers the status poll and
the waiting page exactly as Django's views answer them (body, cookies and the headers that
matter), from memory and Redis alone: no database, and anything they cannot answer goes through
the whole application."""

from __future__ import annotations

import json
import re

import pytest
from django.core import signing
from django.core.handlers.wsgi import WSGIHandler
from django.test import Client, RequestFactory

from tests.onsale.support import onsale
from ticketing.onsale import tokens
from ticketing.storefront.waiting_fast import FastWaitingRoom

# the WSGI application called directly: a request's end must not close the test's connection
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("keep_the_test_transaction")]

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
    "Set-Cookie",  # the names of the cookies set
)


@pytest.fixture(autouse=True)
def _rooms(settings):
    settings.MARQUEE_ONSALE = {"LIVE_ADMISSIONS": 2, "KEEP_SECONDS": 300, "GRACE_SECONDS": 120}


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
        answered["headers"]["Set-Cookie"] = sorted(
            value.split("=", 1)[0] for name, value in headers if name == "Set-Cookie"
        )

    result = FastWaitingRoom(behind)(environ, start_response)
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
    headers = dict(response.headers)
    headers["Set-Cookie"] = sorted(response.cookies)
    return response.status_code, headers, response.content


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
    assert_same_headers(f_headers, d_headers)
    assert delegated == 0
    return json.loads(f_body)


def assert_same_headers(f_headers: dict, d_headers: dict) -> None:
    for name in KEY_HEADERS:
        assert f_headers.get(name) is not None or d_headers.get(name) is None, name
        if name == "Content-Security-Policy" and name in d_headers:
            # the same directives (django-csp does not keep their order from one process
            # to the next)
            assert sorted(f_headers[name].split("; ")) == sorted(d_headers[name].split("; "))
        else:
            assert f_headers.get(name) == d_headers.get(name), name
    assert f_headers["X-Request-ID"] and "Expires" in f_headers


def comparable_page(body: bytes) -> str:
    """The page without what differs between two requests of one waiter: the CSRF token's mask
    and the server's clock."""
    text = re.sub(r'(name="csrfmiddlewaretoken" value=)"[^"]+"', r"\1-", body.decode())
    return re.sub(r'data-server-time="[0-9]+"', "data-server-time=-", text)


def assert_same_page(path: str, *, cookie: str = "", language: str = "en"):
    d_status, d_headers, d_body = django_get(path, cookie=cookie, language=language)
    f_status, f_headers, f_body, delegated = fast_get(path, cookie=cookie, language=language)
    assert f_status == d_status
    assert comparable_page(f_body) == comparable_page(d_body)
    assert_same_headers(f_headers, d_headers)
    assert f_headers.get("Location") == d_headers.get("Location")
    assert delegated == 0
    return f_status, f_headers, f_body.decode()


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

    fast_get(f"/wait/{sale.pk}/status.jsonx", behind=behind)
    fast_get(f"/wait/{sale.pk}/extra/", behind=behind)
    fast_get(f"/screenings/{screening.pk}/", behind=behind)

    assert behind.calls == 3


# ---- the waiting page --------------------------------------------------------------------------
def test_before_opening_the_fast_page_is_djangos_countdown(screening):
    sale = onsale(screening, opens_in=600)

    status, _headers, page = assert_same_page(
        f"/wait/{sale.pk}/?s={screening.pk}", cookie=waiter_cookie("early-1")
    )

    assert status == 200 and "data-countdown-clock" in page


def test_a_waiter_sees_the_same_page_in_every_language(screening):
    sale = onsale(screening)
    for ahead in ("first", "second"):  # the room lets 2 in at once
        fast_get(f"/wait/{sale.pk}/status.json", cookie=waiter_cookie(ahead))

    for language in ("en", "fr", "zh-hans"):
        status, headers, page = assert_same_page(
            f"/wait/{sale.pk}/?s={screening.pk}&why=expired",
            cookie=waiter_cookie("third"),
            language=language,
        )
        assert status == 200 and headers["Content-Language"] == language
        assert "data-position>1<" in page


def test_an_admitted_waiter_is_sent_to_the_seats_with_the_admission_cookie(screening):
    sale = onsale(screening)

    status, headers, _page = assert_same_page(
        f"/wait/{sale.pk}/?s={screening.pk}", cookie=waiter_cookie("first")
    )

    assert status == 302 and headers["Location"] == f"/screenings/{screening.pk}/"
    assert tokens.admission_cookie(sale.pk) in headers["Set-Cookie"]


def test_a_newcomer_gets_a_place_and_the_cookies_django_gives(screening):
    sale = onsale(screening)
    for ahead in ("first", "second"):
        fast_get(f"/wait/{sale.pk}/status.json", cookie=waiter_cookie(ahead))
    django_status, django_headers, _ = django_get(f"/wait/{sale.pk}/")

    status, headers, body, delegated = fast_get(f"/wait/{sale.pk}/")

    assert (status, delegated) == (django_status, 0) == (200, 0)
    assert headers["Set-Cookie"] == django_headers["Set-Cookie"] == ["csrftoken", "marquee_waiter"]
    assert b"data-position>2<" in body  # behind Django's newcomer


def test_an_onsale_not_cached_or_unknown_goes_through_the_whole_application(screening):
    from ticketing.onsale import selectors

    sale = onsale(screening)
    selectors.forget(onsale_id=sale.pk, screening_ids=[screening.pk])

    cold = fast_get(f"/wait/{sale.pk}/", cookie=waiter_cookie("w"))
    warm = fast_get(f"/wait/{sale.pk}/", cookie=waiter_cookie("w"))
    unknown = fast_get("/wait/999999/", cookie=waiter_cookie("w"))

    assert (cold[0], cold[3]) == (302, 1)  # Django answered, and cached the onsale
    assert (warm[0], warm[3]) == (302, 0)
    assert (unknown[0], unknown[3]) == (404, 1)


def test_the_fast_page_asks_the_database_nothing(django_assert_num_queries, screening):
    sale = onsale(screening)
    django_get(f"/wait/{sale.pk}/?s={screening.pk}")  # the onsale and the screening cached

    with django_assert_num_queries(0):
        for waiter in ("a", "b", "c", "d"):
            *_answer, delegated = fast_get(
                f"/wait/{sale.pk}/?s={screening.pk}", cookie=waiter_cookie(waiter)
            )
            assert delegated == 0


def test_with_redis_down_the_fast_page_answers_503_with_retry_after(settings, screening):
    sale = onsale(screening)
    fast_get(f"/wait/{sale.pk}/", cookie=waiter_cookie("w"))  # in this process's memory
    caches = {name: dict(conf) for name, conf in settings.CACHES.items()}
    caches["default"]["LOCATION"] = "redis://127.0.0.1:1/0"  # nothing listens there
    settings.CACHES = caches

    status, headers, page = assert_same_page(f"/wait/{sale.pk}/", cookie=waiter_cookie("w"))

    assert status == 503 and headers["Retry-After"] == "15"
    assert "Waiting room unavailable" in page


def test_a_host_not_allowed_is_refused_as_django_refuses_it(screening):
    sale = onsale(screening)
    environ = RequestFactory().get(f"/wait/{sale.pk}/status.json").environ
    environ["HTTP_HOST"] = "evil.example"
    answered = {}

    def start_response(status, headers, exc_info=None):
        answered["status"] = int(status.split()[0])

    FastWaitingRoom(Recorder())(environ, start_response).close()

    assert answered["status"] == 400


def test_the_waiting_services_probe_answers_plain_http_with_https_on(settings):
    settings.SECURE_SSL_REDIRECT = True

    probe = fast_get("/wait/0/status.json")
    poll = fast_get("/wait/7/status.json")

    assert (probe[0], probe[3]) == (200, 0)
    assert poll[0] == 301  # everything else goes to HTTPS
