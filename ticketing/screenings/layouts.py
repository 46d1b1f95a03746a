"""Seat layouts as a text grid: staff draw an auditorium in a few lines instead of 300 forms.

One line per row, front (nearest the screen) first; one character per cell:

    s  standard seat            x  blocked seat (exists, never sold)
    p  premium seat             P W C  a blocked premium / wheelchair / companion seat
    w  wheelchair space         <>  a couple seat: both halves, sold together
    c  companion seat           []  a blocked couple seat
    .  or a space: no seat (an aisle or a gap)

A row may start with its label and a colon (`A: sssss..sssss`, one optional space after the
colon); rows without one are lettered A, B, C, ... from the front, counting only rows that have
seats. A line with no seats at all (empty or only dots) is a walkway: it takes a place on the
map but no letter. Seats are numbered from 1, left to right within their row, gaps skipped;
`x` is the cell's column and `y` its line, both from 0.

`parse` and `render` are pure; `layout_of` reads an auditorium's seats back as a `Layout`. This
module writes nothing and knows nothing above the catalogue: the seats are written by
`services.layout_apply`, and replacing a layout staff typed goes through
`ticketing.flows.layouts.layout_replace`, which also refuses to remove a seat that has tickets
or a live claim (a seat that was sold is never deleted), and to move, rename, retype or block a
seat held or sold for a screening still to come: what only a package above orders and inventory
can see. The staff editor (`ticketing.staff.layout_editor`) edits this same text.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import ValidationError

from .models import Auditorium, Seat, SeatType

MAX_ROWS = 100
MAX_COLUMNS = 200
GAPS = frozenset(". ")
# cell -> (seat type, sellable)
CELLS: dict[str, tuple[str, bool]] = {
    "s": (SeatType.STANDARD.value, True),
    "p": (SeatType.PREMIUM.value, True),
    "w": (SeatType.WHEELCHAIR.value, True),
    "c": (SeatType.COMPANION.value, True),
    "x": (SeatType.STANDARD.value, False),
    "X": (SeatType.STANDARD.value, False),
    "S": (SeatType.STANDARD.value, False),
    "P": (SeatType.PREMIUM.value, False),
    "W": (SeatType.WHEELCHAIR.value, False),
    "C": (SeatType.COMPANION.value, False),
    "<": (SeatType.COUPLE.value, True),
    ">": (SeatType.COUPLE.value, True),
    "[": (SeatType.COUPLE.value, False),
    "]": (SeatType.COUPLE.value, False),
}
LEFT_HALVES = frozenset("<[")
RIGHT_HALVES = frozenset(">]")
_CHAR_FOR = {
    (SeatType.STANDARD.value, True): "s",
    (SeatType.PREMIUM.value, True): "p",
    (SeatType.WHEELCHAIR.value, True): "w",
    (SeatType.COMPANION.value, True): "c",
    (SeatType.STANDARD.value, False): "x",
    (SeatType.PREMIUM.value, False): "P",
    (SeatType.WHEELCHAIR.value, False): "W",
    (SeatType.COMPANION.value, False): "C",
}
_LABELLED = re.compile(r"^\s*([A-Za-z0-9]{1,4})\s*:(.*)$")
_MAX_ERRORS = 8

NOTATION_HELP = (
    "One line per row, front row (nearest the screen) first. "
    "s standard, p premium, w wheelchair space, c companion, <> couple seat (two halves), "
    "x blocked (P W C [] blocked premium, wheelchair, companion, couple), "
    ". or space: aisle or gap. Optional row label: 'A: ssss..ssss'; otherwise rows are lettered "
    "A, B, C... from the front. A line of only dots is a walkway. Seats are numbered from 1, "
    "left to right, skipping gaps."
)


@dataclass(frozen=True, order=True)
class SeatSpec:
    """One seat as the layout describes it. `pair` is the (row, number) of the other half."""

    y: int
    x: int
    row_label: str
    number: int
    seat_type: str
    is_sellable: bool = True
    pair: tuple[str, int] | None = None

    @property
    def key(self) -> tuple[str, int]:
        return (self.row_label, self.number)

    @property
    def label(self) -> str:
        return f"{self.row_label}{self.number}"


@dataclass(frozen=True)
class Layout:
    seats: tuple[SeatSpec, ...]

    def __len__(self) -> int:
        return len(self.seats)

    def counts(self) -> dict[str, int]:
        """Seats by type, and how many are blocked."""
        out: dict[str, int] = {}
        for seat in self.seats:
            out[seat.seat_type] = out.get(seat.seat_type, 0) + 1
            if not seat.is_sellable:
                out["blocked"] = out.get("blocked", 0) + 1
        return out

    def left_out(self, seats: Iterable[Seat]) -> list[Seat]:
        """The seats (of an auditorium, in the order given) whose label this layout does not
        have: the ones replacing the auditorium's layout with this one would remove."""
        keys = {spec.key for spec in self.seats}
        return [seat for seat in seats if (seat.row_label, seat.number) not in keys]


@dataclass(frozen=True)
class LayoutChange:
    created: int = 0
    updated: int = 0
    deleted: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.deleted)

    def __str__(self) -> str:
        if not self.changed:
            return "layout unchanged"
        return f"{self.created} seats added, {self.updated} changed, {self.deleted} removed"


def row_letters(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA, 27 -> AB, ..."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = string.ascii_uppercase[rest] + letters
    return letters


# ---- text -> layout ------------------------------------------------------------------------
def parse(text: str, *, require_seats: bool = False) -> Layout:
    """Read a text grid. Raises ValidationError naming the line and column of each mistake.

    With `require_seats`, a grid without a single seat is a mistake too (an auditorium's).
    """
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    numbered = [(n, line.rstrip()) for n, line in enumerate(lines, start=1)]
    while numbered and not numbered[0][1].strip():
        numbered.pop(0)
    while numbered and not numbered[-1][1].strip():
        numbered.pop()
    errors: list[str] = []
    if len(numbered) > MAX_ROWS:
        raise ValidationError(f"At most {MAX_ROWS} lines, please (this has {len(numbered)}).")

    seats: list[SeatSpec] = []
    labels_seen: dict[str, int] = {}
    seat_rows = 0
    for y, (line_no, line) in enumerate(numbered):
        match = _LABELLED.match(line)
        if match:
            label, cells = match.group(1), match.group(2)
            offset = match.start(2)
            if cells.startswith(" "):
                cells, offset = cells[1:], offset + 1
        else:
            label, cells, offset = None, line, 0
        row = _parse_row(cells, line_no, offset, errors)
        if row is None:
            continue
        if not row:
            if label is not None:
                errors.append(f"Line {line_no}: row {label} has no seats.")
            continue  # a walkway
        label = label or row_letters(seat_rows)
        seat_rows += 1
        if label in labels_seen:
            errors.append(
                f"Line {line_no}: row label {label!r} is already used on line {labels_seen[label]}."
            )
            continue
        labels_seen[label] = line_no
        for number, (x, seat_type, sellable, pair_x) in enumerate(row, start=1):
            pair = None
            if pair_x is not None:
                pair = (label, number + (1 if pair_x > x else -1))
            seats.append(SeatSpec(y, x, label, number, seat_type, sellable, pair))
    if errors:
        raise ValidationError(errors[:_MAX_ERRORS])
    if require_seats and not seats:
        raise ValidationError("A layout needs at least one seat.", code="empty_layout")
    return Layout(tuple(sorted(seats)))


def _parse_row(cells: str, line_no: int, offset: int, errors: list[str]):
    """[(x, seat type, sellable, pair's x)] for one row, or None after recording errors."""
    if len(cells) > MAX_COLUMNS:
        errors.append(f"Line {line_no}: at most {MAX_COLUMNS} cells in a row.")
        return None
    out = []
    ok = True
    for x, char in enumerate(cells):
        column = offset + x + 1
        if char in GAPS:
            continue
        if char == "\t":
            errors.append(f"Line {line_no}, column {column}: a tab; use spaces or '.' for gaps.")
            ok = False
            continue
        if char not in CELLS:
            errors.append(
                f"Line {line_no}, column {column}: {char!r} is not a seat. "
                "Use s p w c <> x (blocked: x P W C []) and . or space for gaps."
            )
            ok = False
            continue
        seat_type, sellable = CELLS[char]
        pair_x = None
        if char in LEFT_HALVES:
            if x + 1 >= len(cells) or cells[x + 1] not in RIGHT_HALVES:
                errors.append(
                    f"Line {line_no}, column {column}: {char!r} starts a couple seat; "
                    "the next cell must be its other half, '>' (or ']')."
                )
                ok = False
                continue
            pair_x = x + 1
        elif char in RIGHT_HALVES:
            if x == 0 or cells[x - 1] not in LEFT_HALVES:
                errors.append(
                    f"Line {line_no}, column {column}: {char!r} ends a couple seat; "
                    "it must follow '<' (or '[')."
                )
                ok = False
                continue
            pair_x = x - 1
        out.append((x, seat_type, sellable, pair_x))
    return out if ok else None


# ---- layout -> text ------------------------------------------------------------------------
def render(layout: Layout) -> str:
    """The layout as text that `parse` reads back.

    Exact for any layout made from text. Seats edited otherwise (numbered right to left, a
    couple half without its neighbour) are drawn by position and type; see `is_exact`.
    """
    if not layout.seats:
        return ""
    rows: dict[int, list[SeatSpec]] = {}
    for seat in layout.seats:
        rows.setdefault(seat.y, []).append(seat)
    position = {seat.key: (seat.x, seat.y) for seat in layout.seats}
    row_label = {y: min(row, key=lambda s: s.x).row_label for y, row in rows.items()}
    ordered = sorted(rows)
    lettered = all(row_label[y] == row_letters(i) for i, y in enumerate(ordered))
    width = max(len(label) for label in row_label.values())
    lines = []
    for y in range(max(rows) + 1):
        row = rows.get(y)
        if not row:
            lines.append(".")
            continue
        cells = ["."] * (max(s.x for s in row) + 1)
        for seat in row:
            cells[seat.x] = _char(seat, position)
        text = "".join(cells)
        lines.append(text if lettered else f"{row_label[y]:>{width}}: {text}")
    return "\n".join(lines)


def _char(seat: SeatSpec, position: dict[tuple[str, int], tuple[int, int]]) -> str:
    if seat.seat_type == SeatType.COUPLE:
        other = position.get(seat.pair) if seat.pair else None
        if other == (seat.x + 1, seat.y):
            return "<" if seat.is_sellable else "["
        if other == (seat.x - 1, seat.y):
            return ">" if seat.is_sellable else "]"
        return "s" if seat.is_sellable else "x"  # a half on its own cannot be drawn as a couple
    return _CHAR_FOR.get((seat.seat_type, seat.is_sellable), "s" if seat.is_sellable else "x")


def is_exact(layout: Layout) -> bool:
    """Whether `render` shows this layout exactly (reading the text back gives the same seats)."""
    try:
        return parse(render(layout)) == layout
    except ValidationError:
        return False


# ---- seats -> layout ------------------------------------------------------------------------
def layout_of(auditorium: Auditorium) -> Layout:
    """The auditorium's seats as a layout (one query)."""
    return layout_from_seats(
        auditorium.seats.order_by("y", "x").only(
            "id", "row_label", "number", "x", "y", "seat_type", "is_sellable", "pair_id"
        )
    )


def layout_from_seats(seats: Iterable[Seat]) -> Layout:
    seats = list(seats)
    key_of = {seat.pk: (seat.row_label, seat.number) for seat in seats}
    return Layout(
        tuple(
            sorted(
                SeatSpec(
                    seat.y,
                    seat.x,
                    seat.row_label,
                    seat.number,
                    seat.seat_type,
                    seat.is_sellable,
                    key_of.get(seat.pair_id),
                )
                for seat in seats
            )
        )
    )


def layout_render(auditorium: Auditorium) -> str:
    """The auditorium's current layout as text, ready to edit and give back to layout_replace
    (`ticketing.flows.layouts`)."""
    return render(layout_of(auditorium))
