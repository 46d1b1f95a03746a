"""Choosing the best seats together for a party of n: a pure function over the layout.

Rows are ranked by how close they are to the sweet spot (about two thirds of the way back);
within a row, blocks nearer the centre line win. A block that would leave a single free seat
stranded between it and a taken seat or an aisle is used only when nothing else fits.
Wheelchair spaces, companion seats and couple seats are chosen on purpose, never handed out here.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from ticketing.screenings.models import SeatType

AUTO_SEAT_TYPES = {SeatType.STANDARD, SeatType.PREMIUM}


@dataclass(frozen=True)
class LayoutSeat:
    id: int
    x: int
    y: int
    seat_type: str
    is_sellable: bool


def choose(seats: Iterable[LayoutSeat], taken: set[int], quantity: int) -> list[int] | None:
    """The ids of the best `quantity` adjacent free seats, or None if no row has room."""
    seats = list(seats)
    if not seats or quantity < 1:
        return None
    rows: dict[int, list[LayoutSeat]] = defaultdict(list)
    for seat in seats:
        rows[seat.y].append(seat)
    min_y, max_y = min(rows), max(rows)
    min_x = min(s.x for s in seats)
    max_x = max(s.x for s in seats)
    centre_x = (min_x + max_x) / 2
    sweet_y = min_y + (max_y - min_y) * 2 / 3

    best: tuple[tuple, list[int]] | None = None
    for y, row in rows.items():
        row.sort(key=lambda s: s.x)
        for run in _free_runs(row, taken):
            if len(run) < quantity:
                continue
            for start in range(len(run) - quantity + 1):
                block = run[start : start + quantity]
                left, right = start, len(run) - start - quantity
                strands = (left == 1) + (right == 1)
                block_centre = (block[0].x + block[-1].x) / 2
                score = (strands, abs(y - sweet_y) + abs(block_centre - centre_x) * 0.35, y)
                if best is None or score < best[0]:
                    best = (score, [s.id for s in block])
    return best[1] if best else None


def _free_runs(row: list[LayoutSeat], taken: set[int]) -> list[list[LayoutSeat]]:
    """Maximal runs of side-by-side free seats; a gap in x (an aisle) or a taken seat ends one."""
    runs: list[list[LayoutSeat]] = []
    current: list[LayoutSeat] = []
    previous_x: int | None = None
    for seat in row:
        usable = seat.is_sellable and seat.seat_type in AUTO_SEAT_TYPES and seat.id not in taken
        adjacent = previous_x is not None and seat.x == previous_x + 1
        if usable and (adjacent or not current):
            current.append(seat)
        else:
            if current:
                runs.append(current)
            current = [seat] if usable else []
        previous_x = seat.x
    if current:
        runs.append(current)
    return runs
