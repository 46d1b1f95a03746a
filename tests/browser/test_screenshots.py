"""The storefront's screenshots for the documentation, on a laptop and on a phone: the home
page, a film, the seat map with two seats chosen, checkout and the confirmation, on the demo's
data (three cinemas, a week of screenings, a 300-seat room with some seats sold).

Everyday runs write them into test-results/screenshots/; to refresh docs/screenshots/:

    MARQUEE_SCREENSHOTS=1 .venv/bin/pytest tests/browser/test_screenshots.py
"""

from __future__ import annotations

from playwright.sync_api import Page, expect

from ticketing.orders.models import OrderStatus

from . import data
from .support import screenshot


def unfocus(page: Page) -> None:
    """No focus ring or open drop-down in the picture."""
    page.evaluate("() => document.activeElement && document.activeElement.blur()")


def tour(page: Page, device: str) -> None:
    show = data.showcase()
    screening = show.screening
    film = screening.film

    page.goto(show.home_path)
    expect(page.get_by_role("link", name=film.title, exact=True).first).to_be_visible()
    screenshot(page, f"home-{device}")

    page.goto(show.film_path)
    expect(page.get_by_role("heading", level=1)).to_have_text(film.title)
    screenshot(page, f"film-{device}")

    page.goto(f"/screenings/{screening.pk}/")
    for label in show.free_pair:
        box = data.seat_box(page, screening.auditorium, label)
        box.check()
        expect(box).to_be_checked()
    expect(page.get_by_role("button", name="Hold 2 seats")).to_be_visible()
    screenshot(page, f"seatmap-{device}", full_page=True)

    hold_id = data.hold_seats(page)
    data.fill_details(page)
    page.get_by_label(f"Ticket type for seat {show.free_pair[1]}").select_option(
        label="Child (under 15)"
    )
    unfocus(page)
    expect(page.get_by_role("timer")).to_be_visible()
    screenshot(page, f"checkout-{device}", full_page=True)

    data.continue_to_payment(page)
    data.pay_on_sandbox(page)
    data.expect_confirmed(page)
    qr = page.get_by_role("img", name=f"QR code of the ticket for seat {show.free_pair[1]}")
    expect(qr).to_be_visible()
    unfocus(page)
    screenshot(page, f"confirmation-{device}", full_page=True)
    assert data.order_of(hold_id).status == OrderStatus.PAID


def test_screenshots_on_a_laptop(page):
    tour(page, "desktop")


def test_screenshots_on_a_phone(phone_page):
    tour(phone_page, "phone")
