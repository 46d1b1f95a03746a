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


def maps_kept_a_minute(settings) -> None:
    """A cache of the test's own (the shared Redis database is emptied by the other workers'
    tests), and a seat map lifetime long enough not to lapse while the test runs."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"seatmap-{uuid.uuid4()}",
        }
    }
    settings.MARQUEE = {**settings.MARQUEE, "SEAT_MAP_CACHE_SECONDS": 60}


def test_a_seat_map_fresh_in_the_cache_costs_no_query(
    anon_api, screening, settings, django_assert_num_queries
):
    maps_kept_a_minute(settings)
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


# ---- the onsale hot path: what a hold, an order and a seat map read cost the database ----------
# Counted in statements sent to PostgreSQL, savepoints left out (in a test the view's transaction
# is a savepoint inside the test's; on a server it is BEGIN ... COMMIT, which are not queries).
# Each figure is today's, statement by statement: a change that adds one fails here, a change that
# saves one lowers the figure (issue 12: a hold one statement or two, an order a few).


def statements(ctx) -> list[str]:
    return [q["sql"] for q in ctx.captured_queries if "SAVEPOINT" not in q["sql"]]


def counted(client, method: str, path: str, body: dict | None = None):
    """One request after a warm-up read, so that the partner's key is known to this process
    (the first request of a process looks it up: one query, once)."""
    assert client.get("/api/v1/films/").status_code == 200
    with CaptureQueriesContext(connection) as ctx:
        response = getattr(client, method)(path, body, format="json")
    assert response.status_code in (200, 201), response.content[:300]
    return response, statements(ctx)


# the screening (with auditorium and cinema); the seats asked and their couple halves (with their
# labels for the answer); INSERT the hold; INSERT ... ON CONFLICT the claims (the statement that
# decides). Was 5: the answer read the held seats' labels again.
HOLD_NAMED_QUERIES = 4
# the screening; the layout (with labels); the screening's turn (advisory lock); the live claims;
# the seats set aside for this partner; INSERT the hold; INSERT the claims. Was 8 (the labels).
HOLD_BEST_QUERIES = 7
# the hold locked (with screening, auditorium, cinema, film); the ticket types with the
# screening's own prices; the seats with their types' surcharges; INSERT the order; UPDATE the
# claims to the order (which checks they still live); INSERT the tickets; UPDATE the hold; INSERT
# the status change. Was 10 (prices and surcharges each read apart), 11 before (the hold's live
# claims read first).
ORDER_QUERIES = 8
# the code, then the order's 8 (above) with, for the offer, its films, the campaign's films, its
# cinemas and its screenings; then UPDATE the code's uses, UPDATE the campaign's spent, INSERT
# the redemption and the campaign read again (is the budget running low?). Was 19, and 20.
ORDER_WITH_CODE_QUERIES = 17


def test_a_partner_hold_of_named_seats_costs_few_statements(api, screening):
    seats = factories.seats(screening.auditorium, "C4", "C5")
    _, sql = counted(api, "post", "/api/v1/holds/", {"screening": screening.pk, "seats": seats})
    assert len(sql) == HOLD_NAMED_QUERIES, "\n".join(sql)


def test_a_best_available_hold_costs_few_statements(api, screening):
    _, sql = counted(api, "post", "/api/v1/holds/", {"screening": screening.pk, "quantity": 3})
    assert len(sql) == HOLD_BEST_QUERIES, "\n".join(sql)


def _order_body(api, screening, **extra) -> dict:
    seats = factories.seats(screening.auditorium, "D4", "D5")
    held = hold(api, screening, *seats)
    assert held.status_code == 201, held.content[:300]
    return {
        "hold": held.json()["id"],
        "customer": {"email": "ada@example.com", "name": "Ada Lovelace"},
        "tickets": [{"seat": seat, "ticket_type": "adult"} for seat in seats],
        **extra,
    }


def test_an_order_costs_few_statements(api, screening):
    body = _order_body(api, screening)
    _, sql = counted(api, "post", "/api/v1/orders/", body)
    assert len(sql) == ORDER_QUERIES, "\n".join(sql)


def test_an_order_with_a_promo_code_costs_few_statements_more(api, screening):
    from tests.promotions.support import code

    code(screening, "ROGUE20", value=20)
    body = _order_body(api, screening, promo_code="ROGUE20")
    response, sql = counted(api, "post", "/api/v1/orders/", body)
    assert response.json()["discount"] > 0
    assert len(sql) == ORDER_WITH_CODE_QUERIES, "\n".join(sql)


def test_a_partner_reading_a_seat_map_fresh_in_the_cache_costs_no_query(api, screening, settings):
    maps_kept_a_minute(settings)
    path = f"/api/v1/screenings/{screening.pk}/seats/"
    first, sql = counted(api, "get", path)
    assert len(sql) == SEAT_MAP_QUERIES  # cold: the statuses, and the layout
    with CaptureQueriesContext(connection) as ctx:
        again = api.get(path)
    assert statements(ctx) == []
    assert again.content == first.content


def test_a_client_holding_the_current_seat_map_is_answered_304_without_a_body_or_a_query(
    api, screening, settings, django_capture_on_commit_callbacks
):
    maps_kept_a_minute(settings)
    path = f"/api/v1/screenings/{screening.pk}/seats/"
    first = api.get(path)
    etag = first["ETag"]
    assert etag.startswith('W/"')
    with CaptureQueriesContext(connection) as ctx:
        again = api.get(path, HTTP_IF_NONE_MATCH=etag)
    assert statements(ctx) == []
    assert again.status_code == 304 and again.content == b""
    assert again["ETag"] == etag

    # Rebuilt with nothing changed (the cache dropped): the same tag, still 304.
    cache.clear()
    assert api.get(path, HTTP_IF_NONE_MATCH=etag).status_code == 304

    # A seat taken is a new map: the old tag gets the whole new body.
    seat = factories.seats(screening.auditorium, "B2")[0]
    with django_capture_on_commit_callbacks(execute=True):
        assert hold(api, screening, seat).status_code == 201
    changed = api.get(path, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200
    assert changed["ETag"] != etag
    statuses = {s["id"]: s["status"] for s in changed.json()["seats"]}
    assert statuses[seat] == "held"
