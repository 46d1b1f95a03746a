"""The dashboard's screening rows, written in Python: a week of a chain's screenings is a few
hundred rows, and the template engine's include and URL reversing per row cost most of the
page's time (the storefront's seat rows, `storefront/seat_html.py`, made the same move).
Every value is escaped; the markup is the one the template had."""

from __future__ import annotations

from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from .dashboard_figures import Occupancy


def _prefix(name: str) -> tuple[str, str]:
    """A URL of one screening as the text before and after its id (reversed once per page)."""
    head, _, tail = reverse(name, args=[999999999]).partition("999999999")
    return head, tail


def occupancy(s: Occupancy) -> str:
    """A bar (a picture of the words beside it, hidden from screen readers) and the words."""
    held = f", {s.held} held" if s.held else ""
    return (
        f'<div class="occupancy{" full" if s.selling_out else ""}">'
        '<svg class="occupancy-bar" viewBox="0 0 100 10" preserveAspectRatio="none" '
        'aria-hidden="true" focusable="false"><rect class="free" width="100" height="10"/>'
        f'<rect class="sold" width="{s.bar_sold}" height="10"/>'
        f'<rect class="held" x="{s.bar_sold}" width="{s.bar_held}" height="10"/></svg>'
        f'<span class="occupancy-text">{s.sold} sold{held} of {s.capacity} '
        f'<span class="quiet">({s.sold_percent}%)</span></span></div>'
    )


def screening_rows(lines: list[Occupancy], *, selling_out: bool = False) -> SafeString:
    """The <tr>s of a day's screenings (time, film, screen, seats), or of the screenings selling
    out (when, film, cinema and screen, seats)."""
    admin_head, admin_tail = _prefix("admin:screenings_screening_change")
    map_head, map_tail = _prefix("storefront:screening")
    out = []
    for s in lines:
        film = escape(s.film)
        admin = f'<a href="{admin_head}{s.screening_id}{admin_tail}">{film}</a>'
        if selling_out:
            out.append(
                f'<tr><td>{escape(s.when)}</td><th scope="row">{admin}</th>'
                f"<td>{escape(s.cinema)}, {escape(s.auditorium)}</td>"
                f"<td>{occupancy(s)}</td></tr>"
            )
            continue
        cancelled = " <strong>(cancelled)</strong>" if s.cancelled else ""
        row_class = ' class="cancelled"' if s.cancelled else ""
        seat_map = (
            f'<a class="quiet small" href="{map_head}{s.screening_id}{map_tail}">seat map'
            f'<span class="visually-hidden"> of {film} at {s.time}</span></a>'
        )
        out.append(
            f"<tr{row_class}><td>{s.time}</td>"
            f'<th scope="row">{admin}{cancelled} {seat_map}</th>'
            f"<td>{escape(s.auditorium)}</td><td>{occupancy(s)}</td></tr>"
        )
    return mark_safe("\n".join(out))  # noqa: S308 - every value above is escaped
