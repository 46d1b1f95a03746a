"""Promotions in the storefront, in Chromium: the campaign banner on the home and film pages, a
promo code applied at checkout and paid for at the discounted price, and a presale code that
opens a screening before general sale."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from playwright.sync_api import expect

from promotions.codes import code_create
from promotions.models import Campaign
from tests.promotions.support import campaign
from ticketing.orders.models import OrderStatus, Ticket
from ticketing.screenings.models import Screening
from ticketing.storefront import formats

from . import data
from .support import axe_check, screenshot


def rogue_nation_campaign(w, **kw) -> Campaign:
    made = campaign(
        w.screening,
        banner_title="Mission: Impossible - Rogue Nation",
        banner_text="Opening weekend: 20% off with the code MI5-FANS.",
        **kw,
    )
    code_create(campaign=made, code="MI5-FANS", kind="percent", value=20)
    return made


def test_a_buyer_sees_the_banner_applies_a_code_and_pays_the_discounted_price(page):
    w = data.world()
    rogue_nation_campaign(w)
    adult = w.price("adult")
    off = adult * 20 // 100

    page.goto(w.home_path)
    banner = page.get_by_role("region", name="Featured")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("Rogue Nation")
    expect(banner).to_contain_text("20% off")
    screenshot(page, "campaign-banner-desktop")
    assert axe_check(page) == []

    page.goto(w.map_path)
    data.choose_seats(page, "C4")
    hold_id = data.hold_seats(page)
    data.fill_details(page)
    page.get_by_role("textbox", name="Promo code (optional)").fill("mi5 fans")
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_role("status").filter(has_text="applied")).to_contain_text(
        formats.money(off, "EUR", "en")
    )
    screenshot(page, "checkout-promo-desktop")
    assert axe_check(page) == []

    data.continue_to_payment(page)
    data.pay_on_sandbox(page)
    data.expect_confirmed(page)

    order = data.order_of(hold_id)
    assert order.status == OrderStatus.PAID
    assert order.discount == off
    assert [t.discount for t in Ticket.objects.filter(order=order)] == [off]
    assert Campaign.objects.get().spent == off


def test_a_refused_code_is_said_plainly_and_nothing_is_lost(page):
    w = data.world()
    rogue_nation_campaign(w)
    page.goto(w.map_path)
    data.choose_seats(page, "C5")
    data.hold_seats(page)
    data.fill_details(page)
    page.get_by_role("textbox", name="Promo code (optional)").fill("NOT-A-CODE")
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_role("alert")).to_be_visible()
    expect(page.get_by_label("Full name")).to_have_value(data.BUYER_NAME)
    expect(page.get_by_role("timer")).to_be_visible()  # the seats are still held


def test_a_presale_code_opens_a_screening_before_general_sale(page):
    w = data.world()
    Screening.objects.filter(pk=w.screening.pk).update(
        sales_open_at=timezone.now() + timedelta(days=1)
    )
    made = rogue_nation_campaign(w, presale_opens_at=timezone.now() - timedelta(hours=1))
    code_create(campaign=made, code="EARLY-BIRD", kind="percent", value=10, opens_presale=True)

    page.goto(w.map_path)
    expect(page.get_by_text("not on sale yet")).to_be_visible()
    page.get_by_label("Presale code").fill("early bird")
    page.get_by_role("button", name="Unlock presale").click()
    expect(page.get_by_text("Presale code accepted")).to_be_visible()
    data.choose_seats(page, "C6")
    data.hold_seats(page)
    expect(page.get_by_role("timer")).to_be_visible()
