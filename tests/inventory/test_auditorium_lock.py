"""A screening's auditorium cannot change once a seat of it is held or sold (issue 9, hole 6;
invariant 12). The database refuses it, whoever writes: before, the admin could move a sold
screening to another room, its buyers' seats then belonging to nobody and every seat selling
again."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from tests import factories
from tests.concurrency import run_concurrently
from ticketing import errors
from ticketing.inventory import claims
from ticketing.inventory.holds import hold_create
from ticketing.inventory.models import SeatClaim
from ticketing.screenings.models import Screening


@pytest.fixture
def other_room(cinema):
    return factories.auditorium(cinema, rows=5, per_row=10, name="Screen two")


def move(screening, room) -> None:
    Screening.objects.filter(pk=screening.pk).update(auditorium=room)


@pytest.mark.django_db
def test_a_screening_with_a_held_seat_keeps_its_auditorium(screening, other_room):
    hold_create(
        screening_id=screening.pk,
        seat_ids=factories.seats(screening.auditorium, "A1"),
        buyer_key="b",
    )
    with pytest.raises(IntegrityError, match="marquee_auditorium_locked"), transaction.atomic():
        move(screening, other_room)
    assert Screening.objects.get(pk=screening.pk).auditorium_id == screening.auditorium_id


@pytest.mark.django_db
def test_a_screening_with_a_sold_seat_keeps_its_auditorium(screening, other_room):
    hold_create(
        screening_id=screening.pk,
        seat_ids=factories.seats(screening.auditorium, "A1"),
        buyer_key="b",
    )
    SeatClaim.objects.update(expires_at=None)  # as a paid order leaves it
    with pytest.raises(IntegrityError), transaction.atomic():
        move(screening, other_room)


@pytest.mark.django_db
def test_a_screening_with_no_live_claim_can_move(screening, other_room):
    hold_create(
        screening_id=screening.pk,
        seat_ids=factories.seats(screening.auditorium, "A1"),
        buyer_key="b",
    )
    SeatClaim.objects.update(expires_at=timezone.now() - timedelta(seconds=1))  # dead
    move(screening, other_room)
    assert Screening.objects.get(pk=screening.pk).auditorium_id == other_room.pk
    Screening.objects.filter(pk=screening.pk).update(starts_at=screening.starts_at)  # other fields


@pytest.mark.django_db(transaction=True)
def test_a_hold_being_made_while_staff_move_the_screening_is_seen(screening, other_room):
    """The hold's transaction has inserted its claim but not committed when the move runs: the
    move waits for it, then sees the claim and is refused."""
    claimed = threading.Event()

    def buyer():
        with transaction.atomic():
            hold_create(
                screening_id=screening.pk,
                seat_ids=factories.seats(screening.auditorium, "B2"),
                buyer_key="racer",
            )
            claimed.set()
            time.sleep(0.4)

    def staff():
        claimed.wait(10)
        move(screening, other_room)

    bought, moved = run_concurrently([buyer, staff])

    assert bought.ok, bought.error
    assert isinstance(moved.error, IntegrityError)
    assert Screening.objects.get(pk=screening.pk).auditorium_id == screening.auditorium_id
    assert SeatClaim.objects.filter(screening=screening).count() == 1


@pytest.mark.django_db
def test_a_claim_for_a_seat_of_another_auditorium_is_refused_by_the_database(screening, other_room):
    now = timezone.now()
    with pytest.raises(errors.ScreeningChanged), transaction.atomic():
        claims.claim(
            screening.pk, factories.seats(other_room, "A1"), now=now, expires_at=now + timedelta(1)
        )
    assert not SeatClaim.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_hold_whose_screening_moves_before_its_claim_commits_gets_no_seat(screening, other_room):
    """The move has locked and changed the screening, not committed yet; the hold, which read the
    screening before, inserts its claim for a seat of the old room: the claim waits for the move,
    then sees the new room and is refused (screening_changed), never a seat of the old room."""
    moved_uncommitted = threading.Event()
    seat = factories.seats(screening.auditorium, "B2")[0]

    def staff():
        with transaction.atomic():
            Screening.objects.select_for_update().get(pk=screening.pk)
            move(screening, other_room)
            moved_uncommitted.set()
            time.sleep(0.5)

    def buyer():
        moved_uncommitted.wait(10)
        with transaction.atomic():
            now = timezone.now()
            claims.claim(screening.pk, [seat], now=now, expires_at=now + timedelta(minutes=5))

    moved, bought = run_concurrently([staff, buyer])

    assert moved.ok, moved.error
    assert isinstance(bought.error, errors.ScreeningChanged), bought.error
    assert not SeatClaim.objects.filter(screening=screening).exists()
