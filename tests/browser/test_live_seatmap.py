"""An open seat map learns of seats others take by push (Server-Sent Events from the push
server, a real uvicorn beside the live server), with polling out of the question: the map's
requests for fresh statuses all fail and its poll intervals are ten minutes."""

from __future__ import annotations

import copy
import time

import pytest
from playwright.sync_api import expect

from tests import push_server
from ticketing.inventory import holds, live

from . import data

NEVER_MS = 600_000


@pytest.fixture(scope="module")
def push(tmp_path_factory, django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        server = push_server.start(tmp_path_factory.mktemp("push"))
    yield server
    server.stop()


@pytest.fixture
def pushed_page(page, push, settings):
    """The page, its map told to listen to the push server and never to poll."""
    push.use(settings)
    live.reset()
    settings.MARQUEE_PUSH_URL = f"{push.url}/live/"
    settings.MARQUEE = {
        **settings.MARQUEE,
        "SEAT_MAP_POLL_MS": NEVER_MS,
        "SEAT_MAP_PUSHED_POLL_MS": NEVER_MS,
    }
    policy = copy.deepcopy(settings.CONTENT_SECURITY_POLICY)
    policy["DIRECTIVES"]["connect-src"] = [*policy["DIRECTIVES"]["connect-src"], push.url]
    settings.CONTENT_SECURITY_POLICY = policy
    polls: list[str] = []

    def refuse(route):
        polls.append(route.request.url)
        route.abort()

    page.route("**/seats.json", refuse)
    page.polls = polls
    yield page
    live.reset()


def test_a_seat_another_buyer_holds_turns_grey_by_push_within_a_second(pushed_page):
    page = pushed_page
    w = data.world()
    page.goto(w.map_path)
    expect(page.locator("#seatmap")).to_have_attribute("data-live", "push")
    data.choose_seats(page, "C2", "C3")
    polls_before = len(page.polls)

    started = time.monotonic()
    other = data.take(w, "C3", "E8")  # one the buyer ticked, one they did not
    c3, e8 = data.seat_box(page, w.room, "C3"), data.seat_box(page, w.room, "E8")
    expect(c3).to_be_disabled(timeout=1_000)
    took = time.monotonic() - started
    expect(c3).not_to_be_checked()
    expect(e8).to_be_disabled()
    expect(page.locator("[data-announce]")).to_have_text(
        "Seat C3 has just been taken by someone else."
    )
    expect(page.get_by_role("checkbox", name=data.seat_name("C2"), exact=True)).to_be_checked()
    expect(page.get_by_label("Ticket type for seat C3")).to_have_count(0)
    assert took < 1.0, f"the seat turned grey {took:.2f} s after the hold"
    assert len(page.polls) == polls_before, "the map polled: this was not the push"

    # ...and seats given back come back, by push too.
    holds.hold_release(hold=other)
    expect(e8).to_be_enabled(timeout=1_000)
    expect(c3).to_be_enabled()
    expect(c3).not_to_be_checked()
    assert len(page.polls) == polls_before
