"""Two buyers after the same seat: the server refuses the second hold and says which seat went,
and an open seat map catches up with seats others take, without a reload."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from ticketing.inventory import holds

from . import data


def test_a_seat_taken_after_the_map_was_loaded_is_refused_by_name_and_the_rest_stay_chosen(page):
    w = data.world()
    # The map stops polling (every request for fresh statuses fails): it shows the room as it
    # was when the page loaded.
    page.route("**/seats.json", lambda route: route.abort())
    page.goto(w.map_path)
    data.choose_seats(page, "B2", "B3")
    data.take(w, "B3")  # someone else, meanwhile
    expect(data.seat_box(page, w.room, "B3")).to_be_enabled()  # the map does not know yet

    page.get_by_role("button", name="Hold 2 seats").click()

    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Sorry, seat B3 has just been taken by someone else.")
    expect(alert).to_be_focused()
    assert re.search(rf"{w.map_path}hold/$", page.url), page.url
    taken = page.get_by_role("checkbox", name=f"{data.seat_name('B3')}, taken", exact=True)
    expect(taken).to_be_disabled()
    expect(taken).not_to_be_checked()
    expect(page.get_by_role("checkbox", name=data.seat_name("B2"), exact=True)).to_be_checked()
    expect(page.get_by_label("Ticket type for seat B2")).to_be_visible()
    expect(page.get_by_label("Ticket type for seat B3")).to_have_count(0)

    # Holding what is left works.
    hold_id = data.hold_seats(page)
    assert holds.Hold.objects.get(pk=hold_id).seat_ids == [w.seat_id("B2")]


def test_the_open_map_greys_out_seats_others_take_and_unticks_a_chosen_one(page, settings):
    settings.MARQUEE = {**settings.MARQUEE, "SEAT_MAP_POLL_MS": 500}
    w = data.world()
    page.goto(w.map_path)
    data.choose_seats(page, "C2", "C3")
    other = data.take(w, "C3", "E8")  # one the buyer ticked, one they did not

    c3, e8 = data.seat_box(page, w.room, "C3"), data.seat_box(page, w.room, "E8")
    expect(c3).to_be_disabled(timeout=5_000)
    expect(c3).not_to_be_checked()
    expect(e8).to_be_disabled()
    expect(
        page.get_by_role("checkbox", name=f"{data.seat_name('C3')}, taken", exact=True)
    ).to_be_disabled()
    expect(page.locator("[data-announce]")).to_have_text(
        "Seat C3 has just been taken by someone else."
    )
    expect(page.get_by_role("checkbox", name=data.seat_name("C2"), exact=True)).to_be_checked()
    expect(page.get_by_label("Ticket type for seat C3")).to_have_count(0)
    expect(page.get_by_label("Ticket type for seat C2")).to_be_visible()

    # ...and seats given back come back.
    holds.hold_release(hold=other)
    expect(e8).to_be_enabled(timeout=5_000)
    expect(c3).to_be_enabled()
    expect(c3).not_to_be_checked()
