"""The buyer's language: chosen once, kept in a cookie; money, days and times written as that
language writes them, and times always on the cinema's clock."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from babel.numbers import format_currency

from tests.storefront.support import held_by, html, html_lang
from ticketing.money import format_money
from ticketing.storefront import formats

pytestmark = pytest.mark.django_db

NBSP, NNBSP = "\xa0", "\u202f"
APOS = "\u2019"  # French typography's apostrophe


def test_choosing_french_sets_the_cookie_and_the_next_page_is_in_french(client):
    assert html_lang(client.get("/")) == "en"

    response = client.post("/i18n/setlang/", {"language": "fr", "next": "/"})

    assert response.status_code == 302
    assert response["Location"] == "/"
    assert response.cookies["django_language"].value == "fr"
    page = client.get("/")
    assert html_lang(page) == "fr"
    assert 'value="fr" lang="fr" aria-pressed="true"' in html(page)
    assert f"<h1>À l{APOS}affiche</h1>" in html(page)
    assert "What's on" not in html(page)


def test_the_language_switch_never_sends_the_buyer_to_another_site(client):
    response = client.post("/i18n/setlang/", {"language": "fr", "next": "https://evil.example/"})

    assert response["Location"] == "/"


def test_a_page_in_chinese_says_so(client):
    client.cookies["django_language"] = "zh-hans"

    page = client.get("/")

    assert html_lang(page) == "zh-hans"
    assert "<h1>正在热映</h1>" in html(page)


def test_a_browser_asking_for_chinese_from_china_gets_simplified_chinese(client):
    assert html_lang(client.get("/", HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9")) == "zh-hans"


def test_a_refused_seat_is_explained_in_the_buyers_language(client, screening):
    from tests import factories
    from tests.storefront.support import hold_seats

    factories.held(screening, "D7", buyer_key="another-buyer")
    client.cookies["django_language"] = "fr"

    response = hold_seats(client, screening, "D7")

    assert response.status_code == 409
    assert (
        f"Désolé, la place D7 vient d{APOS}être prise par quelqu{APOS}un d{APOS}autre. "
        "Veuillez en choisir une autre." in html(response)
    )


def test_a_browser_asking_for_french_gets_french(client):
    assert html_lang(client.get("/", HTTP_ACCEPT_LANGUAGE="fr-FR,fr;q=0.9")) == "fr"


def test_a_french_buyer_reads_prices_and_form_errors_in_french(client, screening):
    client.cookies["django_language"] = "fr"
    hold = held_by(client, screening, "A1")

    page = html(client.post(f"/checkout/{hold.pk}/", {"name": "Ada", "email": "nope"}))

    assert "Saisissez une adresse e-mail valide." in page  # Django's own French
    assert f"13,00{NBSP}€" in page


def test_the_seat_map_page_prices_are_in_the_cinemas_currency_and_the_buyers_language(
    client, cinema
):
    from tests import factories

    cny = factories.cinema(time_zone="Asia/Shanghai", currency="CNY")
    screening = factories.screening(factories.auditorium(cny))
    client.cookies["django_language"] = "zh-hans"

    page = html(client.get(f"/screenings/{screening.pk}/"))

    assert "¥12.00" in page and "CN¥12.00" not in page  # zh-Hans writes its own yuan as ¥
    client.cookies["django_language"] = "en"
    assert "CN¥12.00" in html(client.get(f"/screenings/{screening.pk}/"))


@pytest.mark.parametrize(
    ("amount", "currency", "language", "expected"),
    [
        (1290, "EUR", "en", "€12.90"),
        (1290, "EUR", "fr", f"12,90{NBSP}€"),
        (1290, "EUR", "zh-hans", "€12.90"),
        (123456, "EUR", "fr", f"1{NNBSP}234,56{NBSP}€"),
        (123456, "GBP", "en", "£1,234.56"),
        (1290, "CNY", "zh-hans", "¥12.90"),
        (1290, "CNY", "en", "CN¥12.90"),
        (0, "EUR", "en", "€0.00"),
        (5, "EUR", "en", "€0.05"),
        # Zero-decimal currencies: the amount is in whole units already.
        (1500, "JPY", "en", "JP¥1,500"),
        (1500, "JPY", "fr", f"1{NNBSP}500{NBSP}JPY"),
        (1500, "JPY", "zh-hans", "JP¥1,500"),
        (1500, "KRW", "en", "₩1,500"),
        # Three decimals: 1.250 dinars.
        (1250, "KWD", "en", "KWD1.250"),
    ],
)
def test_money_is_written_in_the_currencys_precision_as_the_language_writes_it(
    amount, currency, language, expected
):
    assert formats.money(amount, currency, language) == expected


def test_money_follows_the_active_language_when_none_is_given():
    from django.utils import translation

    with translation.override("fr"):
        assert formats.money(1290, "EUR") == f"12,90{NBSP}€"
    with translation.override("en"):
        assert formats.money(1290, "EUR") == "€12.90"


def test_an_unknown_language_is_written_the_english_way():
    assert formats.money(1290, "EUR", "xx-yy") == "€12.90"
    assert formats.day_short(date(2026, 11, 27), "xx-yy") == "Fri 27 Nov"


@pytest.mark.parametrize(
    ("language", "short", "month_day", "long"),
    [
        ("en", "Fri 27 Nov", "27 Nov", "Friday, 27 November 2026"),
        ("fr", "ven. 27 nov.", "27 nov.", "vendredi 27 novembre 2026"),
        ("zh-hans", "11月27日周五", "11月27日", "2026年11月27日星期五"),
    ],
)
def test_days_are_written_as_the_language_writes_them(language, short, month_day, long):
    day = date(2026, 11, 27)

    assert formats.day_short(day, language) == short
    assert formats.day_month(day, language) == month_day
    assert formats.day_long(day, language) == long


@pytest.mark.parametrize("language", ["en", "fr", "zh-hans"])
def test_a_showtime_is_on_the_cinemas_clock_across_a_dst_change(language):
    # Paris goes from UTC+1 to UTC+2 on Sunday 29 March 2026: the same 18:30 UTC is 19:30 on
    # the Saturday and 20:30 on the Sunday, whatever the buyer's language.
    saturday = datetime(2026, 3, 28, 18, 30, tzinfo=UTC)
    sunday = datetime(2026, 3, 29, 18, 30, tzinfo=UTC)

    assert formats.time_short(saturday, "Europe/Paris", language) == "19:30"
    assert formats.time_short(sunday, "Europe/Paris", language) == "20:30"


def test_a_showtime_is_on_the_cinemas_clock_not_the_servers():
    moment = datetime(2026, 11, 27, 15, 30, tzinfo=UTC)

    assert formats.time_short(moment, "Asia/Shanghai", "en") == "23:30"
    assert formats.time_short(moment, "Europe/London", "en") == "15:30"
    assert (
        formats.datetime_long(moment, "Asia/Shanghai", "en") == "Friday, 27 November 2026 · 23:30"
    )


def test_runtimes_are_written_in_the_languages_units():
    assert formats.runtime(131, "en") == "2 hrs 11 mins"
    assert formats.runtime(45, "en") == "45 mins"
    assert formats.runtime(120, "fr") == "2\u202fh"


def test_a_forint_price_reads_the_same_on_the_page_as_in_the_confirmation_email():
    amount = 250000  # 2,500.00 HUF in minor units (fillér), as ticket prices are stored

    assert format_money(amount, "HUF", "en") == "HUF2,500"  # the email
    assert formats.money(amount, "HUF", "en") == format_currency(2500, "HUF", locale="en_GB")
