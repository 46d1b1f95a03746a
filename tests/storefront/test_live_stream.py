"""The push server's stream of a screening's seat statuses (Server-Sent Events): a real uvicorn
serving ticketing.asgi on real Redis, fed by the hold service. A hold reaches every open stream
within a second; a viewer that reconnects is told whether it missed anything; with Redis away
the endpoint answers at once so the page polls."""

from __future__ import annotations

import json
import threading
import time
from datetime import timedelta

import pytest
from django.urls import reverse

from tests import factories, push_server
from tests.factories import hold
from ticketing.inventory import live
from ticketing.inventory.holds import hold_release

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def push(tmp_path_factory, django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        server = push_server.start(tmp_path_factory.mktemp("push"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def push_without_redis(tmp_path_factory, django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        server = push_server.start(tmp_path_factory.mktemp("push"), "redis://127.0.0.1:1/0")
    yield server
    server.stop()


@pytest.fixture
def viewers(push, settings):
    push.use(settings)
    live.reset()
    opened = []

    def open_stream(screening, last_event_id=None):
        listener = push_server.listen(
            push.url, f"/live/screenings/{screening.pk}/seats/", last_event_id
        )
        opened.append(listener)
        return listener

    yield open_stream
    for listener in opened:
        listener.close()
    live.reset()


def first(listener):
    event = listener.wait_for(lambda e: True)
    assert event is not None, "no first event"
    return event


def test_a_hold_reaches_two_open_maps_within_a_second(screening, viewers):
    one, two = viewers(screening), viewers(screening)
    assert one.status == 200 and two.status == 200
    assert one.headers["Content-Type"].startswith("text/event-stream")
    assert first(one).data.endswith('"hello":true}') and first(two).data
    assert one.retry == 3000
    hold(screening, "E9")  # the first hold of a test run warms this process up: not measured
    assert one.wait_for(lambda e: "seats" in e.data) is not None

    held_at = time.monotonic()
    taken = hold(screening, "A1", "A2")
    seat_ids = {str(s) for s in taken.seat_ids}

    for listener in (one, two):
        event = listener.wait_for(
            lambda e: seat_ids <= set(json.loads(e.data).get("seats", {})), timeout=1.0
        )
        assert event is not None, "the hold did not arrive within a second"
        assert event.at - held_at < 1.0
        assert json.loads(event.data)["seats"] == dict.fromkeys(seat_ids, "held")
        assert event.id == str(json.loads(event.data)["v"])


def test_another_screenings_changes_are_not_sent(screening, auditorium, viewers):
    other = factories.screening(auditorium, starts_in=timedelta(days=2))
    listener = viewers(screening)
    first(listener)
    hold(other, "B1")
    assert listener.wait_for(lambda e: "seats" in e.data, timeout=0.7) is None


def test_a_viewer_reconnecting_with_the_last_version_is_told_it_is_caught_up(screening, viewers):
    listener = viewers(screening)
    hold(screening, "C1")
    seen = listener.wait_for(lambda e: "seats" in e.data)
    listener.close()

    again = viewers(screening, last_event_id=seen.id)
    assert again.status == 200
    event = first(again)
    assert event.id == seen.id
    assert json.loads(event.data) == {"v": int(seen.id), "caught_up": True}


def test_a_viewer_that_missed_changes_while_away_is_told_to_fetch_the_map(screening, viewers):
    listener = viewers(screening)
    taken = hold(screening, "D1")
    seen = listener.wait_for(lambda e: "seats" in e.data)
    listener.close()
    hold_release(hold=taken)  # while it was away

    again = viewers(screening, last_event_id=seen.id)
    event = first(again)
    assert json.loads(event.data) == {"v": int(seen.id) + 1, "refetch": True}
    assert event.id == str(int(seen.id) + 1)


def test_with_redis_down_the_endpoint_answers_at_once_so_the_page_polls(
    screening, push_without_redis
):
    path = f"/live/screenings/{screening.pk}/seats/"
    push_server.listen(push_without_redis.url, path)  # the server's first request: not timed
    started = time.monotonic()
    refused = push_server.listen(push_without_redis.url, path)
    assert time.monotonic() - started < 1.5
    assert refused.status == 503
    assert json.loads(refused.body)["error"]["code"] == "push_unavailable"
    # ...and the map the page polls instead still answers.
    assert hold(screening, "E1").seat_ids


def test_the_wsgi_site_refuses_the_stream_rather_than_hold_a_worker(screening, client):
    # In a thread of its own, as a WSGI worker runs it: in this one a browser test earlier in
    # the same process may have left Playwright's event loop running (async_to_sync refuses).
    answers = []
    worker = threading.Thread(
        target=lambda: answers.append(client.get(reverse("live-seats", args=[screening.pk])))
    )
    worker.start()
    worker.join(10)
    response = answers[0]
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "push_unavailable"


def test_the_seat_map_page_gives_the_push_url(screening, client, settings):
    settings.MARQUEE_PUSH_URL = "/live/"
    page = client.get(reverse("storefront:screening", args=[screening.pk]))
    assert f'"pushUrl": "/live/screenings/{screening.pk}/seats/"' in page.content.decode()
    settings.MARQUEE_PUSH_URL = ""
    page = client.get(reverse("storefront:screening", args=[screening.pk]))
    assert '"pushUrl": ""' in page.content.decode()
