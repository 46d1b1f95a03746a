"""The campaign report for staff: a page in the admin's look, `/staff/campaigns/<id>/report/`
(and `?format=csv`, the same file a studio gets from the API). Staff only.

Each chart is drawn by uPlot (`static/vendor/uplot/`, see package.json) from figures the page
carries as JSON, and each has a table beside it with the same figures: the table is what a
screen reader reads (the chart is hidden from it), and what anyone reads exactly.
"""

from __future__ import annotations

from django.contrib import admin
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import path

from ticketing import errors
from ticketing.money import format_money
from ticketing.staff.access import staff_page

from . import campaigns, report_csv, reports


def _section(key: str, title: str, heading: str, lines: list[reports.Line], money) -> dict:
    """A breakdown's table (a row per line, money written out) and its chart (tickets)."""
    by_funder = [f for f in reports.FUNDERS if any(line.figures.by_funder[f] for line in lines)]
    columns = [heading, "Tickets", "Orders", "Gross", "Discount"]
    columns += [f"Discount funded by the {f}" for f in by_funder] + ["Net"]
    rows = [
        [
            line.label,
            line.figures.tickets,
            line.figures.orders,
            money(line.figures.gross),
            money(line.figures.discount),
            *(money(line.figures.by_funder[f]) for f in by_funder),
            money(line.figures.net),
        ]
        for line in lines
    ]
    chart = {
        "id": f"chart-{key}",
        "kind": "bars",
        "labels": [line.label for line in lines],
        "series": [{"label": "Tickets", "values": [line.figures.tickets for line in lines]}],
    }
    return {"key": key, "title": title, "columns": columns, "rows": rows, "chart": chart}


def _presale_section(presale: reports.Presale) -> dict:
    return {
        "key": "presale",
        "title": "Presale pace: tickets sold before general sale",
        "columns": ["Day", "Tickets", "Tickets so far"],
        "rows": [[d.day.isoformat(), d.tickets, d.cumulative] for d in presale.pace],
        "chart": {
            "id": "chart-presale",
            "kind": "line",
            "labels": [d.day.isoformat() for d in presale.pace],
            "series": [{"label": "Tickets so far", "values": [d.cumulative for d in presale.pace]}],
        },
    }


def report_sections(report: reports.CampaignReport) -> list[dict]:
    currency = report.campaign.currency

    def money(amount: int) -> str:
        return format_money(amount, currency)

    sections = [
        _section("day", "By day", "Day", report.by_day, money),
        _section("film", "By film", "Film", report.by_film, money),
        _section("cinema", "By cinema", "Cinema", report.by_cinema, money),
        _section("city", "By city", "City", report.by_city, money),
    ]
    if report.presale.opens_at is not None:
        sections.insert(1, _presale_section(report.presale))
    return sections


def _totals(report: reports.CampaignReport) -> list[tuple[str, object]]:
    campaign, totals = report.campaign, report.totals

    def money(amount: int) -> str:
        return format_money(amount, campaign.currency)

    funded = [(f"Discount funded by the {f}", money(a)) for f, a in totals.by_funder.items() if a]
    return [
        ("Tickets", totals.tickets),
        ("Orders", totals.orders),
        ("Gross", money(totals.gross)),
        ("Discount given", money(totals.discount)),
        *funded,
        ("Net", money(totals.net)),
        ("Budget", money(campaign.budget)),
        ("Budget left", money(campaign.budget_left)),
    ]


@staff_page("promotions.view_campaign")  # both factors, like every staff page
def campaign_report_page(request, pk: int):
    try:
        campaign = campaigns.campaign_get(campaign_id=pk)
    except errors.CampaignNotFound:
        raise Http404("No such campaign.") from None
    report = reports.campaign_report(campaign=campaign)
    if request.GET.get("format") == "csv":
        rows = report_csv.campaign_rows(report)
        answer = HttpResponse(
            report_csv.rows_csv(rows, report_csv.CAMPAIGN_COLUMNS), content_type="text/csv"
        )
        answer["Content-Disposition"] = f'attachment; filename="campaign-{pk}-report.csv"'
        return answer
    sections = report_sections(report)
    context = {
        **admin.site.each_context(request),
        "title": f"Campaign report: {campaign.name}",
        "campaign": campaign,
        "report": report,
        "totals": _totals(report),
        "sections": sections,
        "charts": [s["chart"] for s in sections if s["rows"]],
    }
    return render(request, "promotions/report.html", context)


urlpatterns = [
    path("<int:pk>/report/", campaign_report_page, name="staff-campaign-report"),
]
