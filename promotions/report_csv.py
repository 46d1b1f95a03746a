"""Reports as CSV, for the spreadsheets studios, platforms and accountants keep: one flat table a
report, the same columns from the API and from the staff page.

Amounts are minor units, as in the JSON. Labels (film titles, cinema names) are text staff
typed: one that starts like a formula is written with a leading apostrophe, so a spreadsheet
shows it and runs nothing (`ticketing.csv_cells`, the one escaping of every CSV).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from ticketing.csv_cells import cell

from .reports import FUNDERS, CampaignReport, Figures, PartnerSales

FIGURES = ["orders", "tickets", "gross", "discount", "net", *(f"discount_{f}" for f in FUNDERS)]
CAMPAIGN_COLUMNS = ["section", "key", "label", "city", *FIGURES, "cumulative"]
SALES_COLUMNS = [
    "group",
    "key",
    "label",
    "currency",
    *FIGURES,
    "booking_fees",
    "sales",
    "commission",
]
STATEMENT_COLUMNS = [
    "from",
    "to",
    "currency",
    "orders",
    "tickets",
    "collected",
    "commission",
    "owed_to_cinema",
    *(f"discount_{f}" for f in FUNDERS),
    "studio_owes",
]


def _figures(figures: Figures) -> dict:
    cells = {
        "orders": figures.orders,
        "tickets": figures.tickets,
        "gross": figures.gross,
        "discount": figures.discount,
        "net": figures.net,
    }
    cells.update({f"discount_{f}": amount for f, amount in figures.by_funder.items()})
    return cells


def campaign_rows(report: CampaignReport) -> list[dict]:
    """The totals, then a row per day, film, cinema and city, then the presale pace."""
    rows = [{"section": "total", "key": report.campaign.pk, "label": report.campaign.name}]
    rows[0].update(_figures(report.totals))
    for section, lines in (
        ("day", report.by_day),
        ("film", report.by_film),
        ("cinema", report.by_cinema),
        ("city", report.by_city),
    ):
        for line in lines:
            key = line.key.isoformat() if section == "day" else line.key
            row = {"section": section, "key": key, "label": line.label, "city": line.city}
            rows.append({**row, **_figures(line.figures)})
    for day in report.presale.pace:
        rows.append(
            {
                "section": "presale",
                "key": day.day.isoformat(),
                "label": day.day.isoformat(),
                "tickets": day.tickets,
                "cumulative": day.cumulative,
            }
        )
    return rows


def _sales_key(group: dict) -> tuple[object, str]:
    if "day" in group:
        return group["day"].isoformat(), group["day"].isoformat()
    if "screening" in group:
        starts = group["starts_at"].isoformat()
        return group["screening"], f"{group['title']}, {group['cinema']}, {starts}"
    return group["film"], group["title"]


def sales_rows(sales: PartnerSales) -> list[dict]:
    rows = []
    for line in sales.lines:
        key, label = _sales_key(line.group)
        rows.append(
            {
                "group": sales.group_by,
                "key": key,
                "label": label,
                "currency": line.currency,
                **_figures(line.figures),
                "booking_fees": line.booking_fees,
                "sales": line.sales,
                "commission": line.commission,
            }
        )
    return rows


def statement_rows(sales: PartnerSales) -> list[dict]:
    return [
        {
            "from": sales.starts.isoformat(),
            "to": sales.ends.isoformat(),
            "currency": s.currency,
            "orders": s.orders,
            "tickets": s.tickets,
            "collected": s.collected,
            "commission": s.commission,
            "owed_to_cinema": s.owed_to_cinema,
            **{f"discount_{f}": amount for f, amount in s.discounts.items()},
            "studio_owes": s.studio_owes,
        }
        for s in sales.statements
    ]


def rows_csv(rows: Iterable[dict], columns: list[str]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore", lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({name: cell(row.get(name)) for name in columns})
    return out.getvalue()
