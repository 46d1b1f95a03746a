"""Money is integer minor units of an ISO 4217 currency. How many digits a minor unit has is
ISO 4217's answer, not CLDR's display habit (CLDR shows HUF or IDR without decimals, yet
their minor unit is still a hundredth): one table, used by every place that turns minor units
into an amount.

How an amount is written for a reader is CLDR's answer, for the reader's language:
`format_money` is the one formatter of the pages, the emails and the admin."""

from __future__ import annotations

from decimal import Decimal

from babel import numbers as babel_numbers

from ticketing.locales import locale

ZERO_DECIMAL = frozenset(
    {"BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "VND", "VUV",
     "XAF", "XOF", "XPF"}
)  # fmt: skip
THREE_DECIMAL = frozenset({"BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"})


def minor_digits(currency: str) -> int:
    code = currency.upper()
    if code in ZERO_DECIMAL:
        return 0
    if code in THREE_DECIMAL:
        return 3
    return 2


def to_decimal(amount: int, currency: str) -> Decimal:
    """1250 EUR -> Decimal("12.50"); 1250 JPY -> Decimal("1250"); 1250 KWD -> Decimal("1.250")."""
    return Decimal(int(amount)).scaleb(-minor_digits(currency))


def format_money(amount: int, currency: str, language: str | None = None) -> str:
    """Integer minor units as the language (by default the active one) writes the amount:
    1250 EUR -> "€12.50" / "12,50 €". The amount is ISO 4217's; how it is written (decimals
    shown or not, symbol, grouping) is CLDR's."""
    value = to_decimal(amount, currency)
    loc = locale(language)
    shown = babel_numbers.get_currency_precision(currency)
    if shown == minor_digits(currency):
        return babel_numbers.format_currency(value, currency, locale=loc)
    # CLDR writes this currency with other decimals than its minor unit (HUF: none): keep its
    # habit for whole amounts, never hide a fraction that is really there.
    digits = shown if value == value.to_integral() else minor_digits(currency)
    pattern = babel_numbers.parse_pattern(loc.currency_formats["standard"].pattern)
    pattern.frac_prec = (digits, digits)
    return pattern.apply(value, loc, currency=currency, currency_digits=False)


def amount_with_code(amount: int, currency: str) -> str:
    """The amount in ISO 4217 notation, the same in every language: 1250 EUR -> "12.50 EUR".
    For the sandbox's payment page, which stands for a provider's English-only page; a reader's
    text uses `format_money`."""
    return f"{to_decimal(amount, currency)} {currency}"
