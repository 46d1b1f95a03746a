"""Promo codes as CSV, for the people who print them, mail-merge them or load them into a
platform: one row per code, the same columns from the admin and from the API.

The cells are codes, numbers, kinds and ISO dates, never free text, so a spreadsheet has no
formula to run in them.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from .models import PromoCode

COLUMNS = [
    "code",
    "kind",
    "value",
    "max_uses",
    "uses",
    "max_uses_per_email",
    "opens_presale",
    "valid_from",
    "valid_until",
]


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def code_rows(codes: Iterable[PromoCode]) -> list[dict]:
    """One flat row per code (no targeting: it is the same for a batch and shown beside it)."""
    return [{name: _cell(getattr(code, name)) for name in COLUMNS} for code in codes]


def rows_csv(rows: Iterable[dict]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, extrasaction="ignore", lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def codes_csv(codes: Iterable[PromoCode]) -> str:
    return rows_csv(code_rows(codes))
