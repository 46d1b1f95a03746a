"""The live onsale page in Chromium: a manager watches the queue, the rates and the seats left
drawn by uPlot and updated by the page's poll, pauses admissions and changes the rate; a
screenshot for the staff guide."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import Page, expect

from tests import factories
from tests.onsale.support import onsale
from tests.staff.support import staff_user
from ticketing import cache
from ticketing.onsale import waiting
from ticketing.onsale.models import Onsale
from ticketing.staff import roles

from .support import assert_accessible, screenshot
from .test_staff_dashboard import sign_in, sold


@pytest.fixture
def sale(db):
    cinema = factories.cinema(name="Le Grand Rex")
    film = factories.film(title="Avengers: Endgame")
    rooms = [factories.auditorium(cinema, rows=6, per_row=12, name=f"Salle {n}") for n in (1, 2)]
    shows = [factories.screening(room, film=film) for room in rooms]
    made = onsale(*shows, name="Endgame opening weekend", admit_per_minute=120, ticket_limit=6)
    for n in range(40):
        waiting.visit(made.pk, f"waiter-{n}", load=lambda: None)
    sold(shows[0], "A1", "A2", "A3")
    sold(shows[1], "B1", "B2")
    # Ten minutes of history, as the page's poll would have kept it (a sample every 5 s), leading
    # up to the figures of now: 120 admitted a minute, 48 purchases, the seats going.
    now = time.time()
    admitted = waiting.stats(made).admitted
    history = []
    for i in range(120):
        t, ago = now - (120 - i) * 5, 120 - i
        history.append(
            [round(t, 1), 60 + 7 * ago, admitted - 10 * ago, 2 - 4 * ago, 139 + ago // 24]
        )
    cache.set(f"staff:onsale:{made.pk}:all:history", history, 600)
    cache.set(f"staff:onsale:{made.pk}:{cinema.pk}:history", history, 600)
    yield cinema, made
    waiting.forget(made.pk)


def test_a_manager_watches_the_onsale_live_and_pauses_it(page: Page, site: str, sale):
    cinema, made = sale
    sign_in(page, site, staff_user(roles.MANAGER, cinema))

    page.goto("/staff/onsales/")
    page.get_by_role("link", name="Endgame opening weekend").click()

    expect(page.get_by_role("heading", name="Endgame opening weekend", level=1)).to_be_visible()
    charts = page.locator(".onsale-charts .chart")
    expect(charts).to_have_count(3)
    for i in range(3):
        expect(charts.nth(i).locator("canvas")).to_have_count(1)
    expect(page.locator(".onsale-charts")).to_have_attribute("aria-hidden", "true")
    expect(page.locator('[data-figure="seats_left"]')).to_have_text("139")
    expect(page.locator('[data-figure="paid_orders"]')).to_have_text("2")
    assert_accessible(page, "staff onsale live")
    screenshot(page, "staff-onsale-live", full_page=True)

    # The poll brings the newcomers in without a reload.
    for n in range(40, 55):
        waiting.visit(made.pk, f"waiter-{n}", load=lambda: None)
    before = page.locator('[data-figure="waiting"]').inner_text()
    expect(page.locator('[data-figure="waiting"]')).not_to_have_text(before, timeout=15_000)

    page.get_by_role("button", name="Pause admissions").click()
    expect(page.get_by_text("Admissions paused.")).to_be_visible()
    expect(page.get_by_role("button", name="Resume admissions")).to_be_visible()
    assert Onsale.objects.get(pk=made.pk).paused

    page.get_by_label("Buyers let in a minute").fill("300")
    page.get_by_role("button", name="Change the rate").click()
    expect(page.get_by_text("Letting in 300 buyers a minute.")).to_be_visible()
    assert Onsale.objects.get(pk=made.pk).admit_per_minute == 300


def test_the_live_page_on_a_phone(phone_page: Page, site: str, sale):
    cinema, made = sale
    sign_in(phone_page, site, staff_user(roles.MANAGER, cinema))

    phone_page.goto(f"/staff/onsales/{made.pk}/")

    expect(phone_page.locator(".onsale-charts .chart canvas")).to_have_count(3)
    width = phone_page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 390, f"the page is {width} px wide on a 390 px phone"
    assert_accessible(phone_page, "staff onsale live on a phone")
