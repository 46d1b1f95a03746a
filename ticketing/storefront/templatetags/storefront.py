"""Template filters for the storefront: money and times as the buyer's language writes them."""

from __future__ import annotations

from django import template

from .. import formats

register = template.Library()


@register.filter
def money(amount, currency: str) -> str:
    if amount in (None, ""):
        return ""
    return formats.money(amount, currency)


@register.filter
def showtime(moment, zone) -> str:
    """The time of day in the cinema's zone: {{ screening.starts_at|showtime:cinema.time_zone }}."""
    return formats.time_short(moment, zone) if moment else ""


@register.filter
def showday(day) -> str:
    return formats.day_short(day) if day else ""


@register.filter
def longday(day) -> str:
    return formats.day_long(day) if day else ""


@register.filter
def longdatetime(moment, zone) -> str:
    return formats.datetime_long(moment, zone) if moment else ""


@register.filter
def weekday(day) -> str:
    return formats.weekday(day) if day else ""


@register.filter
def daymonth(day) -> str:
    return formats.day_month(day) if day else ""


@register.filter
def runtime(minutes) -> str:
    return formats.runtime(minutes) if minutes else ""


@register.filter
def language(code: str) -> str:
    """An audio or subtitle language code as a name in the buyer's language: "fr" -> "French"."""
    return formats.language_name_in(code) if code else ""


@register.filter
def poster_hue(film) -> int:
    """A stable colour for a film without a poster image, from its slug."""
    import zlib

    return zlib.crc32(film.slug.encode()) % 360


@register.filter
def seat_type_label(value: str) -> str:
    from ticketing.screenings.models import SeatType

    try:
        return str(SeatType(value).label)
    except ValueError:
        return value


@register.simple_tag
def seat_rows(seat_map, *, selected, taken, mine):
    from ..seat_html import seat_rows as build

    return build(seat_map, selected=selected, taken=taken, mine=mine)


@register.filter
def seconds_left(moment) -> int:
    """Seconds from now until `moment`, rounded up (0 if past): the countdown counts from the
    server's clock, not from a browser clock that may be wrong, and never reaches zero before
    the server would agree the time is up."""
    import math

    from django.utils import timezone

    return max(0, math.ceil((moment - timezone.now()).total_seconds())) if moment else 0
