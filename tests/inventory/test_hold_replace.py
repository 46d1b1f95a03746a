"""Choosing again: a buyer's new hold replaces their old one, or the old one stays."""

from __future__ import annotations

import pytest

from tests import factories
from ticketing import errors
from ticketing.inventory.holds import hold_replace
from ticketing.inventory.models import Hold, HoldStatus, SeatClaim

pytestmark = pytest.mark.django_db


def claimed_by(hold: Hold) -> set[int]:
    return set(SeatClaim.objects.filter(hold_id=hold.pk).values_list("seat_id", flat=True))


def test_picking_again_releases_the_old_seats_and_holds_the_new_ones(screening):
    old = factories.held(screening, "A1", "A2", session_key="me")
    new = hold_replace(
        previous=old,
        screening_id=screening.pk,
        seat_ids=factories.seats(screening.auditorium, "A2", "A3"),
        session_key="me",
    )
    old.refresh_from_db()
    assert old.status == HoldStatus.RELEASED
    assert claimed_by(old) == set()
    assert claimed_by(new) == set(factories.seats(screening.auditorium, "A2", "A3"))


def test_when_the_new_seats_are_taken_the_buyer_keeps_the_old_ones(screening):
    old = factories.held(screening, "B1", "B2", session_key="me")
    factories.held(screening, "B5", session_key="someone-else")
    with pytest.raises(errors.SeatUnavailable):
        hold_replace(
            previous=old,
            screening_id=screening.pk,
            seat_ids=factories.seats(screening.auditorium, "B1", "B2", "B5"),
            session_key="me",
        )
    old.refresh_from_db()
    assert old.status == HoldStatus.ACTIVE
    assert claimed_by(old) == set(factories.seats(screening.auditorium, "B1", "B2"))
    assert Hold.objects.filter(session_key="me").count() == 1


def test_with_no_previous_hold_it_is_a_plain_hold(screening):
    hold = hold_replace(previous=None, screening_id=screening.pk, quantity=2, session_key="me")
    assert len(claimed_by(hold)) == 2
