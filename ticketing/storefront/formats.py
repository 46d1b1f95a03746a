"""Dates, times and prices as the buyer's language writes them (CLDR data, through Babel).

Times are always shown in the cinema's zone: a showtime is where the film plays, not where the
buyer's laptop is.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel import dates as babel_dates
from babel import numbers as babel_numbers
from django.utils import translation

from ticketing.money import minor_digits, to_decimal

# Django language code -> CLDR locale. English is written the European way (24-hour clock,
# day before month): Marquee's cinemas sell in euros and pounds first.
LOCALES = {"en": "en_GB", "fr": "fr_FR", "zh-hans": "zh_Hans_CN"}


def locale(language: str | None = None) -> Locale:
    code = language or translation.get_language() or "en"
    try:
        return Locale.parse(LOCALES.get(code.lower(), code.replace("-", "_")))
    except (UnknownLocaleError, ValueError):
        return Locale.parse("en_GB")


def money(amount: int, currency: str, language: str | None = None) -> str:
    """Integer minor units as the language writes the amount: 1250 EUR -> "€12.50" / "12,50 €".
    The amount is ISO 4217's (`ticketing.money`); how it is written (decimals shown or not,
    symbol, grouping) is CLDR's."""
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


def local(moment: datetime, zone: str | ZoneInfo) -> datetime:
    return moment.astimezone(zone if isinstance(zone, ZoneInfo) else ZoneInfo(zone))


def time_short(moment: datetime, zone, language: str | None = None) -> str:
    """19:30 (or the locale's own way of writing it), in the cinema's zone."""
    return babel_dates.format_time(local(moment, zone), "short", locale=locale(language))


def day_short(day: date, language: str | None = None) -> str:
    """Fri 27 Nov / ven. 27 nov. / 11月27日周五."""
    return babel_dates.format_skeleton("MMMEd", day, locale=locale(language))


def weekday(day: date, language: str | None = None) -> str:
    return babel_dates.format_date(day, "EEE", locale=locale(language))


def day_month(day: date, language: str | None = None) -> str:
    """27 Nov / 27 nov. / 11月27日."""
    return babel_dates.format_skeleton("MMMd", day, locale=locale(language))


def day_long(day: date, language: str | None = None) -> str:
    """Friday 27 November 2026, as the language writes it."""
    return babel_dates.format_date(day, "full", locale=locale(language))


def datetime_long(moment: datetime, zone, language: str | None = None) -> str:
    """Friday 27 November 2026, 19:30, in the cinema's zone."""
    here = local(moment, zone)
    return f"{day_long(here.date(), language)} · {time_short(here, zone, language)}"


def runtime(minutes: int, language: str | None = None) -> str:
    """2 h 11 min, in the language's units."""
    from babel.units import format_unit

    loc = locale(language)
    hours, mins = divmod(int(minutes), 60)
    parts = []
    if hours:
        parts.append(format_unit(hours, "duration-hour", length="short", locale=loc))
    if mins or not hours:
        parts.append(format_unit(mins, "duration-minute", length="short", locale=loc))
    return " ".join(parts)


def language_name_in(code: str, language: str | None = None) -> str:
    """The name of language `code` in the buyer's language: "fr" -> "French" / "français"."""
    try:
        name = Locale.parse(code.replace("-", "_")).get_display_name(locale(language))
    except (UnknownLocaleError, ValueError):
        return code
    return name or code
