"""Invariants 1 and 2 under real concurrency: buyers racing on parallel PostgreSQL connections.

A seat of a screening has at most one live claim, and a hold gets every seat it asked for or
none. Each test releases its threads together (tests/concurrency.py) and then checks the rows
the database was left with, not what the threads said.
"""

from __future__ import annotations

import random
from collections import Counter

import pytest
from django.utils import timezone

from tests import factories
from tests.concurrency import run_many, unexpected, winners
from tests.factories import live_claims
from ticketing import errors
from ticketing.inventory.best_available import LayoutSeat, choose
from ticketing.inventory.holds import hold_create
from ticketing.inventory.models import Hold, SeatClaim
from ticketing.screenings.models import Seat, SeatType

pytestmark = pytest.mark.django_db(transaction=True)


def seats_of(hold: Hold) -> set[int]:
    return set(SeatClaim.objects.filter(hold_id=hold.pk).values_list("seat_id", flat=True))


def test_sixteen_buyers_racing_for_one_seat_only_one_wins(screening):
    [seat] = factories.seats(screening.auditorium, "C5")

    outcomes = run_many(
        16,
        lambda i: hold_create(screening_id=screening.pk, seat_ids=[seat], buyer_key=f"buyer-{i}"),
    )

    assert unexpected(outcomes, errors.SeatUnavailable) == []
    [winner] = winners(outcomes)
    losers = [o.error for o in outcomes if not o.ok]
    assert len(losers) == 15
    assert all(e.details["seats"] == [seat] for e in losers)  # each answer names the seat
    assert SeatClaim.objects.count() == 1
    assert SeatClaim.objects.get().hold_id == winner.pk
    assert list(Hold.objects.values_list("pk", flat=True)) == [winner.pk]  # losers left no hold


def test_overlapping_multi_seat_holds_are_all_or_nothing_and_never_deadlock(screening):
    # Row C, seats 1-8: buyer i wants three neighbours starting at seat i % 6, asked for in a
    # shuffled order, so every pair of neighbouring buyers overlaps and they name the shared
    # seats in different orders (the recipe for a deadlock if claims were taken unordered).
    row = factories.seats(screening.auditorium, *(f"C{n}" for n in range(1, 9)))
    rng = random.Random(42)
    asks = []
    for i in range(16):
        wanted = row[i % 6 : i % 6 + 3]
        rng.shuffle(wanted)
        asks.append(wanted)

    outcomes = run_many(
        16,
        lambda i: hold_create(screening_id=screening.pk, seat_ids=asks[i], buyer_key=f"b{i}"),
    )

    # A deadlock or serialisation error would show up here, not pass as a lost race.
    assert unexpected(outcomes, errors.SeatUnavailable) == []
    won = winners(outcomes)
    assert won, "someone must get seats"
    claimed: Counter[int] = Counter()
    for outcome in outcomes:
        if outcome.ok:
            assert seats_of(outcome.result) == set(asks[outcome.index])  # every seat it asked for
            claimed.update(seats_of(outcome.result))
    assert all(count == 1 for count in claimed.values())  # no seat claimed twice
    assert SeatClaim.objects.count() == 3 * len(won)  # no loser left a claim behind
    assert Hold.objects.count() == len(won)  # nor a hold
    for outcome in outcomes:
        if not outcome.ok:
            taken = set(outcome.error.details["seats"])
            # The answer names seats it asked for that a winner has.
            assert taken and taken <= set(asks[outcome.index]) & set(claimed)


def test_racing_best_available_holds_never_share_a_seat_and_each_sits_together(cinema):
    room = factories.auditorium(cinema, rows=5, per_row=10)  # 50 seats
    screening = factories.screening(room)

    outcomes = run_many(
        20, lambda i: hold_create(screening_id=screening.pk, quantity=3, buyer_key=f"party-{i}")
    )

    # A party is turned away only because no row has three seats together any more: never
    # because the others were choosing at the same moment, and never with a database error.
    assert unexpected(outcomes, errors.NoSeatsTogether) == []
    won = winners(outcomes)
    assert len(won) >= 5  # at least one party per row
    positions = dict(
        (pk, (x, y))
        for pk, x, y in Seat.objects.filter(auditorium=room).values_list("id", "x", "y")
    )
    every_seat: list[int] = []
    for h in won:
        mine = seats_of(h)
        assert len(mine) == 3
        assert mine == set(h.seat_ids)
        xs = sorted(positions[s][0] for s in mine)
        assert len({positions[s][1] for s in mine}) == 1, "a party split over rows"
        assert xs == list(range(xs[0], xs[0] + 3)), "a party not side by side"
        every_seat += mine
    assert len(every_seat) == len(set(every_seat)) <= 50  # no seat double-held
    assert len(live_claims(screening)) == len(every_seat) == SeatClaim.objects.count()
    assert Hold.objects.count() == len(won)
    if len(won) < 20:
        layout = [
            LayoutSeat(*row)
            for row in Seat.objects.filter(auditorium=room).values_list(
                "id", "x", "y", "seat_type", "is_sellable"
            )
        ]
        assert choose(layout, set(every_seat), 3) is None, "a party was refused with room left"


def test_two_buyers_racing_for_the_two_halves_of_a_couple_seat_only_one_gets_the_pair(screening):
    a9, a10 = factories.seats(screening.auditorium, "A9", "A10")
    Seat.objects.filter(pk__in=[a9, a10]).update(seat_type=SeatType.COUPLE)
    Seat.objects.filter(pk=a9).update(pair_id=a10)
    Seat.objects.filter(pk=a10).update(pair_id=a9)
    halves = [a9, a10] * 4

    outcomes = run_many(
        8,
        lambda i: hold_create(screening_id=screening.pk, seat_ids=[halves[i]], buyer_key=f"c{i}"),
    )

    assert unexpected(outcomes, errors.SeatUnavailable) == []
    [winner] = winners(outcomes)
    assert seats_of(winner) == {a9, a10}
    assert SeatClaim.objects.count() == 2


def test_buyers_racing_for_the_seats_of_a_hold_that_just_died_only_one_gets_them(screening):
    seats = factories.seats(screening.auditorium, "B4", "B5")
    old = hold_create(screening_id=screening.pk, seat_ids=seats, buyer_key="slow")
    past = timezone.now()
    Hold.objects.filter(pk=old.pk).update(expires_at=past)
    SeatClaim.objects.filter(hold=old).update(expires_at=past)

    outcomes = run_many(
        12, lambda i: hold_create(screening_id=screening.pk, seat_ids=seats, buyer_key=f"n{i}")
    )

    assert unexpected(outcomes, errors.SeatUnavailable) == []
    [winner] = winners(outcomes)
    claims = live_claims(screening)
    assert sorted(c.seat_id for c in claims) == sorted(seats)
    assert {c.hold_id for c in claims} == {winner.pk}
    assert SeatClaim.objects.count() == 2  # the dead claims were replaced, not kept beside
