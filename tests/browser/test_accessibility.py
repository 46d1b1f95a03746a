"""No serious or critical axe-core violations on the storefront's pages, in the states a buyer
sees them: the catalogue, the seat map as a map and as a list, checkout, a declined payment,
the confirmation, signing in."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from . import data
from .support import assert_accessible


def test_the_catalogue_pages_and_sign_in(page):
    w = data.world()
    page.goto(w.home_path)
    expect(page.get_by_role("link", name=w.film.title, exact=True)).to_be_visible()
    assert_accessible(page, "home page")

    page.get_by_role("link", name=w.film.title, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(w.film.title)
    assert_accessible(page, "film page")

    page.get_by_role("link", name=w.cinema.name).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(w.cinema.name)
    assert_accessible(page, "cinema page")

    page.get_by_role("link", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    assert_accessible(page, "sign-in page")
    page.get_by_label("Username").fill("nobody")
    page.get_by_label("Password").fill("wrong")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_be_visible()
    assert_accessible(page, "sign-in page with an error")


def test_the_seat_map_as_a_map_and_as_a_list(page):
    w = data.world()
    data.take(w, "C5", "C6", "D4")
    page.goto(w.map_path)
    data.choose_seats(page, "B4", "B5")
    assert_accessible(page, "seat map, map view, two seats chosen")

    page.get_by_role("button", name="List").click()
    expect(page.get_by_role("button", name="List")).to_have_attribute("aria-pressed", "true")
    expect(page.get_by_text("Row B, seat 4", exact=True)).to_be_visible()
    assert_accessible(page, "seat map, list view")

    # The refusal when a chosen seat was taken meanwhile (polling blocked: the map is stale).
    page.route("**/seats.json", lambda route: route.abort())
    page.reload()
    data.choose_seats(page, "B6")
    data.take(w, "B6")
    page.get_by_role("button", name=re.compile(r"^Hold 1 seat")).click()
    expect(page.get_by_role("alert")).to_contain_text("has just been taken")
    assert_accessible(page, "seat map, a seat was taken")


def test_checkout_a_declined_payment_the_confirmation_and_an_expired_hold(page):
    w = data.world()
    page.goto(w.map_path)
    data.choose_seats(page, "B4", "B5")
    hold_id = data.hold_seats(page)
    expect(page.get_by_role("timer")).to_be_visible()
    assert_accessible(page, "checkout")

    page.get_by_role("button", name="Continue to payment").click()  # nothing filled in
    expect(page.get_by_role("alert")).to_contain_text("Please correct the fields")
    assert_accessible(page, "checkout with errors")

    data.fill_details(page)
    data.continue_to_payment(page)
    data.pay_on_sandbox(page, data.SANDBOX_DECLINED)
    expect(page.get_by_role("alert")).to_contain_text("Your card was declined.")
    assert_accessible(page, "declined payment")

    page.get_by_role("button", name=re.compile(r"^Pay ")).click()
    data.pay_on_sandbox(page)
    data.expect_confirmed(page)
    assert_accessible(page, "confirmation")

    # A hold that ran out: the page checkout shows instead.
    page.goto(w.map_path)
    data.choose_seats(page, "C8")
    hold_id = data.hold_seats(page)
    data.expire_soon(hold_id, -1)
    response = page.reload()
    assert response is not None and response.status == 410
    assert_accessible(page, "hold expired")
