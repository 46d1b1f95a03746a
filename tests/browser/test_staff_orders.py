"""Order lookup, exports and the audit log in Chromium: the box office finds an order by its
code on a phone and resends its confirmation; a manager refunds a ticket, downloads the day's
attendance and reads the refund in the audit log. Each page passes axe; screenshots
docs/screenshots/staff-order*.png, staff-exports.png and staff-audit.png."""

from __future__ import annotations

from playwright.sync_api import expect

from tests import factories
from tests.staff.support import staff_user
from tests.staff.test_orders_lookup import paid_order
from ticketing.staff import roles

from .support import assert_accessible, screenshot
from .test_staff_schedule import sign_in


def test_the_box_office_finds_an_order_on_a_phone_and_resends_its_confirmation(phone_page, site):
    cinema = factories.cinema(name="Le Grand Rex", time_zone="Europe/Paris")
    screening = factories.screening(
        factories.auditorium(cinema, rows=4, per_row=8, name="Salle 1"),
        film=factories.film(title="The Long Crossing"),
    )
    order = paid_order(screening, "C4", "C5", name="Ada Lovelace", email="ada@example.com")
    sign_in(phone_page, staff_user(roles.BOX_OFFICE, cinema), site)
    page = phone_page

    page.goto("/staff/orders/")
    page.get_by_label("Order code, ticket code, email or name").fill(order.code.lower())
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("heading", name="1 order found")).to_be_visible()
    assert_accessible(page, "the order search")
    screenshot(page, "staff-orders-phone")

    page.get_by_role("link", name=order.code).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"Order {order.code}")
    expect(page.get_by_role("cell", name="C4 standard")).to_be_visible()
    assert_accessible(page, "an order's page")
    page.get_by_role("button", name="Resend the confirmation").click()
    expect(page.get_by_role("status")).to_contain_text("sent again to ada@example.com")
    screenshot(page, "staff-order-phone", full_page=True)


def test_a_manager_refunds_a_ticket_exports_the_day_and_reads_the_audit_log(page, site):
    cinema = factories.cinema(name="Le Grand Rex", time_zone="Europe/Paris")
    screening = factories.screening(
        factories.auditorium(cinema, rows=4, per_row=8, name="Salle 1"),
        film=factories.film(title="The Long Crossing"),
    )
    order = paid_order(screening, "B2", "B3", name="Grace Hopper", email="grace@example.com")
    sign_in(page, staff_user(roles.MANAGER, cinema, username="claire"), site)

    page.goto(f"/staff/orders/{order.pk}/")
    page.get_by_label("Refund seat B3").check()
    page.get_by_label("Reason").fill("could not come")
    screenshot(page, "staff-order", full_page=True)
    page.get_by_role("button", name="Refund the chosen tickets").click()
    expect(page.get_by_role("status")).to_contain_text("for 1 ticket of")

    page.goto("/staff/exports/")
    page.get_by_role("textbox", name="Day").fill(
        screening.starts_at.astimezone(cinema.tz).date().isoformat()
    )
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("cell", name="The Long Crossing", exact=True)).to_be_visible()
    assert_accessible(page, "the exports page")
    screenshot(page, "staff-exports")
    with page.expect_download() as download:
        page.get_by_role("link", name="Attendance (CSV)").click()
    with open(download.value.path(), encoding="utf-8") as csv_file:
        text = csv_file.read()
    assert "B3" in text and "refunded" in text

    page.goto("/staff/audit/")
    expect(page.get_by_role("cell", name="claire")).to_be_visible()
    expect(page.locator("body")).to_contain_text("refunded for B3")
    assert_accessible(page, "the audit log")
    screenshot(page, "staff-audit")
