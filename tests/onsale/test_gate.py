"""The storefront's gate: a screening of an onsale opens only with this browser's admission,
forgeries and copies are sent back to the queue with a reason, and Redis down lets nobody
through unqueued while admitted buyers carry on."""

from __future__ import annotations

import time

import pytest
from django.core import signing
from django.test import Client

from tests.onsale.support import onsale
from ticketing.onsale import tokens, waiting

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _rooms(settings):
    settings.MARQUEE_ONSALE = {"LIVE_ADMISSIONS": 2, "KEEP_SECONDS": 300, "GRACE_SECONDS": 120}


def admitted_client(sale, screening) -> Client:
    """A browser that waited its turn and was sent to the seat map."""
    browser = Client()
    response = browser.get(f"/wait/{sale.pk}/?s={screening.pk}")
    assert response.status_code == 302, response.content[:300]
    assert response["Location"] == f"/screenings/{screening.pk}/"
    return browser


def test_a_screening_outside_any_onsale_opens_as_before(client, screening):
    assert client.get(f"/screenings/{screening.pk}/").status_code == 200


def test_without_an_admission_the_seat_map_sends_the_buyer_to_the_waiting_page(client, screening):
    sale = onsale(screening)

    response = client.get(f"/screenings/{screening.pk}/")

    assert response.status_code == 303
    assert response["Location"] == f"/wait/{sale.pk}/?s={screening.pk}"


def test_a_hold_posted_without_an_admission_is_sent_to_the_waiting_page(client, screening):
    sale = onsale(screening)

    response = client.post(f"/screenings/{screening.pk}/hold/", {"seat": ["1"]})

    assert response.status_code == 303
    assert response["Location"].startswith(f"/wait/{sale.pk}/")


def test_the_buyer_whose_turn_it_is_is_admitted_to_the_seat_map_with_a_signed_cookie(screening):
    sale = onsale(screening)
    browser = admitted_client(sale, screening)

    cookie = browser.cookies[tokens.admission_cookie(sale.pk)]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    assert browser.cookies[tokens.WAITER_COOKIE]["httponly"]
    assert browser.get(f"/screenings/{screening.pk}/").status_code == 200


def test_before_opening_the_page_counts_down_and_the_buyer_is_not_admitted(client, screening):
    sale = onsale(screening, opens_in=600)

    response = client.get(f"/wait/{sale.pk}/?s={screening.pk}")

    assert response.status_code == 200
    page = response.content.decode()
    assert ("data-countdown-clock" in page and "10:00" in page) or "9:59" in page
    assert 'http-equiv="refresh"' in page  # without JavaScript it refreshes itself
    assert client.get(f"/screenings/{screening.pk}/").status_code == 303


@pytest.mark.parametrize(("opens_in", "refresh"), [(600, 30), (25, 10), (8, 5), (3, 2)])
def test_without_javascript_the_page_comes_back_by_the_opening_never_after(
    client, screening, opens_in, refresh
):
    sale = onsale(screening, opens_in=opens_in)

    page = client.get(f"/wait/{sale.pk}/").content.decode()

    assert f'<meta http-equiv="refresh" content="{refresh}">' in page


def test_a_waiter_behind_the_admitted_sees_the_position_and_an_estimate(screening):
    sale = onsale(screening)
    admitted_client(sale, screening)
    admitted_client(sale, screening)  # two live admissions: the room is full
    third = Client()

    page = third.get(f"/wait/{sale.pk}/?s={screening.pk}")
    status = third.get(f"/wait/{sale.pk}/status.json").json()

    assert page.status_code == 200
    assert 'aria-live="polite"' in page.content.decode()
    assert status["state"] == "waiting" and status["position"] == 1
    assert "number 1" in status["positionText"]


def test_the_status_poll_touches_no_database(django_assert_num_queries, screening):
    sale = onsale(screening)
    browser = Client()
    browser.get(f"/wait/{sale.pk}/?s={screening.pk}")

    with django_assert_num_queries(0):
        response = browser.get(f"/wait/{sale.pk}/status.json")

    assert response.status_code == 200
    assert response["Cache-Control"].startswith("max-age=0")


def test_the_waiting_page_touches_no_database_once_the_onsale_is_cached(
    django_assert_num_queries, screening
):
    from ticketing.onsale import selectors

    sale = onsale(screening, opens_in=600)
    Client().get(f"/wait/{sale.pk}/")
    selectors._local.clear()  # this process's memory lapsed: Redis still has it

    with django_assert_num_queries(0):
        assert Client().get(f"/wait/{sale.pk}/").status_code == 200


def _tamper(token: str) -> str:
    return token[:-2] + ("AA" if not token.endswith("AA") else "BB")


@pytest.mark.parametrize(
    ("forge", "reason"),
    [
        ("altered_signature", "forged"),
        ("another_waiters_cookie", "other_browser"),
        ("another_onsale", "other_onsale"),
        ("expired", "expired"),
    ],
)
def test_a_token_that_is_not_this_browsers_own_for_this_onsale_is_refused(
    forge, reason, screening, auditorium
):
    from tests.storefront.support import screening_at

    sale = onsale(screening)
    browser = admitted_client(sale, screening)
    name = tokens.admission_cookie(sale.pk)
    token = browser.cookies[name].value
    if forge == "altered_signature":
        browser.cookies[name] = _tamper(token)
    elif forge == "another_waiters_cookie":
        thief = Client()
        thief.get(f"/wait/{sale.pk}/?s={screening.pk}")  # a waiter cookie of its own
        thief.cookies[name] = token
        browser = thief
    elif forge == "another_onsale":
        other_screening = screening_at(auditorium, screening.starts_at.replace(year=2099))
        other = onsale(other_screening)
        other_browser = admitted_client(other, other_screening)
        browser.cookies[name] = other_browser.cookies[tokens.admission_cookie(other.pk)].value
        browser.cookies[tokens.WAITER_COOKIE] = other_browser.cookies[tokens.WAITER_COOKIE].value
    elif forge == "expired":
        claims = signing.loads(token, salt=tokens.ADMISSION_SALT)
        browser.cookies[name] = tokens.issue(
            onsale_id=sale.pk, waiter_id=claims["w"], ends_at=time.time() - 1
        )

    response = browser.get(f"/screenings/{screening.pk}/")

    assert response.status_code == 303
    assert response["Location"] == f"/wait/{sale.pk}/?s={screening.pk}&why={reason}"
    explained = browser.get(response["Location"])
    assert explained.status_code in (200, 302)  # the reason shown, or straight back in if free


def test_a_token_signed_with_another_salt_is_forged():
    token = signing.dumps({"o": 1, "w": "me", "e": int(time.time()) + 60}, salt="elsewhere")
    with pytest.raises(tokens.Refused) as refused:
        tokens.check(token, onsale_id=1, waiter_id="me")
    assert refused.value.reason == "forged"


def test_an_order_placed_ends_the_admission_and_makes_room_for_the_next(screening):
    sale = onsale(screening)
    first, _second = admitted_client(sale, screening), admitted_client(sale, screening)
    third = Client()
    assert third.get(f"/wait/{sale.pk}/?s={screening.pk}").status_code == 200  # room is full

    class Request:
        def __init__(self, browser):
            self.COOKIES = {k: v.value for k, v in browser.cookies.items()}

        def get_signed_cookie(self, key, default=None, salt=""):
            from django.http import HttpRequest

            request = HttpRequest()
            request.COOKIES = self.COOKIES
            return request.get_signed_cookie(key, default=default, salt=salt)

    from ticketing.storefront import onsale_gate

    onsale_gate.purchase_done(Request(first), screening.pk)

    assert third.get(f"/wait/{sale.pk}/?s={screening.pk}").status_code == 302


def test_with_redis_down_the_queue_answers_503_and_admitted_buyers_carry_on(settings, screening):
    sale = onsale(screening)
    admitted = admitted_client(sale, screening)
    newcomer = Client()
    caches = {name: dict(conf) for name, conf in settings.CACHES.items()}
    caches["default"]["LOCATION"] = "redis://127.0.0.1:1/0"  # nothing listens there
    settings.CACHES = caches

    sent_on = newcomer.get(f"/screenings/{screening.pk}/")
    page = newcomer.get(sent_on["Location"])
    status = newcomer.get(f"/wait/{sale.pk}/status.json")
    hold_post = newcomer.post(f"/screenings/{screening.pk}/hold/", {"seat": ["1"]})

    assert sent_on.status_code == 303  # never let through to the seats
    assert page.status_code == 503 and page["Retry-After"] == "15"
    assert "unavailable" in page.content.decode()
    newcomer.cookies[tokens.WAITER_COOKIE] = "x"
    assert status.status_code in (200, 503)
    assert hold_post.status_code == 303
    assert admitted.get(f"/screenings/{screening.pk}/").status_code == 200


def test_the_status_endpoint_with_redis_down_answers_the_error_shape(settings, screening):
    sale = onsale(screening)
    browser = Client()
    browser.get(f"/wait/{sale.pk}/")
    caches = {name: dict(conf) for name, conf in settings.CACHES.items()}
    caches["default"]["LOCATION"] = "redis://127.0.0.1:1/0"
    settings.CACHES = caches

    response = browser.get(f"/wait/{sale.pk}/status.json")

    assert response.status_code == 503
    assert response["Retry-After"] == "15"
    assert response.json()["error"]["code"] == "waiting_room_unavailable"


def test_the_waiting_room_never_answers_500_to_a_tampered_waiter_cookie(client, screening):
    sale = onsale(screening)
    client.cookies[tokens.WAITER_COOKIE] = "not-signed"
    client.cookies[tokens.admission_cookie(sale.pk)] = "garbage"

    assert client.get(f"/screenings/{screening.pk}/").status_code == 303
    assert client.get(f"/wait/{sale.pk}/status.json").json()["state"] == "unknown"
    assert client.get(f"/wait/{sale.pk}/").status_code in (200, 302)
    assert client.get("/wait/999999/").status_code == 404
    assert waiting.WaitingRoomUnavailable


def test_an_admitted_buyer_holds_seats_and_reaches_checkout_and_a_stranger_does_not(screening):
    from tests.storefront.support import hold_seats
    from ticketing.inventory.models import Hold

    sale = onsale(screening)
    buyer = admitted_client(sale, screening)

    held = hold_seats(buyer, screening, "C4", "C5")

    assert held.status_code == 302
    hold = Hold.objects.get(screening=screening)
    assert held["Location"] == f"/checkout/{hold.pk}/"
    assert buyer.get(held["Location"]).status_code == 200
    stranger = Client()
    stranger.cookies[tokens.admission_cookie(sale.pk)] = buyer.cookies[
        tokens.admission_cookie(sale.pk)
    ].value
    assert stranger.get(held["Location"]).status_code in (303, 404)


def test_seats_held_in_time_can_be_paid_for_after_the_admission_ends(screening):
    from tests.storefront.support import hold_seats
    from ticketing.inventory.models import Hold

    sale = onsale(screening)
    buyer = admitted_client(sale, screening)
    hold_seats(buyer, screening, "C4")
    hold = Hold.objects.get(screening=screening)
    name = tokens.admission_cookie(sale.pk)
    claims = signing.loads(buyer.cookies[name].value, salt=tokens.ADMISSION_SALT)
    # an admission that ends a moment after the seats were held
    ending = tokens.issue(onsale_id=sale.pk, waiter_id=claims["w"], ends_at=time.time() + 1.5)
    buyer.cookies[name] = ending
    time.sleep(2.1)

    assert buyer.get(f"/checkout/{hold.pk}/").status_code == 200
    assert buyer.get(f"/screenings/{screening.pk}/").status_code == 303  # but no new choice


@pytest.mark.parametrize(
    ("language", "words"),
    [("fr", "Vous êtes numéro 1 dans la file."), ("zh-hans", "您在队列中排第 1 位。")],
)
def test_the_waiting_page_and_its_poll_speak_the_buyers_language(language, words, screening):
    sale = onsale(screening)
    admitted_client(sale, screening)
    admitted_client(sale, screening)
    browser = Client(headers={"accept-language": language})

    page = browser.get(f"/wait/{sale.pk}/?s={screening.pk}").content.decode()
    status = browser.get(f"/wait/{sale.pk}/status.json").json()

    assert words in page
    assert status["positionText"].startswith(words)
