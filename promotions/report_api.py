"""Report endpoints of the partner API (scope `reports`), JSON or CSV (`Accept: text/csv` or
`?format=csv`). Thin: check the query, call `promotions.reports`, serialise.

- `GET /api/v1/campaigns/{id}/report/`: a campaign's sales, for its studio or its platform;
  any other campaign answers 404 `campaign_not_found`, as if it did not exist.
- `GET /api/v1/reports/sales/?from=&to=&group_by=day|film|screening`: the caller's own orders,
  with the period's settlement statement;
- `GET /api/v1/reports/settlement/?from=&to=`: the statement alone (one row per currency).

A period is whole days, `from` to `to` included, each sale on its paid day in its cinema's zone;
`to` defaults to today (UTC) and `from` to 29 days before it.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from django.http import Http404
from django.urls import path
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from ticketing import errors
from ticketing.api.common import refusals
from ticketing.api.permissions import RequiresScope
from ticketing.partners.models import Scope

from . import campaigns, report_csv, reports
from .api import CodesCSV, CsvOrJson

DEFAULT_DAYS = 30
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class ReportCSV(CodesCSV):
    """A report as CSV: the view hands over the text, already made by `report_csv`."""

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data.encode("utf-8") if isinstance(data, str) else b""


class Report(CsvOrJson, APIView):
    """JSON by default, CSV on asking; refusals are JSON whatever was asked (`CsvOrJson`)."""

    permission_classes = [RequiresScope(Scope.REPORTS)]
    renderer_classes = [*api_settings.DEFAULT_RENDERER_CLASSES, ReportCSV]
    filename = "report"

    def perform_content_negotiation(self, request, force=False):
        """An unknown `?format=` is a bad query (400), not a missing page (DRF's 404)."""
        try:
            return super().perform_content_negotiation(request, force)
        except Http404:
            raise errors.InvalidRequest("format is json or csv.", field="format") from None

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if response.status_code < 400 and self.wants_csv():
            name = self.filename.format(**kwargs)
            response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
        return response


# ---- the query -------------------------------------------------------------------------------
EARLIEST, LATEST = date(2000, 1, 1), date(2199, 12, 31)


def _day(params, name: str, default: date) -> date:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    try:
        if not _DAY.match(raw):
            raise ValueError(raw)
        day = date.fromisoformat(raw)
        if not EARLIEST <= day <= LATEST:  # the calendar's edges overflow the day arithmetic
            raise ValueError(raw)
        return day
    except ValueError:
        raise errors.ReportDateInvalid(field=name, value=raw[:40]) from None


def period(params) -> tuple[date, date]:
    """`from` and `to` of the query, both included, or a precise refusal."""
    # Today as the easternmost cinema sees it (UTC+14): a sale just after its local midnight
    # is in the default period, whatever UTC's date is.
    ends = _day(params, "to", (timezone.now() + timedelta(hours=14)).date())
    starts = _day(params, "from", ends - timedelta(days=DEFAULT_DAYS - 1))
    if starts > ends:
        raise errors.ReportPeriodInvalid(
            "`from` is on or before `to`.", **{"from": starts.isoformat(), "to": ends.isoformat()}
        )
    if (ends - starts).days + 1 > reports.MAX_DAYS:
        raise errors.ReportPeriodInvalid(
            f"A report covers {reports.MAX_DAYS} days at most.", max_days=reports.MAX_DAYS
        )
    return starts, ends


def group_by(params) -> str:
    wanted = params.get("group_by") or "day"
    if wanted not in reports.GROUPS:
        raise errors.ReportGroupInvalid(value=wanted[:40], allowed=list(reports.GROUPS))
    return wanted


PERIOD = [
    OpenApiParameter(
        "from", OpenApiTypes.DATE, description=f"First day (default: {DEFAULT_DAYS - 1} before to)."
    ),
    OpenApiParameter("to", OpenApiTypes.DATE, description="Last day, included (default: today)."),
]
GROUP_BY = OpenApiParameter("group_by", OpenApiTypes.STR, enum=list(reports.GROUPS))
PERIOD_REFUSALS = (
    errors.ReportDateInvalid(field="from", value="01/07/2026"),
    errors.ReportPeriodInvalid(
        "`from` is on or before `to`.", **{"from": "2026-08-01", "to": "2026-07-01"}
    ),
)


# ---- JSON ------------------------------------------------------------------------------------
def figures_json(figures: reports.Figures) -> dict:
    return {
        "orders": figures.orders,
        "tickets": figures.tickets,
        "gross": figures.gross,
        "discount": figures.discount,
        "net": figures.net,
        "discount_by_funder": dict(figures.by_funder),
    }


def campaign_report_json(report: reports.CampaignReport) -> dict:
    campaign = report.campaign
    presale = report.presale

    def lines(found, key: str, **more) -> list[dict]:
        return [
            {key: line.key, **{k: getattr(line, v) for k, v in more.items()}}
            | figures_json(line.figures)
            for line in found
        ]

    return {
        "campaign": {
            "id": campaign.pk,
            "name": campaign.name,
            "studio": campaign.studio_id,
            "platform": campaign.platform_id,
            "funder": campaign.funder,
            "currency": campaign.currency,
            "starts_at": campaign.starts_at.isoformat(),
            "ends_at": campaign.ends_at.isoformat(),
            "budget": campaign.budget,
            "spent": campaign.spent,
            "budget_left": campaign.budget_left,
        },
        "totals": figures_json(report.totals),
        "by_day": [
            {"day": line.key.isoformat()} | figures_json(line.figures) for line in report.by_day
        ],
        "by_film": lines(report.by_film, "film", title="label"),
        "by_cinema": lines(report.by_cinema, "cinema", name="label", city="city"),
        "by_city": [{"city": line.key} | figures_json(line.figures) for line in report.by_city],
        "presale": {
            "opens_at": presale.opens_at and presale.opens_at.isoformat(),
            "general_sale_at": presale.general_sale_at and presale.general_sale_at.isoformat(),
            "pace": [
                {"day": d.day.isoformat(), "tickets": d.tickets, "cumulative": d.cumulative}
                for d in presale.pace
            ],
        },
    }


def _group_json(group: dict) -> dict:
    return {
        name: value.isoformat() if hasattr(value, "isoformat") else value
        for name, value in group.items()
    }


def sales_line_json(line: reports.SalesLine) -> dict:
    return {
        **_group_json(line.group),
        "currency": line.currency,
        **figures_json(line.figures),
        "booking_fees": line.booking_fees,
        "sales": line.sales,
        "commission": line.commission,
    }


def statement_json(statement: reports.Statement) -> dict:
    return {
        "currency": statement.currency,
        "orders": statement.orders,
        "tickets": statement.tickets,
        "collected": statement.collected,
        "commission": statement.commission,
        "owed_to_cinema": statement.owed_to_cinema,
        "discounts_by_funder": dict(statement.discounts),
        "studio_owes": statement.studio_owes,
    }


def _period_json(sales: reports.PartnerSales) -> dict:
    return {"from": sales.starts.isoformat(), "to": sales.ends.isoformat()}


# ---- schema ----------------------------------------------------------------------------------
_FUNDED = inline_serializer(
    "DiscountByFunder", {f: serializers.IntegerField() for f in reports.FUNDERS}
)
_FIGURES = {
    "orders": serializers.IntegerField(),
    "tickets": serializers.IntegerField(),
    "gross": serializers.IntegerField(help_text="Price and surcharges, minor units."),
    "discount": serializers.IntegerField(),
    "net": serializers.IntegerField(help_text="gross less discount."),
    "discount_by_funder": _FUNDED,
}


def _rows(component: str, **keys) -> serializers.Serializer:
    return inline_serializer(component, {**keys, **_FIGURES}, many=True)


CAMPAIGN_REPORT = inline_serializer(
    "CampaignReport",
    {
        "campaign": inline_serializer(
            "CampaignReportCampaign",
            {
                "id": serializers.IntegerField(),
                "name": serializers.CharField(),
                "studio": serializers.IntegerField(),
                "platform": serializers.IntegerField(allow_null=True),
                "funder": serializers.CharField(),
                "currency": serializers.CharField(),
                "starts_at": serializers.DateTimeField(),
                "ends_at": serializers.DateTimeField(),
                "budget": serializers.IntegerField(),
                "spent": serializers.IntegerField(),
                "budget_left": serializers.IntegerField(),
            },
        ),
        "totals": inline_serializer("ReportFigures", _FIGURES),
        "by_day": _rows("ReportDay", day=serializers.DateField()),
        "by_film": _rows(
            "ReportFilm", film=serializers.IntegerField(), title=serializers.CharField()
        ),
        "by_cinema": _rows(
            "ReportCinema",
            cinema=serializers.IntegerField(),
            name=serializers.CharField(),
            city=serializers.CharField(),
        ),
        "by_city": _rows("ReportCity", city=serializers.CharField()),
        "presale": inline_serializer(
            "PresalePace",
            {
                "opens_at": serializers.DateTimeField(allow_null=True),
                "general_sale_at": serializers.DateTimeField(allow_null=True),
                "pace": inline_serializer(
                    "PresaleDay",
                    {
                        "day": serializers.DateField(),
                        "tickets": serializers.IntegerField(),
                        "cumulative": serializers.IntegerField(),
                    },
                    many=True,
                ),
            },
        ),
    },
)
STATEMENT = inline_serializer(
    "SettlementStatement",
    {
        "currency": serializers.CharField(),
        "orders": serializers.IntegerField(help_text="Orders you settled (took the money for)."),
        "tickets": serializers.IntegerField(),
        "collected": serializers.IntegerField(help_text="Their totals: what you collected."),
        "commission": serializers.IntegerField(),
        "owed_to_cinema": serializers.IntegerField(help_text="collected less commission."),
        "discounts_by_funder": _FUNDED,
        "studio_owes": serializers.IntegerField(help_text="The studio-funded discounts."),
    },
    many=True,
)
SALES_REPORT = inline_serializer(
    "SalesReport",
    {
        "from": serializers.DateField(),
        "to": serializers.DateField(),
        "group_by": serializers.ChoiceField(choices=reports.GROUPS),
        "rows": inline_serializer(
            "SalesRow",
            {
                "day": serializers.DateField(required=False),
                "film": serializers.IntegerField(required=False),
                "title": serializers.CharField(required=False),
                "screening": serializers.IntegerField(required=False),
                "cinema": serializers.CharField(required=False),
                "starts_at": serializers.DateTimeField(required=False),
                "currency": serializers.CharField(),
                **_FIGURES,
                "booking_fees": serializers.IntegerField(),
                "sales": serializers.IntegerField(help_text="net and booking fees."),
                "commission": serializers.IntegerField(),
            },
            many=True,
        ),
        "totals": _rows("SalesTotal", currency=serializers.CharField()),
        "settlement": STATEMENT,
    },
)
SETTLEMENT = inline_serializer(
    "Settlement",
    {"from": serializers.DateField(), "to": serializers.DateField(), "statements": STATEMENT},
)
CSV = {(200, "text/csv"): OpenApiTypes.STR}


# ---- views -----------------------------------------------------------------------------------
@extend_schema(tags=["reports"])
class CampaignReport(Report):
    """What a campaign's codes sold: tickets, gross, discount by who funds it and budget left,
    in totals and by day, film, cinema and city, and the presale pace (cumulative tickets a day
    before general sale). Paid orders' standing tickets only; days in each cinema's zone."""

    filename = "campaign-{pk}-report"

    @extend_schema(
        responses={
            (200, "application/json"): CAMPAIGN_REPORT,
            **CSV,
            **refusals(errors.CampaignNotFound(campaign=42)),
        }
    )
    def get(self, request, pk: int):
        campaign = campaigns.campaign_get(campaign_id=pk, partner=request.user.partner)
        report = reports.campaign_report(campaign=campaign)
        if self.wants_csv():
            rows = report_csv.campaign_rows(report)
            return Response(report_csv.rows_csv(rows, report_csv.CAMPAIGN_COLUMNS))
        return Response(campaign_report_json(report))


@extend_schema(tags=["reports"])
class SalesReport(Report):
    """Your own paid orders in the period, by day, film or screening and currency: tickets,
    gross, discount, booking fees, sales and your commission; and the period's settlement
    statement (`/reports/settlement/` gives it alone)."""

    filename = "sales"

    @extend_schema(
        parameters=[*PERIOD, GROUP_BY],
        responses={
            (200, "application/json"): SALES_REPORT,
            **CSV,
            **refusals(
                *PERIOD_REFUSALS,
                errors.ReportGroupInvalid(value="week", allowed=list(reports.GROUPS)),
            ),
        },
    )
    def get(self, request):
        starts, ends = period(request.query_params)
        sales = reports.partner_sales(
            partner=request.user.partner,
            starts=starts,
            ends=ends,
            group_by=group_by(request.query_params),
        )
        if self.wants_csv():
            rows = report_csv.sales_rows(sales)
            return Response(report_csv.rows_csv(rows, report_csv.SALES_COLUMNS))
        return Response(
            {
                **_period_json(sales),
                "group_by": sales.group_by,
                "rows": [sales_line_json(line) for line in sales.lines],
                "totals": [
                    {"currency": t.currency, **figures_json(t.figures)} for t in sales.totals
                ],
                "settlement": [statement_json(s) for s in sales.statements],
            }
        )


@extend_schema(tags=["reports"])
class SettlementReport(Report):
    """The settlement statement of the period, a row per currency: the orders you settled, what
    you collected, your commission, what you owe the cinema, and the discounts each funder
    owes (the studio's in `studio_owes`)."""

    filename = "settlement"

    @extend_schema(
        parameters=PERIOD,
        responses={(200, "application/json"): SETTLEMENT, **CSV, **refusals(*PERIOD_REFUSALS)},
    )
    def get(self, request):
        starts, ends = period(request.query_params)
        sales = reports.partner_sales(partner=request.user.partner, starts=starts, ends=ends)
        if self.wants_csv():
            rows = report_csv.statement_rows(sales)
            return Response(report_csv.rows_csv(rows, report_csv.STATEMENT_COLUMNS))
        return Response(
            {**_period_json(sales), "statements": [statement_json(s) for s in sales.statements]}
        )


urlpatterns = [
    path("campaigns/<int:pk>/report/", CampaignReport.as_view(), name="campaign-report"),
    path("reports/sales/", SalesReport.as_view(), name="report-sales"),
    path("reports/settlement/", SettlementReport.as_view(), name="report-settlement"),
]
