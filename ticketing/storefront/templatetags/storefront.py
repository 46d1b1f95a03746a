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
def seat_state(seat, selected, taken, mine) -> dict:
    """How one seat is drawn: its status, whether it can be ticked, and whether it is ticked.
    Seats this browser holds already are ticked and stay tickable; seats a refused hold found
    taken are drawn taken even if the (second-old) map still says free."""
    if seat.id in taken:
        return {"status": "held", "enabled": False, "checked": False, "mine": False}
    if seat.id in mine and seat.status == "held":
        return {"status": "selected", "enabled": True, "checked": True, "mine": True}
    if seat.status == "available":
        checked = seat.id in selected
        return {"status": "available", "enabled": True, "checked": checked, "mine": False}
    return {"status": seat.status, "enabled": False, "checked": False, "mine": False}
