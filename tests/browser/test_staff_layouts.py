"""The staff seat-layout editor in Chromium: a manager edits a layout with clicks and keys (a row
added, a couple pair, a wheelchair space, a blocked seat, a premium seat), previews, saves and
sees the result; a save that would block a sold seat is refused, naming it. The screenshot is
docs/screenshots/staff-layout-editor.png (MARQUEE_SCREENSHOTS=1 to refresh it)."""

from __future__ import annotations

from django.conf import settings
from django.test import Client
from playwright.sync_api import Page, expect

from tests import factories
from tests.staff.support import signed_in, staff_user
from ticketing.audit.models import AuditEntry
from ticketing.orders.services import order_mark_paid
from ticketing.screenings.layouts import layout_render
from ticketing.staff import roles

from .support import assert_accessible, screenshot

START = "sssss\nsssss\nsssss"


def signed_in_page(page: Page, site: str, user) -> None:
    client = signed_in(Client(), user)
    value = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": value, "url": site}])


def world():
    cinema = factories.cinema(name="Le Grand Rex")
    room = factories.layout_room(cinema, START, name="Salle 2")
    screening = factories.screening(room)
    order = factories.pending_order(screening, "B2")
    order_mark_paid(order_id=order.pk, actor="test")
    return cinema, room, screening


def cell(page: Page, name: str):
    return page.get_by_role("gridcell", name=name, exact=True)


def count(page: Page, what: str):
    return page.locator(f'[data-count="{what}"]')


def test_a_manager_draws_a_layout_with_clicks_and_keys_and_saves_it(page: Page, site):
    cinema, room, _ = world()
    signed_in_page(page, site, staff_user(roles.MANAGER, cinema))

    page.goto("/staff/layouts/")
    page.get_by_role("link", name="Salle 2").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Seat layout: Salle 2")
    expect(
        cell(page, "Row B, seat 2: standard, held or sold for a screening to come")
    ).to_be_visible()
    expect(count(page, "All seats")).to_have_text("15")

    # A row below C, from the row and column buttons, on the cell last clicked.
    cell(page, "Row C, seat 1: standard").click()  # the standard tool: no change
    page.get_by_role("button", name="Insert row below").click()
    expect(cell(page, "Row D, seat 1: standard")).to_be_visible()
    expect(count(page, "All seats")).to_have_text("20")

    # Keys on the grid: u a couple pair, arrows, w a wheelchair space, x blocked.
    cell(page, "Row D, seat 1: standard").focus()
    page.keyboard.press("u")
    expect(cell(page, "Row D, seat 1: couple seat with seat 2")).to_be_focused()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("w")
    expect(cell(page, "Row D, seat 3: wheelchair space")).to_be_focused()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("x")
    expect(cell(page, "Row D, seat 4: standard, blocked")).to_be_focused()
    page.keyboard.press("ArrowUp")
    page.keyboard.press("Delete")  # C4 becomes an aisle
    expect(page.get_by_role("gridcell", name="Row C, column 4: aisle or gap")).to_be_focused()

    # A tool from the toolbar, applied with a click.
    page.get_by_role("button", name="Premium p").click()
    cell(page, "Row A, seat 5: standard").click()
    expect(cell(page, "Row A, seat 5: premium")).to_be_visible()

    text = page.get_by_label("Text grid")
    expect(text).to_have_value("ssssp\nsssss\nsss.s\n<>wxs")
    expect(count(page, "Couple (seats)")).to_have_text("2")
    expect(count(page, "Wheelchair spaces")).to_have_text("1")
    expect(count(page, "Blocked")).to_have_text("1")
    expect(count(page, "Premium")).to_have_text("1")
    expect(count(page, "Rows")).to_have_text("4")
    assert_accessible(page, "the layout editor")

    page.get_by_role("button", name="Preview changes").click()
    preview = page.locator("[data-result]")
    expect(preview).to_contain_text("Seats added (5)")
    expect(preview).to_contain_text("A5: standard → premium")
    expect(preview).to_contain_text("Seats removed (1)")  # C5: row C has four seats now
    assert layout_render(room) == START  # a preview writes nothing

    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    screenshot(page, "staff-layout-editor", full_page=True)

    page.get_by_role("button", name="Save layout").click()
    expect(page.get_by_role("status").filter(has_text="Saved:")).to_be_visible()
    assert layout_render(room) == "ssssp\nsssss\nsss.s\n<>wxs"
    assert AuditEntry.objects.filter(action="layout.change", object_id=str(room.pk)).count() == 1
    seats = {seat.label: seat for seat in room.seats.all()}
    assert seats["D1"].pair_id == seats["D2"].pk and seats["D3"].seat_type == "wheelchair"
    assert not seats["D4"].is_sellable and seats["A5"].seat_type == "premium"


def test_a_save_that_would_block_a_sold_seat_is_refused_naming_it(page: Page, site):
    cinema, room, screening = world()
    signed_in_page(page, site, staff_user(roles.MANAGER, cinema))

    page.goto(f"/staff/layouts/{room.pk}/")
    cell(page, "Row A, seat 1: standard").focus()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("x")
    expect(
        cell(page, "Row B, seat 2: standard, blocked, held or sold for a screening to come")
    ).to_be_focused()
    page.get_by_role("button", name="Save layout").click()

    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Not saved")
    expect(alert).to_contain_text("B2 (it would be blocked) is held or sold for")
    expect(alert).to_contain_text(screening.film.title)
    assert layout_render(room) == START
    assert not AuditEntry.objects.filter(action="layout.change").exists()


def test_pasting_a_text_grid_redraws_the_editor_and_a_mistake_is_named(page: Page, site):
    cinema, room, _ = world()
    signed_in_page(page, site, staff_user(roles.MANAGER, cinema))
    page.goto(f"/staff/layouts/{room.pk}/")

    text = page.get_by_label("Text grid")
    text.fill("pppp\n.\nss<>ss\nw..c")
    expect(cell(page, "Row B, seat 3: couple seat with seat 4")).to_be_visible()
    expect(page.get_by_role("rowheader", name="Walkway")).to_be_visible()
    expect(count(page, "All seats")).to_have_text("12")

    text.fill("pppp\nss?s")
    expect(page.locator("[data-text-status]")).to_contain_text("Line 2, column 3")
    expect(count(page, "All seats")).to_have_text("12")  # the grid keeps the last good text


def test_the_box_office_is_refused_the_editor(page: Page, site):
    cinema, room, _ = world()
    signed_in_page(page, site, staff_user(roles.BOX_OFFICE, cinema))

    response = page.goto(f"/staff/layouts/{room.pk}/")

    assert response is not None and response.status == 403


def test_on_a_phone_the_editor_works_by_touch(phone_page: Page, site):
    cinema, room, _ = world()
    signed_in_page(phone_page, site, staff_user(roles.MANAGER, cinema))
    phone_page.goto(f"/staff/layouts/{room.pk}/")

    phone_page.get_by_role("button", name="Wheelchair w").tap()
    cell(phone_page, "Row C, seat 5: standard").tap()

    expect(cell(phone_page, "Row C, seat 5: wheelchair space")).to_be_visible()
    expect(phone_page.get_by_label("Text grid")).to_have_value("sssss\nsssss\nssssw")
    assert_accessible(phone_page, "the layout editor on a phone")
    screenshot(phone_page, "staff-layout-editor-phone", full_page=True)
