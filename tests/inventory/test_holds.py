"""Holding seats, one request at a time: what a hold takes, what it refuses, how it dies.

The fixture room has rows A-E (y 0-4) of ten seats (x 0-9), so "C5" is x 4, y 2.
Races between connections are in test_hold_races.py.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from tests import factories
from tests.factories import hold, live_claims
from ticketing import errors
from ticketing.inventory import seatmap
from ticketing.inventory.holds import hold_create, hold_release
from ticketing.inventory.models import Hold, HoldStatus, SeatClaim
from ticketing.orders.services import order_create
from ticketing.screenings.models import Seat, SeatType

pytestmark = pytest.mark.django_db


def expire(the_hold: Hold, ago: timedelta = timedelta(seconds=1)) -> None:
    """Let a hold run out, as the clock would: the hold and its claims share one expiry."""
    past = timezone.now() - ago
    Hold.objects.filter(pk=the_hold.pk).update(expires_at=past)
    SeatClaim.objects.filter(hold_id=the_hold.pk).update(expires_at=past)


def statuses(screening) -> dict[int, str]:
    return {seat["id"]: seat["status"] for seat in seatmap.build(screening)["seats"]}


def assert_nothing_written() -> None:
    assert Hold.objects.count() == 0
    assert SeatClaim.objects.count() == 0


def make_couple(room, left: str, right: str) -> tuple[Seat, Seat]:
    a, b = (Seat.objects.get(pk=pk) for pk in factories.seats(room, left, right))
    Seat.objects.filter(pk__in=[a.pk, b.pk]).update(seat_type=SeatType.COUPLE)
    Seat.objects.filter(pk=a.pk).update(pair=b)
    Seat.objects.filter(pk=b.pk).update(pair=a)
    return a, b


# --- what a hold takes ----------------------------------------------------------------------


def test_a_hold_claims_every_seat_it_asked_for_until_the_cinemas_hold_time(screening):
    before = timezone.now()
    h = hold(screening, "C4", "C5", "C6")
    minutes = screening.auditorium.cinema.hold_minutes
    assert h.status == HoldStatus.ACTIVE
    assert (
        before + timedelta(minutes=minutes)
        <= h.expires_at
        <= timezone.now() + timedelta(minutes=minutes)
    )
    claims = SeatClaim.objects.filter(hold=h)
    assert sorted(c.seat_id for c in claims) == sorted(
        factories.seats(screening.auditorium, "C4", "C5", "C6")
    )
    assert {c.expires_at for c in claims} == {h.expires_at}
    assert all(c.order_id is None for c in claims)
    seats = statuses(screening)
    assert [seats[s] for s in factories.seats(screening.auditorium, "C4", "C5", "C6")] == [
        "held"
    ] * 3


def test_a_hold_is_refused_whole_when_one_seat_is_taken_and_the_answer_names_it(screening):
    first = hold(screening, "B5", session="first")
    with pytest.raises(errors.SeatUnavailable) as exc:
        hold(screening, "B4", "B5", "B6", session="second")
    assert exc.value.details["seats"] == factories.seats(screening.auditorium, "B5")
    assert Hold.objects.get() == first  # the refused hold left no row behind
    assert [c.seat_id for c in live_claims(screening)] == factories.seats(
        screening.auditorium, "B5"
    )


def test_a_seat_held_by_a_live_hold_cannot_be_held_again(screening):
    hold(screening, "D1")
    with pytest.raises(errors.SeatUnavailable):
        hold(screening, "D1", session="other")
    assert SeatClaim.objects.count() == 1


# --- expiry is lazy: dead everywhere without a sweep ----------------------------------------


def test_an_expired_hold_shows_its_seats_available_without_any_sweep(screening):
    h = hold(screening, "E1", "E2")
    e1, e2 = factories.seats(screening.auditorium, "E1", "E2")
    assert statuses(screening)[e1] == "held"
    expire(h)
    seats = statuses(screening)
    assert (seats[e1], seats[e2]) == ("available", "available")
    assert seatmap.build(screening)["counts"]["held"] == 0
    assert SeatClaim.objects.count() == 2  # still there: nothing swept them


def test_an_expired_holds_seats_can_be_held_by_someone_else_without_any_sweep(screening):
    old = hold(screening, "E1", "E2", session="slow")
    expire(old)
    new = hold(screening, "E2", "E3", session="quick")
    claims = live_claims(screening)
    assert sorted(c.seat_id for c in claims) == sorted(
        factories.seats(screening.auditorium, "E2", "E3")
    )
    assert {c.hold_id for c in claims} == {new.pk}
    # The dead claim on E2 was replaced, not duplicated; E1's dead claim waits for the sweep.
    assert SeatClaim.objects.filter(hold=old).count() == 1
    assert SeatClaim.objects.count() == 3


def test_a_full_house_of_expired_holds_is_free_again_for_best_available(screening):
    rows = [
        hold_create(
            screening_id=screening.pk,
            seat_ids=[s.pk for s in screening.auditorium.seats.filter(y=y)],
            buyer_key=f"row-{y}",
        )
        for y in range(5)
    ]
    with pytest.raises(errors.NoSeatsTogether):
        hold_create(screening_id=screening.pk, quantity=3, buyer_key="late")
    for h in rows:
        expire(h)
    chosen = hold_create(screening_id=screening.pk, quantity=3, buyer_key="late")
    assert SeatClaim.objects.filter(hold=chosen).count() == 3
    assert len(live_claims(screening)) == 3


def test_an_expired_hold_cannot_be_released_into_someone_elses_seats(screening):
    old = hold(screening, "A1", session="slow")
    expire(old)
    new = hold(screening, "A1", session="quick")
    hold_release(hold=old)
    [a1] = factories.seats(screening.auditorium, "A1")
    assert [c.hold_id for c in live_claims(screening, seat_id=a1)] == [new.pk]


# --- releasing -------------------------------------------------------------------------------


def test_releasing_a_hold_puts_its_seats_back_on_sale_at_once(screening):
    h = hold(screening, "C1", "C2")
    hold_release(hold=h)
    assert SeatClaim.objects.count() == 0
    assert Hold.objects.get().status == HoldStatus.RELEASED
    assert all(s == "available" for s in statuses(screening).values())
    hold(screening, "C1", "C2", session="next")  # and someone else may take them


def test_releasing_twice_is_harmless(screening):
    h = hold(screening, "C1")
    hold_release(hold=h)
    hold_release(hold=h)
    assert Hold.objects.get().status == HoldStatus.RELEASED
    assert SeatClaim.objects.count() == 0


def test_a_hold_that_became_an_order_cannot_be_released(screening):
    h = hold(screening, "C1")
    [c1] = factories.seats(screening.auditorium, "C1")
    order = order_create(
        hold_id=h.pk,
        customer_email="a@example.com",
        customer_name="A",
        tickets=[(c1, "adult")],
        buyer_key=factories.BUYER,
        actor="test",
    )
    with pytest.raises(errors.HoldNotActive):
        hold_release(hold=h)
    assert SeatClaim.objects.get().order_id == order.pk


# --- couple seats ----------------------------------------------------------------------------


@pytest.mark.parametrize("asked", ["A9", "A10"])
def test_holding_one_half_of_a_couple_seat_holds_its_pair_too(screening, asked):
    a9, a10 = make_couple(screening.auditorium, "A9", "A10")
    h = hold(screening, asked)
    assert sorted(SeatClaim.objects.filter(hold=h).values_list("seat_id", flat=True)) == sorted(
        [a9.pk, a10.pk]
    )


def test_a_couple_seat_recorded_on_one_side_only_is_still_sold_as_a_pair(screening):
    a9, a10 = (Seat.objects.get(pk=pk) for pk in factories.seats(screening.auditorium, "A9", "A10"))
    Seat.objects.filter(pk__in=[a9.pk, a10.pk]).update(seat_type=SeatType.COUPLE)
    Seat.objects.filter(pk=a9.pk).update(pair=a10)  # A10 does not point back
    h = hold(screening, "A10")
    assert sorted(SeatClaim.objects.filter(hold=h).values_list("seat_id", flat=True)) == sorted(
        [a9.pk, a10.pk]
    )


def test_holding_a_couple_seat_whose_other_half_is_taken_is_refused_naming_it(screening):
    a9, a10 = make_couple(screening.auditorium, "A9", "A10")
    # Someone holds A10, and so A9 with it: asking for A9 is refused, naming both halves.
    first = hold(screening, "A10", session="first")
    with pytest.raises(errors.SeatUnavailable) as exc:
        hold(screening, "A9", session="second")
    assert sorted(exc.value.details["seats"]) == sorted([a9.pk, a10.pk])
    assert {c.hold_id for c in SeatClaim.objects.all()} == {first.pk}


def test_a_couple_seat_whose_other_half_is_blocked_is_not_for_sale(screening):
    _a9, a10 = make_couple(screening.auditorium, "A9", "A10")
    Seat.objects.filter(pk=a10.pk).update(is_sellable=False)
    with pytest.raises(errors.SeatsBlocked) as exc:
        hold(screening, "A9")
    assert exc.value.details["seats"] == [a10.pk]
    assert_nothing_written()


def test_a_couple_seat_counts_both_halves_against_the_seat_limit(screening, settings):
    settings.MARQUEE = {**settings.MARQUEE, "MAX_SEATS_PER_ORDER": 2}
    make_couple(screening.auditorium, "A9", "A10")
    with pytest.raises(errors.TooManySeats):
        hold(screening, "A1", "A9")
    assert_nothing_written()


# --- what a hold refuses, writing nothing -----------------------------------------------------


def test_a_blocked_seat_is_refused(screening):
    [b3] = factories.seats(screening.auditorium, "B3")
    Seat.objects.filter(pk=b3).update(is_sellable=False)
    with pytest.raises(errors.SeatsBlocked) as exc:
        hold(screening, "B2", "B3")
    assert exc.value.details["seats"] == [b3]
    assert statuses(screening)[b3] == "blocked"
    assert_nothing_written()


def test_a_seat_of_another_auditorium_is_refused(screening):
    other_room = factories.auditorium(screening.auditorium.cinema, rows=1, per_row=3)
    [foreign] = factories.seats(other_room, "A1")
    [mine] = factories.seats(screening.auditorium, "A1")
    with pytest.raises(errors.UnknownSeats) as exc:
        hold_create(screening_id=screening.pk, seat_ids=[mine, foreign], buyer_key="s")
    assert exc.value.details["seats"] == [foreign]
    assert_nothing_written()


def test_a_seat_asked_for_twice_is_refused(screening):
    [a1] = factories.seats(screening.auditorium, "A1")
    with pytest.raises(errors.DuplicateSeats) as exc:
        hold_create(screening_id=screening.pk, seat_ids=[a1, a1], buyer_key="s")
    assert exc.value.details["seats"] == [a1]
    assert_nothing_written()


def test_more_seats_than_one_order_may_have_are_refused(screening):
    limit = settings.MARQUEE["MAX_SEATS_PER_ORDER"]
    seat_ids = [s.pk for s in screening.auditorium.seats.all()][: limit + 1]
    with pytest.raises(errors.TooManySeats) as exc:
        hold_create(screening_id=screening.pk, seat_ids=seat_ids, buyer_key="s")
    assert exc.value.details == {"limit": limit, "requested": limit + 1}
    with pytest.raises(errors.TooManySeats):
        hold_create(screening_id=screening.pk, quantity=limit + 1, buyer_key="s")
    assert_nothing_written()


def test_exactly_the_limit_is_allowed(screening):
    limit = settings.MARQUEE["MAX_SEATS_PER_ORDER"]
    seat_ids = [s.pk for s in screening.auditorium.seats.all()][:limit]
    h = hold_create(screening_id=screening.pk, seat_ids=seat_ids, buyer_key="s")
    assert SeatClaim.objects.filter(hold=h).count() == limit


@pytest.mark.parametrize("request_", [{"seat_ids": []}, {"quantity": 0}, {}])
def test_asking_for_no_seat_is_refused(screening, request_):
    with pytest.raises(errors.InvalidRequest):
        hold_create(screening_id=screening.pk, buyer_key="s", **request_)
    assert_nothing_written()


def test_an_unknown_screening_is_refused(screening):
    with pytest.raises(errors.ScreeningNotFound):
        hold_create(screening_id=screening.pk + 1000, quantity=1, buyer_key="s")
    assert_nothing_written()


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"status": "cancelled"}, "cancelled"),
        ({"starts_at": -timedelta(minutes=5)}, "started"),
        ({"sales_open_at": timedelta(hours=1)}, "outside_sales_window"),
        ({"sales_close_at": -timedelta(minutes=1)}, "outside_sales_window"),
    ],
    ids=["cancelled", "started", "sales-not-open-yet", "sales-closed"],
)
def test_a_screening_not_on_sale_is_refused(auditorium, change, reason):
    now = timezone.now()
    fields = {k: (now + v if isinstance(v, timedelta) else v) for k, v in change.items()}
    starts_in = fields.pop("starts_at", now + timedelta(days=1)) - now
    screening = factories.screening(auditorium, starts_in=starts_in, **fields)
    [a1] = factories.seats(auditorium, "A1")
    for request_ in ({"seat_ids": [a1]}, {"quantity": 2}):
        with pytest.raises(errors.ScreeningNotOnSale) as exc:
            hold_create(screening_id=screening.pk, buyer_key="s", **request_)
        assert exc.value.details["reason"] == reason
    assert_nothing_written()


# --- best available, through the service -----------------------------------------------------


def test_best_available_holds_seats_together_in_the_sweet_spot(screening):
    h = hold_create(screening_id=screening.pk, quantity=4, buyer_key="s")
    seats = Seat.objects.filter(pk__in=SeatClaim.objects.filter(hold=h).values("seat_id"))
    assert {s.y for s in seats} == {3}  # rows 0-4: two thirds back is y 2.67, row D
    xs = sorted(s.x for s in seats)
    assert xs == list(range(xs[0], xs[0] + 4))
    assert sorted(h.seat_ids) == sorted(s.pk for s in seats)


def test_best_available_with_no_room_together_is_refused_and_writes_nothing(screening):
    # Take every other seat of every row: plenty free, never two together.
    checkerboard = [s.pk for s in screening.auditorium.seats.all() if s.x % 2 == 0]
    for start in range(0, len(checkerboard), 10):
        hold_create(  # one buyer each: a buyer holds at most 10 seats of a screening
            screening_id=screening.pk,
            seat_ids=checkerboard[start : start + 10],
            buyer_key=f"s{start}",
        )
    holds, claims = Hold.objects.count(), SeatClaim.objects.count()
    with pytest.raises(errors.NoSeatsTogether) as exc:
        hold_create(screening_id=screening.pk, quantity=2, buyer_key="t")
    assert exc.value.details == {"requested": 2}
    assert (Hold.objects.count(), SeatClaim.objects.count()) == (holds, claims)


def test_best_available_never_hands_out_wheelchair_or_couple_seats(screening):
    room = screening.auditorium
    ordinary = {s.pk for s in room.seats.filter(y=0)}
    Seat.objects.filter(auditorium=room).exclude(y=0).update(seat_type=SeatType.WHEELCHAIR)
    h = hold_create(screening_id=screening.pk, quantity=2, buyer_key="s")
    assert set(SeatClaim.objects.filter(hold=h).values_list("seat_id", flat=True)) <= ordinary
