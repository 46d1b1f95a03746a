"""A purchase with the keyboard alone: Tab, Shift+Tab, the arrow keys, Space, Enter and typing,
from the seat map to the confirmation. Where the buyer has to see where they are (a seat, the
Hold button, a form field), the focus must be drawn."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from ticketing.orders.models import OrderStatus

from . import data


def active(page: Page, script: str):
    return page.evaluate(f"() => {{ const el = document.activeElement; return {script}; }}")


def tab_until(page: Page, script: str, *, limit: int = 40, back: bool = False) -> None:
    """Press Tab (Shift+Tab with back=True) until `script` (JS, about `el`, the focused
    element) is true; fail after `limit` presses."""
    for _ in range(limit):
        page.keyboard.press("Shift+Tab" if back else "Tab")
        if active(page, script):
            return
    raise AssertionError(f"{limit} Tabs never reached {script}; at {active(page, 'el.outerHTML')}")


def outline(page: Page, of: str = "el") -> str:
    """The focus ring drawn on the focused element (or on `of`, JS about `el`): width and
    style of its outline, or "none"."""
    return active(
        page,
        f"(s => s.outlineStyle === 'none' ? 'none' : s.outlineWidth + ' ' + s.outlineStyle)"
        f"(getComputedStyle({of}))",
    )


def test_a_purchase_with_the_keyboard_alone(page):
    w = data.world()
    page.goto(w.map_path)

    # To the map: it is one tab stop; the first free seat takes the focus.
    tab_until(page, "el.classList.contains('seat-input')")
    assert active(page, "el.dataset.label") == "A1"
    # The checkbox is transparent: the seat drawn under it (its label) shows the focus.
    assert outline(page, of="el.nextElementSibling") == "3px solid"

    # Arrows move between seats, Space chooses.
    page.keyboard.press("ArrowDown")  # B1
    page.keyboard.press("ArrowRight")  # B2
    assert active(page, "el.dataset.label") == "B2"
    assert outline(page, of="el.nextElementSibling") == "3px solid"
    page.keyboard.press("Space")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Space")
    expect(data.seat_box(page, w.room, "B2")).to_be_checked()
    expect(data.seat_box(page, w.room, "B3")).to_be_checked()
    expect(page.locator("[data-announce]")).to_have_text("Seat B3 chosen.")
    # Left and back again does not change what is chosen.
    page.keyboard.press("ArrowLeft")
    assert active(page, "el.dataset.label") == "B2"

    # Out of the map: the ticket type of each seat, then Hold.
    tab_until(page, "el.getAttribute('aria-label') === 'Ticket type for seat B3'")
    page.keyboard.press("ArrowDown")  # Adult -> Child (under 15)
    expect(page.get_by_label("Ticket type for seat B3")).to_have_value(
        str(w.ticket_type("child").pk)
    )
    tab_until(page, "el.hasAttribute('data-hold-button')")
    assert outline(page) == "3px solid"
    # One step back and forth with Shift+Tab.
    page.keyboard.press("Shift+Tab")
    assert active(page, "el.getAttribute('aria-label')") == "Ticket type for seat B3"
    page.keyboard.press("Tab")
    assert active(page, "el.textContent.trim()") == "Hold 2 seats"
    page.keyboard.press("Enter")
    page.wait_for_url(data.CHECKOUT_URL)
    hold_id = data.CHECKOUT_URL.search(page.url).group(1)

    # Checkout: the ticket types came along; fill in by typing; Enter submits.
    expect(page.get_by_label("Ticket type for seat B3")).to_have_value(
        str(w.ticket_type("child").pk)
    )
    tab_until(page, "el.id === 'id_name'")
    assert outline(page) == "3px solid"
    page.keyboard.type(data.BUYER_NAME)
    page.keyboard.press("Tab")
    assert active(page, "el.id") == "id_email"
    page.keyboard.type(data.BUYER_EMAIL)
    page.keyboard.press("Enter")
    page.wait_for_url(data.SANDBOX_URL)

    # The sandbox's card form, the same way.
    tab_until(page, "el.getAttribute('autocomplete') === 'cc-number'")
    page.keyboard.type(data.SANDBOX_OK)
    for text in ("12/34", "123", data.BUYER_NAME):
        page.keyboard.press("Tab")
        page.keyboard.type(text)
    page.keyboard.press("Enter")
    page.wait_for_url(data.DONE_URL)
    data.expect_confirmed(page)

    order = data.order_of(hold_id)
    assert order.status == OrderStatus.PAID
    tickets = order.tickets.select_related("ticket_type")
    assert sorted((t.seat_label, t.ticket_type.code) for t in tickets) == [
        ("B2", "adult"),
        ("B3", "child"),
    ]
