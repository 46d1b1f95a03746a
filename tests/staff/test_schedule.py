"""The staff schedule page: a manager's own cinemas' weeks, a pattern previewed with its clashes
and then saved, a week copied, a screening moved; bad input answered on the page, never a 500;
another cinema's records 404; the box office 403."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests import factories
from tests.staff.support import signed_in, staff_user
from ticketing.audit.models import AuditEntry
from ticketing.screenings.models import Screening
from ticketing.staff import roles

pytestmark = pytest.mark.django_db

MONDAY = date(2031, 3, 24)  # Paris: the clocks go forward on Sunday 30 March 2031
PARIS = ZoneInfo("Europe/Paris")


@pytest.fixture
def paris():
    return factories.cinema(name="Le Grand Rex", time_zone="Europe/Paris")


@pytest.fixture
def room(paris):
    return factories.auditorium(paris, rows=2, per_row=4, name="Salle 1")


@pytest.fixture
def film():
    return factories.film(title="The Long Crossing", runtime_minutes=120)


@pytest.fixture
def manager(client, paris):
    return signed_in(client, staff_user(roles.MANAGER, paris))


def local(day: date, hh_mm: str) -> datetime:
    return datetime.combine(day, time.fromisoformat(hh_mm), tzinfo=PARIS)


def pattern(room, film, /, **overrides) -> dict:
    data = {
        "auditorium": room.pk,
        "film": film.pk,
        "weekdays": ["0", "1", "2"],
        "times": "17:00, 20:00",
        "first_day": MONDAY.isoformat(),
        "last_day": (MONDAY + timedelta(days=6)).isoformat(),
        "gap_minutes": "15",
        "format": "2D",
        "audio_language": "en",
        "subtitles": "",
        "week": MONDAY.isoformat(),
        "action": "preview",
    }
    data.update(overrides)
    return data


# ---- the week ---------------------------------------------------------------------------------
def test_the_week_shows_each_auditorium_with_its_screenings_on_the_cinemas_clock(
    manager, room, film
):
    Screening.objects.create(film=film, auditorium=room, starts_at=local(MONDAY, "20:00"))
    Screening.objects.create(
        film=film, auditorium=room, starts_at=local(MONDAY + timedelta(days=6), "20:00")
    )

    page = manager.get(f"/staff/schedule/?week={MONDAY}")

    assert page.status_code == 200
    html = page.content.decode()
    assert "Salle 1" in html and "The Long Crossing" in html
    # 20:00 on the Paris clock both days, though 19:00 and 18:00 UTC.
    assert html.count("20:00\N{EN DASH}22:15") == 2
    assert "Mon 24 Mar \N{EN DASH} Sun 30 Mar 2031" in html
    assert "week=2031-03-17" in html and "week=2031-03-31" in html  # previous and next


def test_the_box_office_may_not_plan(client, paris):
    signed_in(client, staff_user(roles.BOX_OFFICE, paris))
    assert client.get("/staff/schedule/").status_code == 403
    assert client.post("/staff/schedule/plan/", {}).status_code == 403


def test_another_cinemas_week_auditorium_and_screening_are_not_found(manager, film):
    elsewhere = factories.cinema(name="Elsewhere")
    their_room = factories.auditorium(elsewhere, rows=1, per_row=2)
    theirs = Screening.objects.create(
        film=film, auditorium=their_room, starts_at=local(MONDAY, "20:00")
    )

    assert manager.get(f"/staff/schedule/?cinema={elsewhere.pk}").status_code == 404
    assert manager.post("/staff/schedule/plan/", pattern(their_room, film)).status_code == 404
    assert manager.post("/staff/schedule/copy/", {"cinema": elsewhere.pk}).status_code == 404
    assert manager.get(f"/staff/schedule/screenings/{theirs.pk}/move/").status_code == 404
    assert Screening.objects.count() == 1


def test_the_schedule_is_in_the_managers_menu(manager):
    assert 'href="/staff/schedule/"' in manager.get("/staff/").content.decode()


# ---- planning ---------------------------------------------------------------------------------
def test_a_preview_lists_each_screening_and_names_the_clash_without_saving(manager, room, film):
    Screening.objects.create(
        film=factories.film(title="Hollow Tide", runtime_minutes=90),
        auditorium=room,
        starts_at=local(MONDAY + timedelta(days=1), "18:30"),
    )

    page = manager.post("/staff/schedule/plan/", pattern(room, film))

    assert page.status_code == 200
    html = page.content.decode()
    assert "Preview: 6 screenings, 2 cannot be made" in html
    assert "Hollow Tide, Tue 25 Mar 18:30-20:15, Salle 1 (scheduled)" in html
    assert "Save 6 screenings" not in html
    assert Screening.objects.filter(film=film).count() == 0


def test_a_preview_across_the_change_of_clocks_shows_each_utc_offset(manager, room, film):
    page = manager.post("/staff/schedule/plan/", pattern(room, film, weekdays=["5", "6"]))

    html = page.content.decode()
    assert html.count("(UTC+0100)") == 2 and html.count("(UTC+0200)") == 2  # Sat, then Sun
    assert "20:00\N{EN DASH}22:15" in html


def test_a_clean_preview_offers_to_save_and_saving_makes_them_all(manager, room, film):
    preview = manager.post("/staff/schedule/plan/", pattern(room, film))
    assert "Save 6 screenings" in preview.content.decode()
    assert "Prices: 2D, the cinema's list prices." in preview.content.decode()

    saved = manager.post("/staff/schedule/plan/", pattern(room, film, action="save"))

    assert saved.status_code == 302
    assert f"week={MONDAY}" in saved["Location"]
    made = Screening.objects.filter(film=film).order_by("starts_at")
    assert [s.starts_at.astimezone(PARIS).strftime("%a %H:%M") for s in made] == [
        "Mon 17:00", "Mon 20:00", "Tue 17:00", "Tue 20:00", "Wed 17:00", "Wed 20:00"
    ]  # fmt: skip
    assert AuditEntry.objects.filter(action="screening.scheduled", cinema=room.cinema).count() == 6
    assert (
        "6 screening(s) of The Long Crossing saved"
        in manager.get(saved["Location"]).content.decode()
    )


def test_saving_a_plan_that_clashes_saves_nothing_and_says_which(manager, room, film):
    manager.post("/staff/schedule/plan/", pattern(room, film, weekdays=["0"], action="save"))

    again = manager.post(
        "/staff/schedule/plan/", pattern(room, film, weekdays=["0", "1"], action="save")
    )

    assert again.status_code == 409
    html = again.content.decode()
    assert "clashes with The Long Crossing, Mon 24 Mar 17:00-19:15, Salle 1" in html
    assert Screening.objects.count() == 2  # Monday's two from the first save, nothing on Tuesday


@pytest.mark.parametrize(
    ("overrides", "said"),
    [
        ({"weekdays": [6], "times": "02:30"}, "02:30 does not exist on Sunday 30 March 2031"),
        ({"weekdays": []}, "Choose at least one day of the week and one start time."),
        ({"times": ""}, "Choose at least one day of the week and one start time."),
        ({"times": "8pm, 25:00"}, "Not a time of day (HH:MM, 24-hour clock): 8pm, 25:00"),
        ({"first_day": "2020-01-06", "last_day": "2020-01-12"}, "That week has passed"),
        ({"last_day": "2031-03-20"}, "The last day comes before the first."),
        ({"gap_minutes": "-5"}, "Ensure this value is greater than or equal to 0."),
        ({"film": "999999"}, "Select a valid choice."),
        ({"first_day": "9999-12-25", "last_day": "9999-12-31"}, "Plan at most ten years ahead."),
    ],
)
def test_bad_input_is_answered_on_the_page_never_a_500(manager, room, film, overrides, said):
    page = manager.post("/staff/schedule/plan/", pattern(room, film, **overrides))

    assert page.status_code == 400
    assert said in page.content.decode()
    assert not Screening.objects.exists()


def test_a_missing_or_unknown_auditorium_is_not_found(manager, room, film):
    assert (
        manager.post("/staff/schedule/plan/", pattern(room, film, auditorium="x")).status_code
        == 404
    )
    assert (
        manager.post("/staff/schedule/plan/", pattern(room, film, auditorium="999999")).status_code
        == 404
    )


# ---- copying a week ---------------------------------------------------------------------------
def test_a_week_is_previewed_then_copied_to_the_next(manager, paris, room, film):
    Screening.objects.create(film=film, auditorium=room, starts_at=local(MONDAY, "20:00"))
    form = {"cinema": paris.pk, "week": MONDAY.isoformat()}

    preview = manager.post("/staff/schedule/copy/", {**form, "action": "preview"})
    assert "Save 1 screening" in preview.content.decode()
    assert "Mon 31 Mar" in preview.content.decode()

    saved = manager.post("/staff/schedule/copy/", {**form, "action": "save"})

    assert saved.status_code == 302 and "week=2031-03-31" in saved["Location"]
    copy = Screening.objects.get(starts_at__gt=local(MONDAY, "23:00"))
    assert copy.starts_at.astimezone(PARIS) == local(MONDAY + timedelta(days=7), "20:00")
    assert AuditEntry.objects.filter(action="screening.copied").count() == 1

    twice = manager.post("/staff/schedule/copy/", {**form, "action": "preview"})
    assert "1 cannot be made" in twice.content.decode()


def test_copying_an_empty_week_says_so(manager, paris, room):
    page = manager.post("/staff/schedule/copy/", {"cinema": paris.pk, "week": MONDAY})
    assert page.status_code == 400
    assert "has no screenings to copy" in page.content.decode()


# ---- moving -----------------------------------------------------------------------------------
@pytest.fixture
def show(room, film):
    return Screening.objects.create(film=film, auditorium=room, starts_at=local(MONDAY, "20:00"))


def move(client, show, day=MONDAY, start="21:30", auditorium=None):
    return client.post(
        f"/staff/schedule/screenings/{show.pk}/move/",
        {"day": day.isoformat(), "start": start, "auditorium": (auditorium or show.auditorium).pk},
    )


def test_the_move_form_shows_the_screening_on_the_cinemas_clock(manager, show):
    page = manager.get(f"/staff/schedule/screenings/{show.pk}/move/")
    assert page.status_code == 200
    assert 'value="20:00"' in page.content.decode()


def test_a_screening_with_no_seat_taken_moves_to_another_time_and_room(manager, show, paris):
    bigger = factories.auditorium(paris, rows=3, per_row=5, name="Salle 2")

    answer = move(manager, show, start="21:30", auditorium=bigger)

    assert answer.status_code == 302
    show.refresh_from_db()
    assert (show.starts_at, show.auditorium) == (datetime(2031, 3, 24, 20, 30, tzinfo=UTC), bigger)
    assert AuditEntry.objects.filter(action="screening.moved", object_id=str(show.pk)).exists()


def test_a_screening_with_a_held_seat_is_not_moved_and_the_page_says_why(manager, show):
    factories.hold(show, "A1")

    answer = move(manager, show)

    assert answer.status_code == 409
    assert "1 seat(s) of this screening are held or sold: it cannot move" in answer.content.decode()
    show.refresh_from_db()
    assert show.starts_at == local(MONDAY, "20:00")


def test_a_move_to_a_time_the_clocks_skip_is_refused_on_the_page(manager, show):
    answer = move(manager, show, day=MONDAY + timedelta(days=6), start="02:15")

    assert answer.status_code == 400
    assert "02:15 does not exist on Sunday 30 March 2031" in answer.content.decode()


def test_a_move_to_the_far_future_is_refused_on_the_page(manager, show):
    answer = move(manager, show, day=date(9999, 12, 31), start="23:30")

    assert answer.status_code == 400
    assert "Choose a day within ten years of today." in answer.content.decode()


def test_a_week_far_away_shows_this_week_instead_of_failing(manager, room):
    assert manager.get("/staff/schedule/?week=9999-12-31").status_code == 200
    assert manager.get("/staff/schedule/?week=0001-01-01").status_code == 200


def test_a_move_to_another_cinemas_auditorium_is_not_found(manager, show, film):
    elsewhere = factories.auditorium(factories.cinema(), rows=1, per_row=2)

    assert move(manager, show, auditorium=elsewhere).status_code == 404
    show.refresh_from_db()
    assert show.auditorium.name == "Salle 1"
