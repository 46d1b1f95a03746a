"""Staff: the audit log (`/staff/audit/`): who changed what, when, with each change's before and
after. Searchable by text, action, who, dates and cinema; newest first, 50 a page; only the
member's cinemas (chain-wide entries for head office and superusers only).

Times are shown in each entry's cinema's zone (chain-wide entries in UTC). The date filter reads
days in the chosen cinema's zone, or the member's only cinema's, or else UTC; the page says
which.
"""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from django.core.paginator import Paginator
from django.http import HttpResponseBadRequest
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_GET

from . import audit_selectors as selectors
from .access import ALL, cinema_ids_for, cinemas_for, staff_page

PER_PAGE = 50
UTC_ZONE = ZoneInfo("UTC")
NOTHING = "\u2013"  # an en dash: no value


def _day(raw: str) -> date | None:
    """A day typed in the search, or ValueError (far days would overflow the day's end)."""
    if not raw:
        return None
    day = date.fromisoformat(raw)
    if not 2000 <= day.year <= 2200:
        raise ValueError(raw)
    return day


def _shown(value) -> str:
    """A before or after value as staff read it."""
    if value is None or value == "":
        return NOTHING
    if isinstance(value, list):
        return ", ".join(_shown(v) for v in value) or NOTHING
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


@require_GET
@staff_page("view_audit")
def audit_log(request):
    cinemas = list(cinemas_for(request.user))
    sees_chain = cinema_ids_for(request.user) is ALL
    get = request.GET
    cinema = get.get("cinema", "")
    if cinema and cinema != selectors.CHAIN and not (cinema.isascii() and cinema.isdigit()):
        return HttpResponseBadRequest("cinema is a cinema's number.")
    picked = next((c for c in cinemas if str(c.pk) == cinema), None)
    zone_of_days = picked.tz if picked else (cinemas[0].tz if len(cinemas) == 1 else UTC_ZONE)
    try:
        starts, ends = _day(get.get("from", "")), _day(get.get("to", ""))
    except ValueError:
        return HttpResponseBadRequest("Dates are written YYYY-MM-DD, for example 2026-12-24.")
    filters = selectors.AuditFilters(
        # NUL cannot be in PostgreSQL text: a search for it finds nothing, never a 500.
        text=get.get("q", "").replace("\x00", "").strip()[:100],
        action=get.get("action", "").replace("\x00", "").strip()[:60],
        who=get.get("who", "").replace("\x00", "").strip()[:80],
        starts=starts,
        ends=ends,
        cinema=cinema,
        tz=zone_of_days,
    )
    entries = selectors.audit_search(user=request.user, filters=filters)
    page = Paginator(entries, PER_PAGE).get_page(get.get("page"))
    names = selectors.names_of_actors(page.object_list)
    rows = []
    for entry in page.object_list:
        tz = entry.cinema.tz if entry.cinema_id else UTC_ZONE
        rows.append(
            {
                "entry": entry,
                "at": timezone.localtime(entry.at, tz),
                "who": entry.actor_name or names.get(entry.actor, "") or entry.actor,
                "changes": [
                    {"field": field, "before": _shown(pair[0]), "after": _shown(pair[1])}
                    if isinstance(pair, list) and len(pair) == 2
                    else {"field": field, "before": NOTHING, "after": _shown(pair)}
                    for field, pair in (entry.changes or {}).items()
                ],
            }
        )
    kept = {k: v for k, v in get.items() if k != "page" and v}
    return render(
        request,
        "staff/audit.html",
        {
            "title": "Audit log",
            "rows": rows,
            "page": page,
            "query": urlencode(kept),
            "filters": filters,
            "from": get.get("from", ""),
            "to": get.get("to", ""),
            "cinemas": cinemas,
            "sees_chain": sees_chain,
            "chain": selectors.CHAIN,
            "actions": selectors.actions_seen(request.user),
            "zone_of_days": str(zone_of_days),
        },
    )


urlpatterns = [path("", audit_log, name="audit")]
