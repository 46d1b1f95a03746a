"""Staff: exports (`/staff/exports/`): orders and attendance as CSV, per screening or per day.

The page lists a day's screenings at the member's cinemas, each with its two CSV links, and the
day's own two links. The CSVs stream (`StreamingHttpResponse`): a row is written as soon as it
is read, in chunks, so a busy day costs no more memory than a quiet one. Cells that a
spreadsheet would run as a formula are escaped (`ticketing.csv_cells`). Only the member's
cinemas: another cinema's screening answers 404, a day holds only their own cinemas.
"""

from __future__ import annotations

from datetime import date

from django.http import Http404, HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_GET

from ticketing.csv_cells import csv_lines
from ticketing.screenings.models import Screening

from . import export_selectors as selectors
from .access import cinemas_for, narrow, staff_page

KINDS = ("orders", "attendance")


def _day(raw: str | None, default: date) -> date | None:
    if not raw:
        return default
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        return None
    # A day a cinema sells for: far dates would overflow the day's end (9999-12-31 + 1).
    return day if 2000 <= day.year <= 2200 else None


def _csv(rows, columns: list[str], filename: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(
        (line.encode("utf-8") for line in csv_lines(rows, columns)),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"  # names and emails of buyers
    return response


def _picked_cinemas(request):
    """The member's cinemas, or the one `?cinema=` names among them (another's is a 404)."""
    cinemas = list(cinemas_for(request.user))
    raw = request.GET.get("cinema", "")
    if not raw:
        return cinemas, None
    picked = [c for c in cinemas if str(c.pk) == raw]
    if not picked:
        raise Http404
    return picked, picked[0]


@require_GET
@staff_page("export_data")
def exports_page(request):
    cinemas = list(cinemas_for(request.user))
    shown, picked = _picked_cinemas(request)
    today = timezone.localdate(timezone.now(), shown[0].tz) if shown else timezone.localdate()
    day = _day(request.GET.get("day"), today)
    if day is None:
        return HttpResponseBadRequest("The day is written YYYY-MM-DD, for example 2026-12-24.")
    screenings = [
        {"screening": s, "starts": timezone.localtime(s.starts_at, s.auditorium.cinema.tz)}
        for s in selectors.screenings_of_day(day=day, cinemas=shown)
    ]
    suffix = f"?cinema={picked.pk}" if picked else ""
    return render(
        request,
        "staff/exports.html",
        {
            "title": "Exports",
            "cinemas": cinemas,
            "picked": picked,
            "day": day,
            "screenings": screenings,
            "suffix": suffix,
            "sep": "&" if suffix else "?",
        },
    )


@require_GET
@staff_page("export_data")
def screening_csv(request, screening_id: int, kind: str):
    if kind not in KINDS:
        raise Http404
    screening = (
        narrow(
            Screening.objects.select_related("film", "auditorium__cinema"),
            request.user,
            "auditorium__cinema_id",
        )
        .filter(pk=screening_id)
        .first()
    )
    if screening is None:
        raise Http404
    local = timezone.localtime(screening.starts_at, screening.auditorium.cinema.tz)
    name = f"{kind}-{screening.auditorium.cinema.slug}-{local:%Y-%m-%d-%H%M}-{screening.pk}.csv"
    if kind == "orders":
        rows = selectors.order_rows(selectors.orders_of_screening(screening))
        return _csv(rows, selectors.ORDER_COLUMNS, name)
    rows = selectors.attendance_rows(selectors.tickets_of_screening(screening))
    return _csv(rows, selectors.ATTENDANCE_COLUMNS, name)


@require_GET
@staff_page("export_data")
def day_csv(request, day: str, kind: str):
    if kind not in KINDS:
        raise Http404
    the_day = _day(day, None)
    if the_day is None:
        return HttpResponseBadRequest("The day is written YYYY-MM-DD, for example 2026-12-24.")
    cinemas, picked = _picked_cinemas(request)
    basis = request.GET.get("basis", "screening")
    if basis not in selectors.BASES:
        return HttpResponseBadRequest("basis is screening (the day's screenings) or sale.")
    where = picked.slug if picked else "my-cinemas"
    if kind == "orders":
        rows = selectors.order_rows(
            selectors.orders_of_day(day=the_day, cinemas=cinemas, basis=basis)
        )
        name = f"orders-{where}-{the_day}{'-sales' if basis == 'sale' else ''}.csv"
        return _csv(rows, selectors.ORDER_COLUMNS, name)
    rows = selectors.attendance_rows(selectors.tickets_of_day(day=the_day, cinemas=cinemas))
    return _csv(rows, selectors.ATTENDANCE_COLUMNS, f"attendance-{where}-{the_day}.csv")


urlpatterns = [
    path("", exports_page, name="exports"),
    path("screenings/<int:screening_id>/<str:kind>.csv", screening_csv, name="export_screening"),
    path("days/<str:day>/<str:kind>.csv", day_csv, name="export_day"),
]
