"""The rule for changing a layout in use (issue 11): a seat held or sold for a screening still to
come keeps its label, its place, its type and its sellability; every other seat changes freely.
A refusal names each seat and its screening(s), and changes nothing."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, InternalError, connection, transaction
from django.utils import timezone

from payments.services import payment_start
from tests import factories
from tests.payments import flow
from ticketing.audit.models import AuditEntry
from ticketing.flows.layouts import LayoutRefused, layout_plan, layout_replace
from ticketing.inventory.holds import hold_create
from ticketing.inventory.models import Hold, SeatClaim
from ticketing.orders.services import order_create
from ticketing.screenings.layouts import layout_render
from ticketing.screenings.models import Screening, ScreeningStatus, Seat

pytestmark = pytest.mark.django_db

ROOM = "sssss\nsssss\nsssss"


@pytest.fixture
def room(cinema):
    return factories.layout_room(cinema, ROOM)


@pytest.fixture
def screening(room):
    return factories.screening(room)


def sold(screening, *labels):
    """Seats sold: an order paid through the sandbox, as a buyer pays."""
    seat_ids = factories.seats(screening.auditorium, *labels)
    hold = factories.hold(screening, *labels)
    order = order_create(
        hold_id=hold.pk,
        customer_email="buyer@example.com",
        customer_name="Buyer",
        tickets=[(seat_id, "adult") for seat_id in seat_ids],
        actor="test",
        buyer_key=factories.BUYER,
    )
    payment = payment_start(
        order_id=order.pk, provider_name="sandbox", return_url="http://testserver/", actor="test"
    )
    assert flow.receive(flow.event(payment)).status == 200
    assert SeatClaim.objects.filter(order=order, expires_at__isnull=True).count() == len(labels)
    return order


def seats_of(room):
    return {s.label: (s.x, s.y, s.seat_type, s.is_sellable) for s in room.seats.all()}


def refused(room, text):
    before = seats_of(room)
    with pytest.raises(LayoutRefused) as exc:
        layout_replace(auditorium=room, text=text)
    assert seats_of(room) == before, "a refused layout changed seats"
    return exc.value


# The same five edits of B3 (the middle of the middle row), and what each does to it.
EDITS = {
    "removed": "sssss\nss\nsssss",
    "blocked": "sssss\nssxss\nsssss",
    "aisle": "sssss\nss.sss\nsssss",
    "renamed": "sssss\ns.sss\nsssss",  # B2's place an aisle: the seat at B3's place is B2
    "retyped": "sssss\nsspss\nsssss",
}


@pytest.mark.parametrize("what", ["removed", "blocked", "aisle", "renamed", "retyped"])
@pytest.mark.parametrize("how", ["held", "sold"])
def test_a_seat_in_use_is_not_removed_blocked_made_an_aisle_renamed_or_retyped(
    room, screening, what, how
):
    if how == "held":
        factories.held(screening, "B3")
    else:
        sold(screening, "B3")

    error = refused(room, EDITS[what])

    assert [(r.seat, r.what) for r in error.refusals] == [("B3", what)]
    refusal = error.refusals[0]
    assert refusal.screenings == (refusal.screenings[0],)
    assert screening.film.title in refusal.screenings[0]
    assert f"screening {screening.pk}" in refusal.screenings[0]
    assert "B3" in error.messages[0] and screening.film.title in error.messages[0]


def test_a_renamed_seat_says_what_it_would_be_called(room, screening):
    factories.held(screening, "B3")

    error = refused(room, EDITS["renamed"])

    assert error.refusals[0].becomes == "B2"
    assert "its place would be seat B2" in error.refusals[0].message


@pytest.mark.parametrize("what", ["removed", "blocked", "aisle", "renamed", "retyped"])
def test_the_same_edits_of_free_seats_are_applied(room, screening, what):
    factories.held(screening, "A1")  # in use, but untouched by every edit

    change = layout_replace(auditorium=room, text=EDITS[what])

    assert change.changed
    assert layout_render(room) == EDITS[what]


def test_a_dead_hold_does_not_count(room, screening):
    hold = factories.held(screening, "B3")
    past = timezone.now() - timedelta(minutes=1)
    Hold.objects.filter(pk=hold.pk).update(expires_at=past)
    SeatClaim.objects.filter(hold_id=hold.pk).update(expires_at=past)

    layout_replace(auditorium=room, text=EDITS["blocked"])

    assert not Seat.objects.get(auditorium=room, row_label="B", number=3).is_sellable


def test_once_the_screening_is_over_its_sold_seats_may_be_blocked_but_never_removed(
    room, screening
):
    sold(screening, "B3")
    Screening.objects.filter(pk=screening.pk).update(
        starts_at=timezone.now() - timedelta(hours=3), ends_at=timezone.now() - timedelta(hours=1)
    )

    layout_replace(auditorium=room, text=EDITS["blocked"])
    assert not Seat.objects.get(auditorium=room, row_label="B", number=3).is_sellable

    error = refused(room, EDITS["removed"])
    assert [(r.seat, r.what) for r in error.refusals] == [("B3", "removed")]
    assert "never deleted" in error.messages[0]


def test_a_cancelled_screening_does_not_keep_its_held_seats(room, screening):
    factories.held(screening, "B3")
    Screening.objects.filter(pk=screening.pk).update(status=ScreeningStatus.CANCELLED)

    layout_replace(auditorium=room, text=EDITS["retyped"])

    assert Seat.objects.get(auditorium=room, row_label="B", number=3).seat_type == "premium"


def test_every_seat_refused_is_named_with_every_screening(room, screening):
    later = factories.screening(room, starts_in=timedelta(days=3))
    factories.held(screening, "A2")
    sold(later, "A2", "C5")

    error = refused(room, "s.sss\nsssss\nssss")

    by_seat = {r.seat: r for r in error.refusals}
    assert sorted(by_seat) == ["A2", "C5"]
    assert len(by_seat["A2"].screenings) == 2
    assert by_seat["C5"].what == "removed"


def test_the_whole_map_may_shift_around_seats_in_use(room, screening):
    sold(screening, "B3")

    layout_replace(auditorium=room, text=".sssss\n.sssss\n.sssss")

    seat = Seat.objects.get(auditorium=room, row_label="B", number=3)
    assert (seat.x, seat.y, seat.is_sellable) == (3, 1, True)


def test_seats_in_use_may_stay_while_others_around_them_change(room, screening):
    sold(screening, "B3")

    change = layout_replace(auditorium=room, text="pp\nsxs<>\nsssss\nwcwc")

    assert change.changed
    assert seats_of(room)["B3"] == (2, 1, "standard", True)
    assert seats_of(room)["B4"][2] == "couple"


def test_a_couple_half_in_use_keeps_its_other_half(cinema):
    room = factories.layout_room(cinema, "s<>s")
    screening = factories.screening(room)
    factories.held(screening, "A2", "A3")

    error = refused(room, "ss<>")

    assert {r.seat for r in error.refusals} == {"A2", "A3"}


def test_the_preview_says_what_would_change_and_what_is_refused(room, screening):
    factories.held(screening, "A1")

    plan = layout_plan(auditorium=room, text="xssss\nsspss\nssssss")

    assert plan.added == ("C6",)
    assert ("B3", "standard", "premium") in plan.retyped
    assert plan.in_use == ("A1",)
    assert [(r.seat, r.what) for r in plan.refusals] == [("A1", "blocked")]
    assert seats_of(room)["A1"][3] is True  # a preview writes nothing


def test_a_parse_error_names_the_line_and_column(room):
    with pytest.raises(ValidationError, match="Line 2, column 3"):
        layout_plan(auditorium=room, text="sssss\nssqss")


def test_a_change_made_by_someone_is_audited_with_its_seats(room, django_user_model):
    user = django_user_model.objects.create_user("manager", is_staff=True)

    layout_replace(auditorium=room, text="sssss\nssps\nsssss\nss", user=user)

    entry = AuditEntry.objects.get(action="layout.change")
    assert entry.actor == f"user:{user.pk}" and entry.cinema_id == room.cinema_id
    assert entry.changes["added"] == ["D1", "D2"]
    assert entry.changes["removed"] == ["B5"]
    assert entry.changes["retyped"] == ["B3: standard -> premium"]


def test_a_refused_change_is_not_audited(room, screening, django_user_model):
    user = django_user_model.objects.create_user("manager", is_staff=True)
    factories.held(screening, "B3")

    with pytest.raises(LayoutRefused):
        layout_replace(auditorium=room, text=EDITS["blocked"], user=user)

    assert not AuditEntry.objects.exists()


def test_the_auditorium_lock_still_holds_after_a_layout_change(room, screening, cinema):
    factories.held(screening, "A1")
    layout_replace(auditorium=room, text=ROOM + "\nsssss")
    other = factories.layout_room(cinema, "sss")

    with pytest.raises((IntegrityError, InternalError)), transaction.atomic():
        Screening.objects.filter(pk=screening.pk).update(auditorium=other)


@pytest.mark.django_db(transaction=True)
def test_a_hold_made_while_the_change_waits_for_the_lock_is_seen(cinema):
    """Decided under the lock, not check-then-write: a hold on B3 committed while the layout
    change waits for the seats' lock makes the change refuse B3."""
    room = factories.layout_room(cinema, ROOM)
    screening = factories.screening(room)
    seat_id = factories.seats(room, "B3")[0]
    claimed = threading.Event()
    go = threading.Event()
    errors: list[BaseException] = []

    def hold_slowly():
        try:
            with transaction.atomic():
                hold_create(screening_id=screening.pk, seat_ids=[seat_id], buyer_key="racer")
                claimed.set()
                go.wait(10)
        except BaseException as exc:
            errors.append(exc)
            claimed.set()
        finally:
            connection.close()

    holder = threading.Thread(target=hold_slowly)
    holder.start()
    assert claimed.wait(10)
    # The hold is made but not committed: the change now waits on B3's row.
    threading.Timer(0.5, go.set).start()
    with pytest.raises(LayoutRefused) as exc:
        layout_replace(auditorium=room, text=EDITS["blocked"])
    holder.join(10)
    assert not errors
    assert [(r.seat, r.what) for r in exc.value.refusals] == [("B3", "blocked")]
