"""The staff campaign report in Chromium: its charts drawn by the shared chart script
(static/marquee/label-charts.js) beside their tables, for a member signed in with both factors."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests import factories
from tests.promotions.report_support import campaign_world, sold
from tests.staff.support import staff_user
from ticketing.staff import roles

from .support import assert_accessible
from .test_staff_dashboard import sign_in


def test_the_campaign_report_draws_each_chart_beside_its_table(page: Page, site):
    screening = factories.screening(factories.auditorium(factories.cinema(), rows=4, per_row=8))
    world = campaign_world(screening)
    sold(world["paris"], "A1", "A2")
    sold(world["lyon"], "A1")
    manager = staff_user(roles.PARTNER_MANAGER, all_cinemas=True)
    sign_in(page, site, manager)

    page.goto(f"/staff/campaigns/{world['campaign'].pk}/report/")

    charts = page.locator("[data-drawn='1']")
    expect(charts.first).to_be_visible()
    assert charts.count() >= 3  # by day, film, cinema (and more)
    assert page.locator("[data-drawn='1'] canvas").count() == charts.count()
    assert page.locator("table").count() >= charts.count()
    assert_accessible(page, "campaign report")
