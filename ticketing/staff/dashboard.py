"""Staff: the sales dashboard, `/staff/dashboard/` (managers and partner managers).

The member's cinemas (or one of them, `?cinema=ID`, picked from a list when they have several):
the week's screenings with their occupancy, the last 30 days' sales by day, film and cinema,
screenings selling out, holds and orders awaiting payment now, refunds to look at. The figures
are `dashboard_figures.dashboard`'s; this module writes them out for people.

Each chart is drawn by uPlot (`static/vendor/uplot/`, as the campaign report) from figures the
page carries as JSON (`#dashboard-charts`), and each has a table with the same figures: the table
is what a screen reader reads (the chart is hidden from it), and what anyone reads exactly.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache

from django.http import Http404
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.utils.translation import get_language

from ticketing.money import format_money, minor_digits

from . import dashboard_figures as figures
from .access import cinemas_for, staff_page
from .dashboard_html import screening_rows

FILMS_CHARTED = 12


def _picked(request, cinemas: list) -> tuple[list, int | None]:
    """The cinemas the page is about: all of the member's, or the one `?cinema=` names (another
    cinema's id, or anything that is not an id, is not found)."""
    raw = request.GET.get("cinema", "")
    if not raw:
        return cinemas, None
    if not (raw.isascii() and raw.isdigit()):
        raise Http404("No such cinema.")
    chosen = [c for c in cinemas if c.pk == int(raw)]
    if not chosen:
        raise Http404("No such cinema.")
    return chosen, chosen[0].pk


@lru_cache(maxsize=4096)
def _money(amount: int, currency: str, language: str) -> str:
    """`format_money`, kept per process: a page writes out a few hundred amounts, many alike,
    and CLDR formatting is the slow part of writing one."""
    return format_money(amount, currency, language)


def money(amount: int, currency: str) -> str:
    return _money(amount, currency, get_language() or "en")


def _money_cells(line: figures.Sales, currencies: list[str]) -> list[str]:
    return [money(line.revenue.get(c, 0), c) for c in currencies]


def _section(key, title, heading, lines, currencies, chart_lines=None) -> dict:
    columns = [heading, "Tickets", "Orders", *(f"Revenue ({c})" for c in currencies)]
    rows = [
        [line.label, line.tickets, line.orders, *_money_cells(line, currencies)] for line in lines
    ]
    charted = lines if chart_lines is None else chart_lines
    chart = {
        "id": f"chart-{key}",
        "kind": "line" if key == "day" else "bars",
        "labels": [line.label for line in charted],
        "series": [{"label": "Tickets", "values": [line.tickets for line in charted]}],
    }
    return {"key": key, "title": title, "columns": columns, "rows": rows, "chart": chart}


def _revenue_charts(board: figures.Dashboard) -> list[dict]:
    """Revenue by day, one chart per currency (amounts in minor units; `digits` says where the
    decimal point goes, for the axis)."""
    return [
        {
            "id": f"chart-revenue-{currency.lower()}",
            "kind": "line",
            "currency": currency,
            "digits": minor_digits(currency),
            "labels": [line.label for line in board.by_day],
            "series": [
                {
                    "label": f"Revenue ({currency})",
                    "values": [line.revenue.get(currency, 0) for line in board.by_day],
                }
            ],
        }
        for currency in board.currencies
    ]


def _age(moment: datetime | None, now: datetime) -> str:
    if moment is None:
        return ""
    minutes = max(int((now - moment).total_seconds() // 60), 0)
    if minutes < 1:
        return "under a minute"
    return f"{minutes} min" if minutes < 120 else f"{minutes // 60} h {minutes % 60} min"


def _refund_rows(board: figures.Dashboard) -> list[dict]:
    rows = []
    for refund in board.refunds:
        order = refund.payment.order
        cinema = order.screening.auditorium.cinema
        rows.append(
            {
                "refund": refund,
                "order": order,
                "cinema": cinema.name,
                "film": order.screening.film.title,
                "amount": money(refund.amount, refund.currency),
                "asked": timezone.localtime(refund.created_at, cinema.tz).strftime("%d %b %H:%M"),
                "failed": refund.status == "failed",
            }
        )
    return rows


@staff_page("view_dashboard")
def dashboard_page(request):
    mine = list(cinemas_for(request.user))
    cinemas, picked = _picked(request, mine)
    board = figures.dashboard(cinemas=cinemas)
    currencies = board.currencies
    sections = [
        _section("day", "Sales by day", "Day", board.by_day, currencies),
        _section(
            "film",
            "Sales by film",
            "Film",
            board.by_film,
            currencies,
            chart_lines=board.by_film[:FILMS_CHARTED],
        ),
        _section("cinema", "Sales by cinema", "Cinema", board.by_cinema, currencies),
    ]
    revenue = _revenue_charts(board)
    charts = [s["chart"] for s in sections if s["rows"]] + revenue
    context = {
        "title": "Dashboard",
        "board": board,
        "cinemas": mine,
        "picked": picked,
        "sections": sections,
        "revenue_charts": revenue,
        "charts": charts,
        "totals": {
            "tickets": board.totals.tickets,
            "orders": board.totals.orders,
            "revenue": [money(board.totals.revenue.get(c, 0), c) for c in currencies],
        },
        "pending_amounts": [money(a, c) for c, a in board.pending_orders.amounts.items()],
        "hold_age": _age(board.holds.oldest, board.now),
        "order_age": _age(board.pending_orders.oldest, board.now),
        "refund_rows": _refund_rows(board),
        "week": [
            {
                "is_today": day.is_today,
                "label": day.label,
                "cinema": day.cinema,
                "screenings": day.screenings,
                "rows": screening_rows(day.screenings),
            }
            for day in board.week
        ],
        "selling_rows": screening_rows(board.selling_out, selling_out=True),
        "selling_out_percent": figures.SELLING_OUT_PERCENT,
        "sales_days": figures.SALES_DAYS,
    }
    return render(request, "staff/dashboard.html", context)


urlpatterns = [path("", dashboard_page, name="dashboard")]
