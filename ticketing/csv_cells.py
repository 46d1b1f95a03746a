"""CSV for spreadsheets: cells that a spreadsheet shows and never runs.

A cell that starts with `=`, `+`, `-` or `@` (or a tab or carriage return, which some
spreadsheets skip before reading a formula) is a formula to Excel, LibreOffice and Google
Sheets: a customer named `=HYPERLINK("http://evil","click")` would become a link in the
cinema's accounts. Such a text cell is written with a leading apostrophe (OWASP's advice), which
the spreadsheet hides and which stops the formula. Numbers are not text and are left alone, so
a negative amount stays a number. Every CSV the project writes goes through `cell`.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(value) -> str:
    """One CSV cell: None is empty, numbers as they are, text escaped if it starts a formula."""
    if not isinstance(value, str):
        return "" if value is None else str(value)
    return f"'{value}" if value.startswith(FORMULA_STARTS) else value


class _Line:
    """A file-like target that hands back what the csv writer wrote for one row."""

    def __init__(self) -> None:
        self.text = ""

    def write(self, text: str) -> None:
        self.text = text


def csv_lines(rows: Iterable[dict], columns: list[str]) -> Iterator[str]:
    """The header, then one CRLF-terminated line per row (keys outside `columns` ignored), each
    as soon as its row arrives: for `StreamingHttpResponse`, so a large export never sits in
    memory whole."""
    line = _Line()
    writer = csv.writer(line, lineterminator="\r\n")
    writer.writerow([cell(name) for name in columns])
    yield line.text
    for row in rows:
        writer.writerow([cell(row.get(name)) for name in columns])
        yield line.text


def rows_csv(rows: Iterable[dict], columns: list[str]) -> str:
    """The whole CSV as one string (small reports)."""
    out = io.StringIO()
    for text in csv_lines(rows, columns):
        out.write(text)
    return out.getvalue()
