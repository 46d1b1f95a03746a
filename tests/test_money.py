"""Minor units to amounts: ISO 4217 decides, for the page, the email and the payment alike."""

from decimal import Decimal

import pytest

from ticketing.money import format_money, minor_digits, to_decimal
from ticketing.storefront import formats


@pytest.mark.parametrize(
    ("amount", "currency", "value"),
    [
        (1250, "EUR", Decimal("12.50")),
        (1250, "JPY", Decimal("1250")),
        (1250, "KWD", Decimal("1.250")),
        (250050, "HUF", Decimal("2500.50")),
    ],
)
def test_minor_units_become_the_amount_iso_4217_says(amount, currency, value):
    assert to_decimal(amount, currency) == value


def test_three_decimal_currencies_keep_their_third_digit_in_emails_and_pages():
    assert minor_digits("kwd") == 3
    assert format_money(1250, "KWD", "fr") == "1,250\u00a0KWD"  # a French email
    assert formats.money(1250, "KWD", "en") == "KWD1.250"


def test_a_fraction_is_never_hidden_even_where_cldr_writes_whole_amounts():
    assert formats.money(250000, "HUF", "en") == "HUF2,500"
    assert formats.money(250050, "HUF", "en") == "HUF2,500.50"
    assert formats.money(250050, "HUF", "fr") == "2\u202f500,50\u00a0HUF"
