"""`best_available.choose`: the best seats together for a party, as a pure function.

No database: layouts are built in memory. Seat ids are `100 * y + x` so a failure reads as a
position (row y, column x).
"""

from __future__ import annotations

from ticketing.inventory.best_available import LayoutSeat, choose
from ticketing.screenings.models import SeatType


def sid(x: int, y: int) -> int:
    return 100 * y + x


def row(y: int, xs, seat_type: str = SeatType.STANDARD, sellable: bool = True) -> list[LayoutSeat]:
    return [LayoutSeat(sid(x, y), x, y, seat_type, sellable) for x in xs]


def hall(rows: int, per_row: int) -> list[LayoutSeat]:
    return [seat for y in range(rows) for seat in row(y, range(per_row))]


def positions(ids) -> list[tuple[int, int]]:
    return [(i % 100, i // 100) for i in ids]


def assert_side_by_side(ids) -> None:
    xs = sorted(x for x, _ in positions(ids))
    ys = {y for _, y in positions(ids)}
    assert len(ys) == 1, f"{ids} span rows {ys}"
    assert xs == list(range(xs[0], xs[0] + len(xs))), f"{ids} are not side by side"


def test_an_empty_hall_gives_the_centre_of_the_sweet_spot_row():
    # Rows 0..5: the sweet spot is two thirds of the way back, row 3; the centre line is x 4.5.
    chosen = choose(hall(6, 10), set(), 2)
    assert sorted(chosen) == [sid(4, 3), sid(5, 3)]


def test_an_odd_party_sits_as_close_to_the_centre_line_as_it_can():
    chosen = choose(hall(6, 10), set(), 3)
    assert_side_by_side(chosen)
    xs = sorted(x for x, _ in positions(chosen))
    assert abs((xs[0] + xs[-1]) / 2 - 4.5) == 0.5
    assert {y for _, y in positions(chosen)} == {3}


def test_when_the_sweet_spot_row_is_full_the_next_closest_row_is_used():
    seats = hall(6, 10)
    taken = {s.id for s in seats if s.y == 3}
    chosen = choose(seats, taken, 2)
    assert {y for _, y in positions(chosen)} in ({4}, {2})  # one row from the sweet spot
    assert not set(chosen) & taken


def test_a_block_nearer_the_centre_beats_one_at_the_edge_of_the_same_row():
    seats = row(0, range(10))
    taken = {sid(x, 0) for x in (3, 4, 5, 6)}  # only the edges are free: 0-2 and 7-9
    chosen = choose(seats, taken, 2)
    # Both edges are as far from the centre as each other; never a block that spans the taken seats.
    assert sorted(chosen) in ([sid(1, 0), sid(2, 0)], [sid(7, 0), sid(8, 0)])


def test_never_leaves_a_single_seat_stranded_when_another_choice_exists():
    # Five free seats x 0..4, a party of two: the centre blocks (1-2, 2-3) would strand one seat.
    chosen = choose(row(0, range(5)), set(), 2)
    assert sorted(chosen) in ([sid(0, 0), sid(1, 0)], [sid(3, 0), sid(4, 0)])


def test_a_seat_next_to_a_taken_seat_is_not_stranded_either():
    # x 0..9 with x 5 taken: free runs 0-4 and 6-9. A party of 3 at 6-8 would strand x 9 and
    # one at 1-3 would strand x 0; plenty of blocks strand nothing.
    chosen = choose(row(0, range(10)), {sid(5, 0)}, 3)
    assert_side_by_side(chosen)
    free = [x for x in range(10) if x != 5 and sid(x, 0) not in chosen]
    runs = [[free[0]]]
    for x in free[1:]:
        if x == runs[-1][-1] + 1:
            runs[-1].append(x)
        else:
            runs.append([x])
    assert all(len(run) != 1 for run in runs), f"{positions(chosen)} strands a seat: {runs}"


def test_a_stranding_block_is_still_given_when_nothing_else_fits():
    # Three seats, a party of two: one seat is bound to be left alone.
    chosen = choose(row(0, range(3)), set(), 2)
    assert chosen is not None
    assert_side_by_side(chosen)


def test_an_aisle_splits_a_row():
    # x 0..3, aisle at x 4, x 5..8: eight seats in the row but never five together.
    seats = row(0, [0, 1, 2, 3, 5, 6, 7, 8])
    assert choose(seats, set(), 5) is None
    chosen = choose(seats, set(), 4)
    assert sorted(chosen) in ([sid(x, 0) for x in (0, 1, 2, 3)], [sid(x, 0) for x in (5, 6, 7, 8)])


def test_a_party_is_never_seated_across_an_aisle():
    # Centre line x 4; the seats either side of the aisle (3 and 5) are the nearest to it,
    # but a pair must take two neighbours on one side.
    seats = row(0, [0, 1, 2, 3, 5, 6, 7, 8])
    chosen = choose(seats, set(), 2)
    assert_side_by_side(chosen)


def test_wheelchair_companion_and_couple_seats_are_never_handed_out():
    special = (
        row(0, [3], SeatType.WHEELCHAIR)
        + row(0, [4], SeatType.COMPANION)
        + row(0, [5, 6], SeatType.COUPLE)
    )
    standard = row(0, [0, 1, 2]) + row(0, [7, 8, 9])
    seats = special + standard
    special_ids = {s.id for s in special}
    for quantity in (1, 2, 3):
        chosen = choose(seats, set(), quantity)
        assert chosen is not None
        assert not set(chosen) & special_ids
        assert_side_by_side(chosen)
    assert choose(seats, set(), 4) is None  # the special seats do not join the two runs of 3
    assert choose(special, set(), 1) is None


def test_premium_seats_are_handed_out_like_standard_ones():
    seats = row(0, range(4), SeatType.PREMIUM)
    assert len(choose(seats, set(), 4)) == 4


def test_blocked_seats_are_never_chosen():
    seats = row(0, [0, 1, 2]) + row(0, [3], sellable=False) + row(0, [4, 5, 6])
    assert choose(seats, set(), 4) is None
    assert sid(3, 0) not in choose(seats, set(), 3)


def test_no_row_with_room_gives_none():
    seats = hall(3, 4)
    assert choose(seats, set(), 5) is None  # wider than any row
    taken = {sid(1, y) for y in range(3)} | {sid(2, y) for y in range(3)}
    assert choose(seats, taken, 2) is None  # each row has two free seats, but apart
    assert choose(seats, {s.id for s in seats}, 1) is None  # sold out
    assert choose([], set(), 1) is None


def test_taken_seats_are_never_chosen():
    seats = hall(5, 10)
    taken: set[int] = set()
    for _ in range(12):
        chosen = choose(seats, taken, 4)
        if chosen is None:
            break
        assert not set(chosen) & taken
        assert_side_by_side(chosen)
        taken |= set(chosen)
    assert {y for _, y in positions(taken)} == set(range(5))  # every row had room for one
