"""The catalogue's cost in queries does not grow with its size: no query per seat, per screening
or per auditorium. Each page is measured small and large, with the cache empty."""

from __future__ import annotations

import uuid
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests import factories
from tests.api.support import hold
from ticketing.inventory import seatmap
from ticketing.screenings.models import Screening, Seat, TicketType

pytestmark = pytest.mark.django_db

SEAT_MAP_QUERIES = 2  # the screening with its live claims; the layout (kept a while per process)
LIST_QUERIES = 2  # the count for the pager, the page


def queries(client, path: str) -> int:
    cache.clear()  # measure the database, not the cache
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path)
    assert response.status_code == 200, response.content[:300]
    return len(ctx.captured_queries)


def busy_screening(api, rows: int, per_row: int) -> Screening:
    """A screening with some seats held, some sold... so every status is computed."""
    room = factories.auditorium(factories.cinema(), rows=rows, per_row=per_row)
    screening = factories.screening(room)
    seats = list(room.seats.values_list("pk", flat=True))
    Seat.objects.filter(pk=seats[-1]).update(is_sellable=False)
    assert hold(api, screening, *seats[:3]).status_code == 201
    assert hold(api, screening, *seats[3:5]).status_code == 201
    return screening


def test_a_seat_map_of_300_seats_costs_the_queries_of_one_of_50(
    api, anon_api, django_assert_num_queries
):
    small = busy_screening(api, rows=5, per_row=10)
    large = busy_screening(api, rows=15, per_row=20)
    for room, size in ((small, 50), (large, 300)):
        cache.clear()
        seatmap.layout_changed()
        with django_assert_num_queries(SEAT_MAP_QUERIES):
            assert len(anon_api.get(f"/api/v1/screenings/{room.pk}/seats/").json()["seats"]) == size
        cache.clear()  # the layout now known to this process: one query
        with django_assert_num_queries(SEAT_MAP_QUERIES - 1):
            assert len(anon_api.get(f"/api/v1/screenings/{room.pk}/seats/").json()["seats"]) == size


def test_a_seat_map_fresh_in_the_cache_costs_no_query(
    anon_api, screening, settings, django_assert_num_queries
):
    # A cache of this test's own (the shared Redis database is emptied by the other workers'
    # tests), and a lifetime long enough not to lapse while the test runs.
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"seatmap-{screening.pk}-{uuid.uuid4()}",
        }
    }
    settings.MARQUEE = {**settings.MARQUEE, "SEAT_MAP_CACHE_SECONDS": 60}
    path = f"/api/v1/screenings/{screening.pk}/seats/"
    first = anon_api.get(path)
    with django_assert_num_queries(0):
        again = anon_api.get(path)
    assert again.content == first.content


START = timedelta(hours=1)


def screenings_in(count: int, film=None, cinemas: int = 3) -> None:
    """`count` screenings, three hours apart from an hour from now, spread over new cinemas."""
    rooms = [factories.auditorium(factories.cinema(), rows=1, per_row=2) for _ in range(cinemas)]
    for n in range(count):
        factories.screening(
            rooms[n % cinemas], START + timedelta(hours=3 * n), film=film or factories.film()
        )


@pytest.mark.parametrize(
    ("query", "extra"),
    [("", 0), ("?film={film}", 0), ("?date={date}", 1)],  # the date filter reads the cinemas' zones
    ids=["all", "by-film", "by-date"],
)
def test_the_screening_list_costs_the_same_for_3_or_30_screenings(anon_api, db, query, extra):
    film = factories.film()
    first_day = timezone.localtime(
        timezone.now() + START, ZoneInfo("Europe/Paris")
    ).date()  # the factories' zone
    path = "/api/v1/screenings/" + query.format(film=film.pk, date=first_day)
    screenings_in(3, film)
    few = queries(anon_api, path)
    screenings_in(27, film, cinemas=9)
    assert Screening.objects.count() == 30
    many = queries(anon_api, path)
    assert few == many == LIST_QUERIES + extra


def test_the_screening_list_really_lists_them_all(anon_api, db):
    screenings_in(30, cinemas=10)
    assert anon_api.get("/api/v1/screenings/").json()["count"] == 30


def test_the_cinema_list_costs_the_same_for_one_small_cinema_or_many_large(anon_api, db):
    factories.auditorium(factories.cinema(), rows=1, per_row=1)
    few = queries(anon_api, "/api/v1/cinemas/")
    for _ in range(6):
        cinema = factories.cinema()
        for _ in range(3):
            factories.auditorium(cinema, rows=2, per_row=3)
    many = queries(anon_api, "/api/v1/cinemas/")
    assert few == many == LIST_QUERIES + 1  # and one for every auditorium with its seat count


def test_the_film_list_costs_the_same_for_few_or_many_films(anon_api, auditorium):
    factories.screening(auditorium, timedelta(days=1))
    few = queries(anon_api, "/api/v1/films/")
    for n in range(20):
        factories.screening(auditorium, timedelta(days=2 + n))
    many = queries(anon_api, "/api/v1/films/")
    assert few == many == LIST_QUERIES


def test_a_screening_in_detail_costs_the_same_whatever_its_ticket_types(anon_api, screening):
    few = queries(anon_api, f"/api/v1/screenings/{screening.pk}/")
    for n in range(10):
        TicketType.objects.create(
            cinema=screening.auditorium.cinema, code=f"t{n}", name=f"T{n}", price=100 + n
        )
    many = queries(anon_api, f"/api/v1/screenings/{screening.pk}/")
    assert few == many <= 4


def test_the_seat_map_shows_a_layout_edit_at_once_despite_the_per_process_layout_copy(
    anon_api, screening, django_capture_on_commit_callbacks
):
    from ticketing.flows.layouts import layout_replace
    from ticketing.screenings.layouts import layout_render

    before = anon_api.get(f"/api/v1/screenings/{screening.pk}/seats/").json()
    assert before["counts"]["blocked"] == 0
    grid = layout_render(screening.auditorium)
    first_row, *rest = grid.splitlines()
    blocked_first = "x" + first_row[1:]
    with django_capture_on_commit_callbacks(execute=True):
        layout_replace(auditorium=screening.auditorium, text="\n".join([blocked_first, *rest]))
    cache.clear()

    after = anon_api.get(f"/api/v1/screenings/{screening.pk}/seats/").json()
    assert after["counts"]["blocked"] == 1
