"""Dates, times and prices as the buyer's language writes them (CLDR data, through Babel).

Times are always shown in the cinema's zone: a showtime is where the film plays, not where the
buyer's laptop is.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel import dates as babel_dates

from ticketing.locales import locale
from ticketing.money import format_money

money = format_money  # prices are written by the one formatter, the emails' too


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
