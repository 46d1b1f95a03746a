"""Switching the storefront's language with the header's buttons: the page, its prices and dates
follow (Babel's CLDR formats on the server, Intl in the page's script), and the choice sticks.

Prices and dates do not depend on the translation catalogues. The texts do: each is checked
against what Django's own gettext gives for that language, and must differ from the English
once the language's catalogue (locale/<lang>/LC_MESSAGES/django.mo) exists.
"""

from __future__ import annotations

from django.utils import translation
from playwright.sync_api import Page, expect

from ticketing.storefront import formats

from . import data
from .support import ROOT

CATALOGUE_DIRS = {"fr": "fr", "zh-hans": "zh_Hans"}


def has_catalogue(language: str) -> bool:
    return (ROOT / "locale" / CATALOGUE_DIRS[language] / "LC_MESSAGES" / "django.mo").is_file()


def tr(text: str, language: str) -> str:
    with translation.override(language):
        return translation.gettext(text)


def plain(text: str) -> str:
    """Babel and Intl write no-break and narrow no-break spaces inside prices."""
    return " ".join(text.replace("\u00a0", " ").replace("\u202f", " ").split())


def expect_heading_in(page: Page, english: str, language: str) -> None:
    expected = tr(english, language)
    if has_catalogue(language):
        assert expected != english, f"{english!r} is not translated into {language}"
    expect(page.get_by_role("heading", name=expected, exact=True)).to_be_visible()


def expect_price(page: Page, cents: int, language: str) -> None:
    prices = page.locator(".price-list")
    expect(prices).to_be_visible()
    assert plain(formats.money(cents, "EUR", language)) in plain(prices.inner_text())


def test_french_then_chinese_from_the_header_and_the_choice_sticks(page):
    w = data.world()
    adult = w.price("adult")
    total = adult + w.cinema.booking_fee
    page.goto(w.map_path)
    html = page.locator("html")
    expect(html).to_have_attribute("lang", "en")
    expect(page.get_by_role("button", name="English")).to_have_attribute("aria-pressed", "true")

    # French.
    page.get_by_role("button", name="Français").click()
    expect(html).to_have_attribute("lang", "fr")
    assert page.url.endswith(w.map_path)
    expect(page.get_by_role("button", name="Français")).to_have_attribute("aria-pressed", "true")
    assert plain(formats.money(adult, "EUR", "fr")) == "12,90 €"
    expect_price(page, adult, "fr")
    when = formats.datetime_long(w.screening.starts_at, w.cinema.tz, "fr")
    expect(page.locator(".screening-head time")).to_have_text(when)
    expect_heading_in(page, "Prices", "fr")
    expect_heading_in(page, "Or choose your seats", "fr")
    # The page's script writes the total as the server would.
    data.seat_box(page, w.room, "C4").check()
    expect(page.locator("[data-totals] [data-total]")).to_be_visible()
    assert plain(page.locator("[data-totals] [data-total]").inner_text()) == plain(
        formats.money(total, "EUR", "fr")
    )

    # Simplified Chinese.
    page.get_by_role("button", name="简体中文").click()
    expect(html).to_have_attribute("lang", "zh-hans")
    expect_price(page, adult, "zh-hans")
    when = formats.datetime_long(w.screening.starts_at, w.cinema.tz, "zh-hans")
    expect(page.locator(".screening-head time")).to_have_text(when)
    expect_heading_in(page, "Prices", "zh-hans")
    data.seat_box(page, w.room, "C4").check()
    assert plain(page.locator("[data-totals] [data-total]").inner_text()) == plain(
        formats.money(total, "EUR", "zh-hans")
    )

    # The next page is in Chinese too, without asking again.
    page.get_by_role("link", name=w.film.title).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(w.film.title)
    expect(html).to_have_attribute("lang", "zh-hans")
    expect(page.get_by_text(formats.day_long(w.day, "zh-hans"))).to_be_visible()
    expect_heading_in(page, "Showtimes", "zh-hans")
    page.goto(w.home_path)
    expect(html).to_have_attribute("lang", "zh-hans")
    expect_heading_in(page, "What's on", "zh-hans")

    # And back to English.
    page.get_by_role("button", name="English").click()
    expect(html).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", name="What's on", exact=True)).to_be_visible()
