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

`parse` and `render` are pure. `layout_replace` applies a layout to an auditorium, keeping each
seat whose label (row and number) survives, so holds, claims and tickets on it stay valid; it
refuses to remove a seat that has tickets or a live claim, because a seat that was sold is
never deleted.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from itertools import islice

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from ticketing.inventory import claims
from ticketing.inventory.models import SeatClaim
from ticketing.orders.models import Ticket

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
def parse(text: str) -> Layout:
    """Read a text grid. Raises ValidationError naming the line and column of each mistake."""
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


# ---- the database --------------------------------------------------------------------------
def layout_of(auditorium: Auditorium) -> Layout:
    return _layout_from_seats(
        auditorium.seats.order_by("y", "x").only(
            "id", "row_label", "number", "x", "y", "seat_type", "is_sellable", "pair_id"
        )
    )


def _layout_from_seats(seats) -> Layout:
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
    """The auditorium's current layout as text, ready to edit and give back to layout_replace."""
    return render(layout_of(auditorium))


def _in_use(seat_ids: list[int], now) -> list[int]:
    """Which of these seats have a ticket (of any order) or a live claim (held or sold)."""
    if not seat_ids:
        return []
    ticketed = set(Ticket.objects.filter(seat_id__in=seat_ids).values_list("seat_id", flat=True))
    claimed = set(
        SeatClaim.objects.filter(seat_id__in=seat_ids)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .values_list("seat_id", flat=True)
    )
    return sorted(ticketed | claimed)


def _refuse_removing(seats: list[Seat], layout_seats: dict, now) -> None:
    gone = [seat for seat in seats if (seat.row_label, seat.number) not in layout_seats]
    busy = set(_in_use([seat.pk for seat in gone], now))
    if not busy:
        return
    labels = [seat.label for seat in gone if seat.pk in busy]
    shown = ", ".join(islice(labels, 12))
    if len(labels) > 12:
        shown += f" and {len(labels) - 12} more"
    raise ValidationError(
        "The new layout leaves out seats that have tickets or are held: %(seats)s. "
        "A seat that was sold is never deleted: keep it in the layout, and mark it blocked "
        "(x) if it should not be sold again.",
        code="seats_in_use",
        params={"seats": shown},
    )


def layout_check(*, auditorium: Auditorium, text: str) -> Layout:
    """Parse `text` and check it could replace the auditorium's layout now, without writing.

    For forms, to show problems next to the field; `layout_replace` checks again under lock.
    """
    layout = parse(text)
    if not layout.seats:
        raise ValidationError("A layout needs at least one seat.", code="empty_layout")
    if auditorium.pk:
        wanted = {seat.key: seat for seat in layout.seats}
        current = list(auditorium.seats.only("id", "row_label", "number"))
        _refuse_removing(current, wanted, timezone.now())
    return layout


@transaction.atomic
def layout_replace(*, auditorium: Auditorium, text: str) -> LayoutChange:
    """Make the auditorium's seats match `text`.

    A seat is the same seat when its label (row and number) is: it keeps its id, so holds,
    claims and tickets on it stay valid, and only its position, type or sellability change.
    Seats the text leaves out are deleted, unless one has tickets or a live claim: then nothing
    changes and ValidationError says which seats.
    """
    layout = parse(text)
    if not layout.seats:
        raise ValidationError("A layout needs at least one seat.", code="empty_layout")
    # Lock the auditorium's seats: concurrent edits queue up, and a claim being made on a seat
    # (its foreign key check locks the seat row) waits until we are done.
    Auditorium.objects.select_for_update().filter(pk=auditorium.pk).exists()
    current = list(Seat.objects.select_for_update().filter(auditorium=auditorium).order_by("pk"))
    if _layout_from_seats(current) == layout:
        return LayoutChange()

    now = timezone.now()
    wanted = {seat.key: seat for seat in layout.seats}
    _refuse_removing(current, wanted, now)
    existing = {(seat.row_label, seat.number): seat for seat in current}
    gone = [seat for key, seat in existing.items() if key not in wanted]
    kept = [seat for key, seat in existing.items() if key in wanted]

    # Pairs are rebuilt from the layout at the end; clearing them first keeps the one-to-one
    # constraint out of the way while seats move.
    pairs_before = {(seat.row_label, seat.number): seat.pair_id for seat in current}
    Seat.objects.filter(auditorium=auditorium, pair__isnull=False).update(pair=None)
    for seat in kept:
        seat.pair_id = None
    if gone:
        _clear_dead_claims([seat.pk for seat in gone], now)
        Seat.objects.filter(pk__in=[seat.pk for seat in gone]).delete()

    # Moving seats in place could swap two positions within one UPDATE, which a unique
    # constraint checked row by row refuses: park the movers beyond the map first.
    def spec_of(seat: Seat) -> SeatSpec:
        return wanted[seat.row_label, seat.number]

    moving = [seat for seat in kept if (seat.x, seat.y) != (spec_of(seat).x, spec_of(seat).y)]
    if moving:
        parking = max([seat.y for seat in current] + [spec.y for spec in layout.seats]) + 1
        for seat in moving:
            seat.x, seat.y = spec_of(seat).x, parking + spec_of(seat).y
        Seat.objects.bulk_update(moving, ["x", "y"])
    updated = []
    for seat in kept:
        spec = spec_of(seat)
        fields = (spec.x, spec.y, spec.seat_type, spec.is_sellable)
        if (seat.x, seat.y, seat.seat_type, seat.is_sellable) != fields:
            seat.x, seat.y, seat.seat_type, seat.is_sellable = fields
            updated.append(seat)
    if updated:
        Seat.objects.bulk_update(updated, ["x", "y", "seat_type", "is_sellable"])

    new = [
        Seat(
            auditorium=auditorium,
            row_label=spec.row_label,
            number=spec.number,
            x=spec.x,
            y=spec.y,
            seat_type=spec.seat_type,
            is_sellable=spec.is_sellable,
        )
        for key, spec in wanted.items()
        if key not in existing
    ]
    Seat.objects.bulk_create(new)
    by_key = {(seat.row_label, seat.number): seat for seat in kept + new}
    if any(seat.pk is None for seat in new):  # a backend that does not return ids
        by_key = {(s.row_label, s.number): s for s in Seat.objects.filter(auditorium=auditorium)}

    paired = []
    for spec in layout.seats:
        if spec.pair:
            seat = by_key[spec.key]
            seat.pair_id = by_key[spec.pair].pk
            paired.append(seat)
    if paired:
        Seat.objects.bulk_update(paired, ["pair"])
    changed = {(seat.row_label, seat.number) for seat in updated} | {
        (seat.row_label, seat.number)
        for seat in kept
        if pairs_before[seat.row_label, seat.number] != by_key[seat.row_label, seat.number].pair_id
    }
    from ticketing.inventory import seatmap

    transaction.on_commit(lambda: seatmap.layout_changed(auditorium.pk))
    return LayoutChange(created=len(new), updated=len(changed), deleted=len(gone))


def _clear_dead_claims(seat_ids: list[int], now) -> None:
    """Dead claims (past their time, not yet swept) still point at seats; sweep them first."""
    screenings = set(
        SeatClaim.objects.filter(seat_id__in=seat_ids, expires_at__lte=now).values_list(
            "screening_id", flat=True
        )
    )
    for screening_id in screenings:
        claims.clear_dead(screening_id, seat_ids, now)
