"""The staff dashboard in Chromium: a manager signed in (both factors) sees the week's screenings
with their occupancy, the sales charts drawn by uPlot beside their tables, a screening selling
out and a failed refund; on a desktop and on a phone, with screenshots for the staff guide."""

from __future__ import annotations

import itertools
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.test import Client
from django.utils import timezone
from playwright.sync_api import Page, expect

from payments.refunds import refund_create, refund_mark_failed
from tests import factories
from tests.payments import flow
from tests.staff.support import signed_in, staff_user
from ticketing.orders.models import Order
from ticketing.orders.services import order_mark_paid
from ticketing.staff import roles

from .support import assert_accessible, screenshot

_buyers = itertools.count(1)


def sign_in(page: Page, site: str, user) -> None:
    """The session of a member who passed both factors, as the browser's cookie."""
    client = signed_in(Client(), user)
    value = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": value, "url": site}])


def sold(screening, *labels, days_ago: int = 0):
    order = factories.pending_order(screening, *labels, buyer_key=f"dash-{next(_buyers)}")
    order = order_mark_paid(order_id=order.pk, actor="test")
    if days_ago:
        moment = timezone.now() - timedelta(days=days_ago, hours=next(_buyers) % 5)
        Order.objects.filter(pk=order.pk).update(paid_at=moment, created_at=moment)
    return order


def a_month_of_sales():
    """Two cinemas of one manager: a month of sales over three films, today's screenings, one
    nearly sold out, buyers holding seats now, a refund that failed."""
    paris = factories.cinema(name="Le Grand Rex", time_zone="Europe/Paris", currency="EUR")
    lyon = factories.cinema(name="Lyon Part-Dieu", time_zone="Europe/Paris", currency="EUR")
    big = factories.auditorium(paris, rows=8, per_row=14, name="Grande salle")
    small = factories.auditorium(paris, rows=2, per_row=10, name="Salle 2")
    room = factories.auditorium(lyon, rows=6, per_row=12, name="Salle 1")
    films = [
        factories.film(title="Mission: Impossible - Rogue Nation"),
        factories.film(title="The Grand Budapest Hotel"),
        factories.film(title="Paddington 2"),
    ]
    shows = [
        factories.screening(big, timedelta(hours=3), film=films[0]),
        factories.screening(small, timedelta(hours=4), film=films[1]),
        factories.screening(room, timedelta(hours=5), film=films[2]),
        factories.screening(big, timedelta(days=1, hours=3), film=films[1]),
        factories.screening(room, timedelta(days=2, hours=2), film=films[0]),
    ]
    free = {
        show.pk: iter(sorted((s.row_label, s.number) for s in show.auditorium.seats.all()))
        for show in shows
    }
    for day in range(29, -1, -1):
        show = shows[(day % 4) and (day % 4) + 1]  # never the small room: it fills up below
        seats = [next(free[show.pk]) for _ in range(1 + (day * 7) % 4)]
        sold(show, *(f"{row}{n}" for row, n in seats), days_ago=day)
    # The small room nearly full: 18 of 20 sold, one held.
    for labels in (["A1", "A2", "A3", "A4", "A5", "A6"], ["A7", "A8", "A9", "A10", "B1", "B2"]):
        sold(shows[1], *labels)
    sold(shows[1], "B3", "B4", "B5", "B6", "B7", "B8")
    factories.held(shows[1], "B9")
    factories.held(shows[0], "H13", "H14", buyer_key="someone")
    order = flow.paid(shows[2], "F1").order
    refund = refund_create(order_id=order.pk, actor="test", reason="buyer asked")
    with transaction.atomic():  # called inside a webhook's transaction
        refund_mark_failed(
            provider_name="sandbox",
            provider_ref=refund.provider_ref,
            reason="card closed",
            actor="test",
        )
    return paris, lyon


def test_a_manager_sees_the_dashboard_with_its_charts_and_tables(page: Page, site: str):
    paris, lyon = a_month_of_sales()
    sign_in(page, site, staff_user(roles.MANAGER, paris, lyon))

    page.goto("/staff/dashboard/")

    expect(page.get_by_role("heading", name="Dashboard", level=1)).to_be_visible()
    charts = page.locator(".sales-chart .chart")
    expect(charts).to_have_count(4)  # tickets by day, revenue by day (EUR), by film, by cinema
    for i in range(4):
        expect(charts.nth(i).locator("canvas")).to_have_count(1)
        expect(charts.nth(i)).to_have_attribute("aria-hidden", "true")
    expect(page.locator("table caption", has_text="Sales by film")).to_be_visible()
    films = page.locator("#film-table tbody tr")
    expect(films).to_have_count(3)
    selling = page.locator("#selling-out-table")
    expect(selling).to_contain_text("The Grand Budapest Hotel")
    expect(selling).to_contain_text("18 sold, 1 held of 20")
    expect(page.locator("#refunds-table")).to_contain_text("card closed")
    today = page.locator("details.day[open]").first
    expect(today.locator(".occupancy-text").first).to_be_visible()
    expect(page.get_by_label("Cinema", exact=True)).to_be_visible()
    assert_accessible(page, "staff dashboard")
    screenshot(page, "staff-dashboard", full_page=True)

    page.get_by_label("Cinema", exact=True).select_option(label="Lyon Part-Dieu")
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(f"{site}/staff/dashboard/?cinema={lyon.pk}")
    expect(page.locator("#cinema-table tbody tr")).to_have_count(1)
    expect(page.locator("#selling-out-table")).to_have_count(0)


def test_the_dashboard_on_a_phone(phone_page: Page, site: str):
    paris, lyon = a_month_of_sales()
    sign_in(phone_page, site, staff_user(roles.MANAGER, paris, lyon))

    phone_page.goto("/staff/dashboard/")

    expect(phone_page.locator(".sales-chart .chart canvas")).to_have_count(4)
    width = phone_page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 390, f"the page is {width} px wide on a 390 px phone"
    assert_accessible(phone_page, "staff dashboard on a phone")
    phone_page.locator("#week-title").scroll_into_view_if_needed()
    phone_page.evaluate("() => window.scrollBy(0, -16)")
    screenshot(phone_page, "staff-dashboard-phone")


def test_box_office_staff_are_refused(page: Page, site: str):
    cinema = factories.cinema()
    sign_in(page, site, staff_user(roles.BOX_OFFICE, cinema))
    response = page.goto("/staff/dashboard/")
    assert response is not None and response.status == 403
