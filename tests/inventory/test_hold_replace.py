"""Choosing again: a buyer's new hold replaces what they held on the screening, or, if the new
seats cannot be had, what they held stays theirs. A double click ends with one hold."""

from __future__ import annotations

import pytest

from tests import factories
from tests.concurrency import run_many, unexpected, winners
from ticketing import errors
from ticketing.inventory.holds import hold_replace
from ticketing.inventory.models import Hold, HoldStatus, SeatClaim


def claimed_by(hold: Hold) -> set[int]:
    return set(SeatClaim.objects.filter(hold_id=hold.pk).values_list("seat_id", flat=True))


def active_holds(buyer_key: str) -> list[Hold]:
    return list(Hold.objects.filter(buyer_key=buyer_key, status=HoldStatus.ACTIVE))


@pytest.mark.django_db
def test_picking_again_releases_the_old_seats_and_holds_the_new_ones(screening):
    old = factories.held(screening, "A1", "A2", buyer_key="me")
    new = hold_replace(
        screening_id=screening.pk,
        seat_ids=factories.seats(screening.auditorium, "A2", "A3"),
        buyer_key="me",
    )
    old.refresh_from_db()
    assert old.status == HoldStatus.RELEASED
    assert claimed_by(old) == set()
    assert claimed_by(new) == set(factories.seats(screening.auditorium, "A2", "A3"))


@pytest.mark.django_db
def test_when_the_new_seats_are_taken_the_buyer_keeps_the_old_ones(screening):
    old = factories.held(screening, "B1", "B2", buyer_key="me")
    factories.held(screening, "B5", buyer_key="someone-else")
    with pytest.raises(errors.SeatUnavailable):
        hold_replace(
            screening_id=screening.pk,
            seat_ids=factories.seats(screening.auditorium, "B1", "B2", "B5"),
            buyer_key="me",
        )
    old.refresh_from_db()
    assert old.status == HoldStatus.ACTIVE
    assert claimed_by(old) == set(factories.seats(screening.auditorium, "B1", "B2"))
    assert [h.pk for h in active_holds("me")] == [old.pk]


@pytest.mark.django_db
def test_asking_again_for_exactly_the_seats_held_answers_the_same_hold(screening):
    old = factories.held(screening, "C1", "C2", buyer_key="me")
    again = hold_replace(
        screening_id=screening.pk,
        seat_ids=factories.seats(screening.auditorium, "C2", "C1"),
        buyer_key="me",
    )
    assert again.pk == old.pk
    assert claimed_by(again) == set(factories.seats(screening.auditorium, "C1", "C2"))


@pytest.mark.django_db
def test_another_buyers_hold_is_left_alone(screening):
    theirs = factories.held(screening, "D1", buyer_key="them")
    hold_replace(screening_id=screening.pk, quantity=2, buyer_key="me")
    theirs.refresh_from_db()
    assert theirs.status == HoldStatus.ACTIVE


@pytest.mark.django_db
def test_a_hold_without_an_owner_is_refused(screening):
    with pytest.raises(errors.InvalidRequest):
        hold_replace(screening_id=screening.pk, quantity=1, buyer_key="")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("by", ["seats", "best"])
def test_a_double_click_ends_with_one_hold_of_the_seats_asked_for(screening, by):
    factories.held(screening, "E1", "E2", buyer_key="clicker")
    seats = factories.seats(screening.auditorium, "E5", "E6")
    ask = {"seat_ids": seats} if by == "seats" else {"quantity": 2}

    outcomes = run_many(
        4, lambda _i: hold_replace(screening_id=screening.pk, buyer_key="clicker", **ask)
    )

    assert unexpected(outcomes) == []
    assert len(winners(outcomes)) == 4
    live = active_holds("clicker")
    assert len(live) == 1
    assert len(claimed_by(live[0])) == 2
    if by == "seats":
        assert claimed_by(live[0]) == set(seats)
    live_claims = SeatClaim.objects.filter(screening=screening, hold__buyer_key="clicker")
    assert live_claims.filter(hold__status=HoldStatus.ACTIVE).count() == 2
