"""The onsale's waiting room in Chromium: the countdown to opening, the position moving up as
buyers ahead finish, and the turn leading straight to the seat map; on a laptop and a phone,
checked with axe. Screenshots: docs/screenshots/waiting-room-desktop.png and -phone.png."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from ticketing.onsale import services, waiting
from ticketing.onsale.models import Onsale

from . import data
from .support import assert_accessible, screenshot


def declare(w: data.World, *, opens_in: float, rate: int = 0) -> Onsale:
    sale = Onsale.objects.create(
        name="Mission: Impossible, opening weekend",
        opens_at=timezone.now() + timedelta(seconds=opens_in),
        admit_per_minute=rate,
    )
    sale.screenings.set(w.screenings)
    services._sync(sale.pk)
    return sale


def ahead(sale: Onsale, *waiters: str) -> None:
    """Other buyers join the queue before this browser."""
    for waiter in waiters:
        waiting.visit(sale.pk, waiter, load=lambda: None)


@pytest.fixture
def one_at_a_time(settings):
    settings.MARQUEE_ONSALE = {"LIVE_ADMISSIONS": 1, "KEEP_SECONDS": 300, "GRACE_SECONDS": 120}


def test_before_opening_the_page_counts_down_then_lets_the_buyer_in_to_the_seat_map(page: Page):
    w = data.world()
    sale = declare(w, opens_in=4)

    page.goto(f"/screenings/{w.screening.pk}/")

    expect(page).to_have_url(re.compile(rf"/wait/{sale.pk}/"))
    expect(page.get_by_role("heading", level=1)).to_have_text(sale.name)
    clock = page.get_by_role("timer")
    expect(clock).to_contain_text(re.compile(r"Opens in\s*0:0[1-4]"))
    first = clock.inner_text()
    expect(clock).not_to_have_text(first, timeout=2500)  # it ticks on the server's clock
    assert_accessible(page, "waiting room before opening")
    # at opening, with nobody ahead, the poll admits the buyer and the page goes to the seats
    expect(page).to_have_url(re.compile(rf"/screenings/{w.screening.pk}/$"), timeout=12_000)
    expect(page.get_by_role("heading", level=1)).to_contain_text(w.film.title)


def test_the_position_moves_up_as_buyers_ahead_finish_and_the_turn_opens_the_seats(
    page: Page, one_at_a_time
):
    w = data.world()
    sale = declare(w, opens_in=-1)
    ahead(sale, "first-buyer", "second-buyer")  # the first is choosing seats, the second waits

    page.goto(f"/wait/{sale.pk}/?s={w.screening.pk}")

    live = page.locator("[aria-live=polite]")
    expect(live).to_contain_text("You are number 2 in the queue. 1 person ahead of you.")
    assert_accessible(page, "waiting room with a position")

    waiting.admission_done(sale.pk, "first-buyer")  # bought: the second goes in
    expect(live).to_contain_text("You are number 1 in the queue.", timeout=8000)

    waiting.admission_done(sale.pk, "second-buyer")
    expect(page).to_have_url(re.compile(rf"/screenings/{w.screening.pk}/$"), timeout=8000)
    expect(page.get_by_role("heading", level=1)).to_contain_text(w.film.title)


def _crowd(sale: Onsale, count: int) -> None:
    ahead(sale, *(f"crowd-{i}" for i in range(count)))


def test_screenshots_of_the_waiting_room_on_a_laptop_and_a_phone(page: Page, phone_page: Page):
    w = data.world()
    sale = declare(w, opens_in=-1, rate=250)
    _crowd(sale, 1800)

    for device, view in (("desktop", page), ("phone", phone_page)):
        view.goto(f"/wait/{sale.pk}/?s={w.screening.pk}")
        expect(view.locator("[data-position]")).to_be_visible()
        expect(view.locator("[data-estimate-text]")).to_contain_text("minutes to go")
        view.evaluate("() => document.activeElement && document.activeElement.blur()")
        screenshot(view, f"waiting-room-{device}")
    assert_accessible(phone_page, "waiting room on a phone")
