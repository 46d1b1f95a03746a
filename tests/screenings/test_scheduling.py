"""Planning screenings: a pattern on the cinema's clock, the clashes named before saving, the
exclusion constraint deciding at save (all or nothing), a week copied, a screening moved only
while none of its seats is held or sold."""

from __future__ import annotations

import threading
import time as time_module
from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.db import connection, transaction

from tests import factories
from tests.concurrency import run_concurrently, unexpected, winners
from ticketing import errors
from ticketing.audit.models import AuditEntry
from ticketing.orders.services import order_mark_paid
from ticketing.screenings import scheduling
from ticketing.screenings.models import Screening, ScreeningPrice

# The week of Monday 24 March 2031 in Paris: the clocks go forward on Sunday 30 March at 02:00.
DST_MONDAY = date(2031, 3, 24)
PARIS = {"time_zone": "Europe/Paris"}

pytestmark = pytest.mark.django_db


@pytest.fixture
def postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("the exclusion constraint and the row locks are PostgreSQL's")


@pytest.fixture
def paris():
    return factories.cinema(**PARIS)


@pytest.fixture
def room(paris):
    return factories.auditorium(paris, rows=2, per_row=4, name="Salle 1")


@pytest.fixture
def film():
    return factories.film(title="The Long Crossing", runtime_minutes=120)


def at(day: date, hh_mm: str, tz="Europe/Paris") -> datetime:
    """`day` at HH:MM on a Paris clock, as an aware datetime."""
    from zoneinfo import ZoneInfo

    hour, minute = map(int, hh_mm.split(":"))
    return datetime.combine(day, time(hour, minute), tzinfo=ZoneInfo(tz))


def pattern(film, room, *, days=range(7), times=("20:00",), first=DST_MONDAY, last=None, **kw):
    return scheduling.pattern_expand(
        film=film,
        auditorium=room,
        weekdays=days,
        times=[time(*map(int, t.split(":"))) for t in times],
        first_day=first,
        last_day=last or first + timedelta(days=6),
        **kw,
    )


def existing(room, starts_at: datetime, runtime=120, title="Hollow Tide") -> Screening:
    """A scheduled screening already there (its end: runtime + the model's 15 minutes)."""
    return Screening.objects.create(
        film=factories.film(title=title, runtime_minutes=runtime),
        auditorium=room,
        starts_at=starts_at,
    )


# ---- a pattern --------------------------------------------------------------------------------
def test_a_pattern_keeps_the_wall_clock_across_the_change_to_summer_time(film, room):
    plan = pattern(film, room, times=["20:00"])

    assert [item.local_start.strftime("%a %H:%M") for item in plan.items] == [
        "Mon 20:00", "Tue 20:00", "Wed 20:00", "Thu 20:00", "Fri 20:00", "Sat 20:00", "Sun 20:00"
    ]  # fmt: skip
    # Stored in UTC: 19:00 in winter time, 18:00 on the Sunday the clocks went forward.
    assert plan.items[0].starts_at == datetime(2031, 3, 24, 19, 0, tzinfo=UTC)
    assert plan.items[-1].starts_at == datetime(2031, 3, 30, 18, 0, tzinfo=UTC)


def test_a_screening_ends_after_the_runtime_and_the_cleaning_gap(film, room):
    plan = pattern(film, room, days=[0], times=["20:00"], gap_minutes=25)

    only = plan.items[0]
    assert only.ends_at - only.starts_at == timedelta(minutes=120 + 25)


def test_the_default_cleaning_gap_is_fifteen_minutes(film, room):
    only = pattern(film, room, days=[0]).items[0]
    assert only.ends_at - only.starts_at == timedelta(minutes=135)


def test_only_the_chosen_days_at_each_time_are_planned(film, room):
    plan = pattern(film, room, days=[4, 5], times=["22:00", "17:30"])

    assert [item.local_start.strftime("%a %H:%M") for item in plan.items] == [
        "Fri 17:30", "Fri 22:00", "Sat 17:30", "Sat 22:00"
    ]  # fmt: skip


def test_a_start_time_the_clocks_skip_is_refused_naming_the_day(film, room):
    with pytest.raises(errors.ScheduleTimeNonexistent) as refused:
        pattern(film, room, days=[6], times=["02:30"])

    assert refused.value.details["day"] == "2031-03-30"
    assert "02:30 does not exist on Sunday 30 March 2031" in refused.value.message


def test_a_start_time_the_clocks_repeat_is_its_first_occurrence(film, room):
    # Sunday 26 October 2031: 02:30 happens twice in Paris; the first is 00:30 UTC (summer time).
    plan = pattern(film, room, days=[6], times=["02:30"], first=date(2031, 10, 20))
    assert plan.items[0].starts_at == datetime(2031, 10, 26, 0, 30, tzinfo=UTC)


def test_a_new_york_week_when_the_clocks_go_back_keeps_the_wall_clock(film):
    # Sunday 2 November 2031: New York leaves daylight time at 02:00 (01:00-02:00 happens twice).
    room = factories.auditorium(factories.cinema(time_zone="America/New_York"), rows=1, per_row=2)
    plan = pattern(film, room, days=[5, 6], times=["01:30", "20:00"], first=date(2031, 10, 27))

    assert [item.starts_at.strftime("%a %H:%M") for item in plan.items] == [
        "Sat 05:30", "Sun 00:00", "Sun 05:30", "Mon 01:00"
    ]  # fmt: skip
    assert {item.local_start.strftime("%H:%M") for item in plan.items} == {"01:30", "20:00"}


def test_a_pattern_without_days_or_times_is_refused(film, room):
    with pytest.raises(errors.SchedulePatternEmpty):
        pattern(film, room, days=[])
    with pytest.raises(errors.SchedulePatternEmpty):
        pattern(film, room, times=[])
    with pytest.raises(errors.SchedulePatternEmpty):  # Saturday alone, in a range Mon-Wed
        pattern(film, room, days=[5], last=DST_MONDAY + timedelta(days=2))


def test_a_week_that_has_passed_is_refused(film, room):
    with pytest.raises(errors.ScheduleInPast):
        pattern(film, room, first=date(2020, 1, 6))


def test_todays_times_already_gone_are_shown_as_in_the_past(film, room):
    now = at(DST_MONDAY, "18:00").astimezone(UTC)
    plan = pattern(film, room, days=[0], times=["14:00", "21:00"], now=now)

    assert [(item.local_start.strftime("%H:%M"), item.problem) for item in plan.items] == [
        ("14:00", "starts in the past"),
        ("21:00", ""),
    ]
    assert not plan.ok


# ---- the conflict rules ---------------------------------------------------------------------
def test_a_screening_overlapping_one_already_scheduled_clashes_with_it_by_name(film, room):
    there = existing(room, at(DST_MONDAY, "19:00"))  # 19:00-21:15 with its cleaning

    plan = scheduling.plan_check(pattern(film, room, days=[0], times=["21:00"]))

    (clash,) = plan.items[0].clashes
    assert clash.screening_id == there.pk
    assert clash.describe() == "Hollow Tide, Mon 24 Mar 19:00-21:15, Salle 1 (scheduled)"
    assert not plan.ok


def test_touching_is_not_overlapping(film, room):
    existing(room, at(DST_MONDAY, "19:00"))  # ends at 21:15, its cleaning included
    existing(room, at(DST_MONDAY, "23:30"))

    # 21:15 + 120 minutes + 15 of cleaning = 23:30, the next one's start.
    plan = scheduling.plan_check(pattern(film, room, days=[0], times=["21:15"]))

    assert plan.items[0].clashes == [] and plan.ok
    assert len(scheduling.plan_save(plan=plan)) == 1  # and the database agrees


def test_the_cleaning_gap_counts_towards_a_clash(film, room):
    existing(room, at(DST_MONDAY, "22:20"))

    # 20:00 + 120 = 22:00; with 15 minutes of cleaning it ends at 22:15, with 25 at 22:25.
    fits = scheduling.plan_check(pattern(film, room, days=[0], gap_minutes=15))
    clashes = scheduling.plan_check(pattern(film, room, days=[0], gap_minutes=25))

    assert fits.ok
    assert [c.film for c in clashes.items[0].clashes] == ["Hollow Tide"]


def test_screenings_of_one_plan_that_overlap_each_other_both_clash(film, room):
    plan = scheduling.plan_check(pattern(film, room, days=[0], times=["18:00", "19:30"]))

    first, second = plan.items
    assert [(c.index, c.in_plan) for c in first.clashes] == [(1, True)]
    assert [(c.index, c.in_plan) for c in second.clashes] == [(0, True)]
    assert "another screening of this plan" in first.clashes[0].describe()


def test_a_screening_in_another_auditorium_or_cancelled_is_no_clash(film, room, paris):
    other_room = factories.auditorium(paris, rows=1, per_row=2, name="Salle 2")
    existing(other_room, at(DST_MONDAY, "20:00"))
    cancelled = existing(room, at(DST_MONDAY, "20:00"))
    Screening.objects.filter(pk=cancelled.pk).update(status="cancelled")

    assert scheduling.plan_check(pattern(film, room, days=[0])).ok


# ---- saving -----------------------------------------------------------------------------------
def test_saving_a_plan_makes_every_screening_with_the_cinemas_prices_and_an_audit_entry(film, room):
    user = factories_user()
    plan = pattern(film, room, days=[0, 2], times=["17:00", "20:00"], format="3D")

    made = scheduling.plan_save(plan=plan, user=user)

    assert len(made) == 4
    assert {s.format for s in made} == {"3D"}
    assert not ScreeningPrice.objects.filter(screening__in=made).exists()  # list prices apply
    entries = AuditEntry.objects.filter(action="screening.scheduled", cinema=room.cinema)
    assert entries.count() == 4
    assert entries.filter(actor=f"user:{user.pk}", object_id=str(made[0].pk)).exists()
    assert "The Long Crossing scheduled in Salle 1 on Mon 24 Mar 2031 17:00" in {
        e.summary for e in entries
    }


def test_a_3d_plan_takes_the_prices_of_the_cinemas_latest_3d_screening(film, room, paris):
    adult, child = paris.ticket_types.get(code="adult"), paris.ticket_types.get(code="child")
    older, latest = (
        Screening.objects.create(
            film=film,
            auditorium=room,
            starts_at=at(DST_MONDAY - timedelta(days=d), "10:00"),
            format="3D",
        )
        for d in (3, 2)
    )
    ScreeningPrice.objects.create(screening=older, ticket_type=adult, price=1300)
    ScreeningPrice.objects.create(screening=latest, ticket_type=adult, price=1450)
    ScreeningPrice.objects.create(screening=latest, ticket_type=child, price=950)

    three_d = scheduling.plan_check(pattern(film, room, days=[0], format="3D"))
    two_d = scheduling.plan_check(pattern(film, room, days=[1]))

    assert three_d.prices_from == {"3D": latest} and two_d.prices_from == {"2D": None}
    (made,) = scheduling.plan_save(plan=three_d)
    (plain,) = scheduling.plan_save(plan=two_d)
    assert sorted(made.prices.values_list("ticket_type__code", "price")) == [
        ("adult", 1450),
        ("child", 950),
    ]
    assert not plain.prices.exists()  # the list prices apply


def test_a_plan_with_one_clash_saves_nothing(film, room):
    existing(room, at(DST_MONDAY + timedelta(days=2), "19:00"))
    plan = pattern(film, room, days=[0, 1, 2], times=["20:00"])

    with pytest.raises(errors.ScheduleConflict) as refused:
        scheduling.plan_save(plan=plan)

    assert "The Long Crossing at Wed 26 Mar 20:00 in Salle 1 clashes with Hollow Tide" in (
        refused.value.message
    )
    assert refused.value.details["refused"][0]["clashes"][0]["film"] == "Hollow Tide"
    assert Screening.objects.filter(film=film).count() == 0
    assert not AuditEntry.objects.filter(action="screening.scheduled").exists()


def factories_user():
    from django.contrib.auth.models import User

    return User.objects.create_user("planner", password="x", is_staff=True)


@pytest.mark.django_db(transaction=True)
def test_two_planners_racing_for_one_evening_exactly_one_wins(postgresql, film, room):
    """Both previews are clean; both save at once on their own connections: the exclusion
    constraint lets one in, and the other is refused whole, naming the winner's screening."""
    other_film = factories.film(title="Hollow Tide", runtime_minutes=100)
    plans = [
        pattern(film, room, days=[0, 1, 2], times=["20:00"]),
        pattern(other_film, room, days=[2, 3], times=["21:00"]),  # Wednesday clashes
    ]
    assert all(scheduling.plan_check(p).ok for p in plans)

    outcomes = run_concurrently([lambda p=p: scheduling.plan_save(plan=p) for p in plans])

    assert unexpected(outcomes, errors.ScheduleConflict) == []
    (won,) = winners(outcomes)
    (lost,) = [o.error for o in outcomes if o.error]
    assert Screening.objects.count() == len(won)  # the loser saved nothing, not even Thursday
    assert {s.film_id for s in Screening.objects.all()} == {won[0].film_id}
    named = lost.details["refused"][0]["clashes"][0]
    assert named["screening"] in {s.pk for s in won}
    assert AuditEntry.objects.filter(action="screening.scheduled").count() == len(won)


# ---- copying a week ---------------------------------------------------------------------------
def test_a_week_copied_to_the_next_keeps_times_rooms_formats_and_prices(film, room, paris):
    monday = DST_MONDAY - timedelta(days=7)  # copied into the week the clocks change
    first = existing(room, at(monday, "20:00"), title="Hollow Tide")
    sunday = Screening.objects.create(
        film=film, auditorium=room, starts_at=at(monday + timedelta(days=6), "16:00"), format="3D"
    )
    adult = paris.ticket_types.get(code="adult")
    ScreeningPrice.objects.create(screening=sunday, ticket_type=adult, price=1500)

    plan = scheduling.plan_check(scheduling.week_copy_plan(cinema=paris, monday=monday))
    made = scheduling.plan_save(plan=plan)

    assert [(s.starts_at.astimezone(paris.tz).strftime("%a %d %H:%M"), s.format) for s in made] == [
        ("Mon 24 20:00", first.format),
        ("Sun 30 16:00", "3D"),  # 16:00 on the clock, though 14:00 UTC now and 15:00 before
    ]
    assert made[1].ends_at - made[1].starts_at == sunday.ends_at - sunday.starts_at
    assert list(made[1].prices.values_list("ticket_type__code", "price")) == [("adult", 1500)]


def test_copying_a_week_twice_clashes_with_the_first_copy(film, room, paris):
    monday = DST_MONDAY
    existing(room, at(monday, "20:00"))
    scheduling.plan_save(plan=scheduling.week_copy_plan(cinema=paris, monday=monday))

    again = scheduling.plan_check(scheduling.week_copy_plan(cinema=paris, monday=monday))

    assert not again.ok
    assert again.items[0].clashes[0].starts_at.strftime("%d %H:%M") == "31 20:00"


def test_copying_an_empty_week_or_into_the_past_is_refused(paris, room):
    with pytest.raises(errors.SchedulePatternEmpty):
        scheduling.week_copy_plan(cinema=paris, monday=DST_MONDAY)
    with pytest.raises(errors.ScheduleInPast):
        scheduling.week_copy_plan(cinema=paris, monday=date(2020, 1, 6))


# ---- moving a screening -----------------------------------------------------------------------
@pytest.fixture
def show(room, film):
    return Screening.objects.create(film=film, auditorium=room, starts_at=at(DST_MONDAY, "20:00"))


def test_a_screening_on_sale_with_no_seat_taken_moves(show, room, paris):
    bigger = factories.auditorium(paris, rows=3, per_row=5, name="Salle 2")
    assert show.is_on_sale()

    moved = scheduling.screening_move(
        screening_id=show.pk, starts_at=at(DST_MONDAY, "21:00"), auditorium=bigger
    )

    assert moved.auditorium == bigger
    assert moved.starts_at == datetime(2031, 3, 24, 20, 0, tzinfo=UTC)
    assert moved.ends_at - moved.starts_at == timedelta(minutes=135)  # its length kept
    entry = AuditEntry.objects.get(action="screening.moved")
    assert entry.changes["auditorium"] == ["Salle 1", "Salle 2"]
    assert entry.object_id == str(show.pk)


def test_a_screening_with_a_held_seat_does_not_move(postgresql, show):
    factories.hold(show, "A1")

    with pytest.raises(errors.ScreeningNotMovable) as refused:
        scheduling.screening_move(screening_id=show.pk, starts_at=at(DST_MONDAY, "21:00"))

    assert refused.value.details == {"reason": "seats_taken", "seats": 1}
    assert "1 seat(s) of this screening are held or sold" in refused.value.message
    show.refresh_from_db()
    assert show.starts_at == at(DST_MONDAY, "20:00")
    assert not AuditEntry.objects.filter(action="screening.moved").exists()


def test_a_screening_with_a_sold_seat_does_not_move_even_to_another_room(show, paris):
    order = factories.pending_order(show, "A1", "A2")
    order_mark_paid(order_id=order.pk, actor="test")
    other = factories.auditorium(paris, rows=1, per_row=2, name="Salle 2")

    with pytest.raises(errors.ScreeningNotMovable) as refused:
        scheduling.screening_move(screening_id=show.pk, starts_at=show.starts_at, auditorium=other)

    assert refused.value.details["seats"] == 2
    show.refresh_from_db()
    assert show.auditorium.name == "Salle 1"


@pytest.mark.django_db(transaction=True)
def test_a_move_waits_for_a_hold_being_made_and_is_then_refused(postgresql, show, paris):
    """The hold's claim is inserted but not committed when the move starts, on another real
    connection: the move's row lock waits for it, then sees the seat held and refuses."""
    other = factories.auditorium(paris, rows=1, per_row=2, name="Salle 2")
    inserted, outcome = threading.Event(), {}

    def hold_slowly():
        try:
            with transaction.atomic():
                factories.hold(show, "A1")
                inserted.set()
                time_module.sleep(1.0)
        except BaseException as exc:  # reported below, never lost
            outcome["error"] = exc
        finally:
            inserted.set()
            connection.close()

    holder = threading.Thread(target=hold_slowly)
    holder.start()
    assert inserted.wait(10)
    started = time_module.monotonic()
    with pytest.raises(errors.ScreeningNotMovable):
        scheduling.screening_move(
            screening_id=show.pk, starts_at=at(DST_MONDAY, "21:00"), auditorium=other
        )
    waited = time_module.monotonic() - started
    holder.join(10)

    assert outcome == {}
    assert waited > 0.5  # it waited for the hold's transaction to end
    show.refresh_from_db()
    assert (show.auditorium.name, show.starts_at) == ("Salle 1", at(DST_MONDAY, "20:00"))


def test_a_hold_that_has_died_does_not_keep_a_screening_in_place(show):
    hold = factories.hold(show, "A1")
    from ticketing.inventory.holds import hold_release

    hold_release(hold=hold)

    scheduling.screening_move(screening_id=show.pk, starts_at=at(DST_MONDAY, "21:00"))


def test_a_move_onto_another_screening_names_it(show, room):
    existing(room, at(DST_MONDAY, "23:00"), title="Pip and the Moon Garden")

    with pytest.raises(errors.ScheduleConflict) as refused:
        scheduling.screening_move(screening_id=show.pk, starts_at=at(DST_MONDAY, "22:00"))

    assert "Pip and the Moon Garden, Mon 24 Mar 23:00" in refused.value.message


def test_a_move_into_the_past_or_of_a_cancelled_screening_is_refused(show):
    with pytest.raises(errors.ScheduleInPast):
        scheduling.screening_move(screening_id=show.pk, starts_at=at(date(2020, 1, 6), "20:00"))
    Screening.objects.filter(pk=show.pk).update(status="cancelled")
    with pytest.raises(errors.ScreeningNotMovable):
        scheduling.screening_move(screening_id=show.pk, starts_at=at(DST_MONDAY, "22:00"))
