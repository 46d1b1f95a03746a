"""The catalogue partners build on: films, cinemas, screenings (filtered by film, cinema and a
day in the cinema's own time zone), one screening with its prices, and the live seat map."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from tests import factories
from tests.api.support import assert_error, hold, order
from ticketing.inventory.models import Hold, SeatClaim
from ticketing.orders.services import order_mark_paid
from ticketing.screenings.models import Screening, ScreeningPrice, Seat, TicketType

pytestmark = pytest.mark.django_db


def ids(response) -> list:
    assert response.status_code == 200, response.content[:300]
    return [item["id"] for item in response.json()["results"]]


def at(zone: str, day: date, hh: int, mm: int) -> datetime:
    return datetime.combine(day, time(hh, mm), tzinfo=ZoneInfo(zone))


def show(room, film, starts_at: datetime, **kw) -> Screening:
    return Screening.objects.create(auditorium=room, film=film, starts_at=starts_at, **kw)


# ---- films -------------------------------------------------------------------------------------
@pytest.fixture
def films(auditorium):
    today = timezone.localdate()
    showing = factories.film(title="A Showing", release_date=today - timedelta(days=30))
    undated = factories.film(title="B Undated", release_date=None)
    coming = factories.film(title="C Coming", release_date=today + timedelta(days=20))
    gone = factories.film(title="D Gone", release_date=today - timedelta(days=400))
    cancelled = factories.film(title="E Cancelled", release_date=today - timedelta(days=5))
    factories.screening(auditorium, timedelta(days=1), film=showing)
    factories.screening(auditorium, timedelta(days=2), film=showing)
    factories.screening(auditorium, timedelta(days=3), film=undated)
    factories.screening(auditorium, timedelta(days=4), film=coming)  # a preview before release
    factories.screening(auditorium, timedelta(days=-2), film=gone)
    factories.screening(auditorium, timedelta(days=5), film=cancelled, status="cancelled")
    return {
        "showing": showing,
        "undated": undated,
        "coming": coming,
        "gone": gone,
        "cancelled": cancelled,
    }


def test_films_now_showing_have_screenings_ahead_and_are_released(anon_api, films):
    response = anon_api.get("/api/v1/films/?status=now_showing")
    assert ids(response) == [films["showing"].pk, films["undated"].pk]


def test_films_coming_soon_are_released_later(anon_api, films):
    assert ids(anon_api.get("/api/v1/films/?status=coming_soon")) == [films["coming"].pk]


def test_films_by_default_are_both_once_each_by_title(anon_api, films):
    response = anon_api.get("/api/v1/films/")
    assert ids(response) == [films["showing"].pk, films["undated"].pk, films["coming"].pk]
    assert response.json()["count"] == 3


@pytest.mark.parametrize("status", ["showing", "NOW_SHOWING", "all", "%00"])
def test_an_unknown_film_status_is_400(anon_api, films, status):
    details = assert_error(anon_api.get(f"/api/v1/films/?status={status}"), 400, "invalid")
    assert details == {"field": "status"}


def test_a_film_in_detail(anon_api, films):
    film = films["coming"]
    body = anon_api.get(f"/api/v1/films/{film.pk}/").json()
    assert body == {
        "id": film.pk,
        "title": "C Coming",
        "slug": film.slug,
        "synopsis": "",
        "runtime_minutes": 120,
        "certificate": "12A",
        "release_date": film.release_date.isoformat(),
        "poster_url": "",
        "languages": [],
    }


def test_an_unknown_film_is_404(anon_api, films):
    assert_error(anon_api.get("/api/v1/films/987654/"), 404, "not_found")


# ---- cinemas -----------------------------------------------------------------------------------
def test_cinemas_list_their_auditoriums_with_seat_counts(anon_api, db):
    lyon = factories.cinema(name="Lyon", time_zone="Europe/Paris")
    factories.auditorium(lyon, rows=2, per_row=5, name="Salle 2")
    factories.auditorium(lyon, rows=3, per_row=4, name="Salle 1")
    shanghai = factories.cinema(name="Shanghai", time_zone="Asia/Shanghai", currency="CNY")
    factories.auditorium(shanghai, rows=1, per_row=7, name="Hall A")
    empty = factories.cinema(name="Empty")

    body = anon_api.get("/api/v1/cinemas/").json()
    assert body["count"] == 3
    by_name = {c["name"]: c for c in body["results"]}
    assert [c["name"] for c in body["results"]] == ["Empty", "Lyon", "Shanghai"]
    assert [(a["name"], a["seat_count"]) for a in by_name["Lyon"]["auditoriums"]] == [
        ("Salle 1", 12),
        ("Salle 2", 10),
    ]
    assert [(a["name"], a["seat_count"]) for a in by_name["Shanghai"]["auditoriums"]] == [
        ("Hall A", 7)
    ]
    assert (
        by_name["Shanghai"]["time_zone"] == "Asia/Shanghai"
        and by_name["Shanghai"]["currency"] == "CNY"
    )
    assert by_name["Empty"]["auditoriums"] == []
    assert set(by_name["Lyon"]) == {
        "id",
        "name",
        "slug",
        "address",
        "city",
        "time_zone",
        "currency",
        "hold_minutes",
        "auditoriums",
    }
    assert by_name["Empty"]["id"] == empty.pk


# ---- screenings --------------------------------------------------------------------------------
def test_screenings_are_the_scheduled_ones_ahead_by_start_time(anon_api, auditorium):
    later = factories.screening(auditorium, timedelta(days=2))
    sooner = factories.screening(auditorium, timedelta(hours=3))
    factories.screening(auditorium, timedelta(days=-1))
    factories.screening(auditorium, timedelta(days=3), status="cancelled")
    assert ids(anon_api.get("/api/v1/screenings/")) == [sooner.pk, later.pk]


def test_screenings_filter_by_film(anon_api, auditorium):
    wanted = factories.film()
    mine = factories.screening(auditorium, timedelta(days=1), film=wanted)
    factories.screening(auditorium, timedelta(days=2))
    assert ids(anon_api.get(f"/api/v1/screenings/?film={wanted.pk}")) == [mine.pk]
    assert ids(anon_api.get("/api/v1/screenings/?film=987654")) == []


def test_screenings_filter_by_cinema_id_or_slug(anon_api, db):
    here = factories.cinema(slug="le-grand-rex")
    there = factories.cinema()
    mine = factories.screening(factories.auditorium(here, 1, 1))
    factories.screening(factories.auditorium(there, 1, 1))
    assert ids(anon_api.get(f"/api/v1/screenings/?cinema={here.pk}")) == [mine.pk]
    assert ids(anon_api.get("/api/v1/screenings/?cinema=le-grand-rex")) == [mine.pk]
    assert ids(anon_api.get("/api/v1/screenings/?cinema=nowhere")) == []
    assert ids(anon_api.get("/api/v1/screenings/?cinema=987654")) == []


@pytest.fixture
def around_midnight(db):
    """Screenings in Paris (UTC+1/+2) and Shanghai (UTC+8) on either side of local midnight of
    `day`. Taken as a UTC day, `day` would hold a different set."""
    day = timezone.localdate() + timedelta(days=10)
    film = factories.film(runtime_minutes=20)
    paris = factories.cinema(slug="paris", time_zone="Europe/Paris")
    shanghai = factories.cinema(slug="shanghai", time_zone="Asia/Shanghai", currency="CNY")
    p_room, s_room = factories.auditorium(paris, 1, 2), factories.auditorium(shanghai, 1, 2)
    s = {
        "paris_before": show(p_room, film, at("Europe/Paris", day - timedelta(days=1), 23, 30)),
        "paris_early": show(p_room, film, at("Europe/Paris", day, 0, 10)),
        "paris_late": show(p_room, film, at("Europe/Paris", day, 23, 30)),
        "paris_after": show(p_room, film, at("Europe/Paris", day + timedelta(days=1), 0, 30)),
        "shanghai_before": show(s_room, film, at("Asia/Shanghai", day - timedelta(days=1), 23, 30)),
        "shanghai_early": show(s_room, film, at("Asia/Shanghai", day, 0, 30)),
        "shanghai_late": show(s_room, film, at("Asia/Shanghai", day, 23, 30)),
        "shanghai_after": show(s_room, film, at("Asia/Shanghai", day + timedelta(days=1), 0, 10)),
    }
    return day, s


def test_the_date_filter_is_a_day_in_each_cinemas_own_time_zone(anon_api, around_midnight):
    day, s = around_midnight
    got = set(ids(anon_api.get(f"/api/v1/screenings/?date={day.isoformat()}")))
    assert got == {
        s["paris_early"].pk,
        s["paris_late"].pk,
        s["shanghai_early"].pk,
        s["shanghai_late"].pk,
    }

    utc_day = {k for k, v in s.items() if v.starts_at.astimezone(ZoneInfo("UTC")).date() == day}
    assert {s[k].pk for k in utc_day} != got  # the fixture does tell the two readings apart


def test_the_date_filter_combines_with_the_cinema(anon_api, around_midnight):
    day, s = around_midnight
    response = anon_api.get(f"/api/v1/screenings/?date={day.isoformat()}&cinema=shanghai")
    assert ids(response) == [s["shanghai_early"].pk, s["shanghai_late"].pk]
    first = response.json()["results"][0]
    assert first["starts_at_local"] == at("Asia/Shanghai", day, 0, 30).isoformat()
    assert first["cinema"] == {
        "id": s["shanghai_early"].auditorium.cinema_id,
        "name": first["cinema"]["name"],
        "time_zone": "Asia/Shanghai",
    }


@pytest.mark.parametrize("value", ["2026-02-30", "tomorrow", "26/11/2026", "2026-1-1x"])
def test_an_invalid_date_is_400_naming_the_field(anon_api, value, db):
    details = assert_error(anon_api.get(f"/api/v1/screenings/?date={value}"), 400, "invalid")
    assert set(details) == {"date"}


@pytest.mark.parametrize(
    ("query", "field"), [("film=abc", "film"), ("film=0", "film"), ("cinema=" + "x" * 61, "cinema")]
)
def test_invalid_filters_are_400_naming_the_field(anon_api, query, field, db):
    assert set(assert_error(anon_api.get(f"/api/v1/screenings/?{query}"), 400, "invalid")) == {
        field
    }


def test_screenings_are_paginated_fifty_a_page(anon_api, auditorium):
    film = factories.film(runtime_minutes=60)
    start = timezone.now() + timedelta(hours=1)
    made = [show(auditorium, film, start + timedelta(hours=2 * n)).pk for n in range(51)]

    first = anon_api.get("/api/v1/screenings/").json()
    assert first["count"] == 51
    assert [s["id"] for s in first["results"]] == made[:50]
    assert first["previous"] is None and first["next"].endswith("/api/v1/screenings/?page=2")

    second = anon_api.get("/api/v1/screenings/?page=2").json()
    assert [s["id"] for s in second["results"]] == made[50:]
    assert second["next"] is None
    assert_error(anon_api.get("/api/v1/screenings/?page=3"), 404, "not_found")


def test_a_screening_in_the_list(anon_api, screening):
    item = anon_api.get("/api/v1/screenings/").json()["results"][0]
    cinema = screening.auditorium.cinema
    assert item["id"] == screening.pk
    assert item["film"] == {"id": screening.film_id, "title": screening.film.title}
    assert item["auditorium"] == {"id": screening.auditorium_id, "name": screening.auditorium.name}
    assert (
        item["starts_at_local"]
        == timezone.localtime(screening.starts_at, ZoneInfo(cinema.time_zone)).isoformat()
    )
    assert (item["status"], item["on_sale"], item["format"]) == ("scheduled", True, "2D")


# ---- one screening -----------------------------------------------------------------------------
def test_a_screening_lists_its_ticket_types_with_its_own_prices_surcharges_and_fee(
    anon_api, screening
):
    cinema = screening.auditorium.cinema
    adult = TicketType.objects.get(cinema=cinema, code="adult")
    TicketType.objects.create(
        cinema=cinema, code="senior", name="Senior", price=900, sort_order=3, is_active=False
    )
    ScreeningPrice.objects.create(screening=screening, ticket_type=adult, price=950)
    other = factories.screening(screening.auditorium, timedelta(days=3))
    child = TicketType.objects.get(cinema=cinema, code="child")
    ScreeningPrice.objects.create(
        screening=other, ticket_type=child, price=1
    )  # not this screening's

    body = anon_api.get(f"/api/v1/screenings/{screening.pk}/").json()
    assert body["ticket_types"] == [
        {"id": adult.pk, "code": "adult", "name": "Adult", "price": 950},
        {"id": child.pk, "code": "child", "name": "Child", "price": 800},
    ]
    assert body["seat_type_surcharges"] == {"premium": 300}
    assert body["booking_fee"] == {"per_ticket": 100, "cap_per_order": 300}
    assert body["currency"] == "EUR"
    assert body["id"] == screening.pk and body["on_sale"] is True


def test_the_screening_price_is_what_an_order_is_charged(api, screening):
    adult = TicketType.objects.get(cinema=screening.auditorium.cinema, code="adult")
    ScreeningPrice.objects.create(screening=screening, ticket_type=adult, price=950)
    a1, a2 = factories.seats(screening.auditorium, "A1", "A2")
    Seat.objects.filter(pk=a2).update(seat_type="premium")
    held = hold(api, screening, a1, a2).json()["id"]

    body = order(api, held, [(a1, "adult"), (a2, "adult")]).json()
    # 950 + (950 + 300 premium) and a booking fee of 100 a ticket
    assert (body["subtotal"], body["booking_fee"], body["total"]) == (2200, 200, 2400)


def test_an_unknown_screening_is_404(anon_api, db):
    assert_error(anon_api.get("/api/v1/screenings/987654/"), 404, "screening_not_found")


# ---- the seat map ------------------------------------------------------------------------------
def test_the_seat_map_says_which_seats_are_available_held_sold_or_blocked(api, anon_api, screening):
    room = screening.auditorium
    a1, a2, b1, b2, c1, c2 = factories.seats(room, "A1", "A2", "B1", "B2", "C1", "C2")
    Seat.objects.filter(pk=c1).update(is_sellable=False)
    assert hold(api, screening, b1, b2).status_code == 201
    sold_hold = hold(api, screening, a1).json()["id"]
    order_mark_paid(order_id=order(api, sold_hold, [(a1, "adult")]).json()["id"], actor="test")

    response = anon_api.get(f"/api/v1/screenings/{screening.pk}/seats/")
    assert response.status_code == 200
    assert response["Cache-Control"] == "max-age=1"
    body = response.json()
    status = {s["id"]: s["status"] for s in body["seats"]}
    assert (status[a1], status[a2], status[b1], status[b2], status[c1], status[c2]) == (
        "sold",
        "available",
        "held",
        "held",
        "blocked",
        "available",
    )
    assert body["counts"] == {"available": 46, "held": 2, "sold": 1, "blocked": 1}
    assert (body["screening"], body["auditorium"]) == (screening.pk, room.pk)
    assert len(body["seats"]) == 50
    first = body["seats"][0]
    assert first == {
        "id": a1,
        "row": "A",
        "number": 1,
        "label": "A1",
        "x": 0,
        "y": 0,
        "type": "standard",
        "pair": None,
        "status": "sold",
    }


def test_a_seat_whose_hold_has_expired_is_available_even_before_any_sweep(api, anon_api, screening):
    a1, a2 = factories.seats(screening.auditorium, "A1", "A2")
    held = hold(api, screening, a1, a2).json()["id"]
    past = timezone.now() - timedelta(seconds=1)
    Hold.objects.filter(pk=held).update(expires_at=past)
    SeatClaim.objects.filter(hold_id=held).update(expires_at=past)

    statuses = {
        s["id"]: s["status"]
        for s in anon_api.get(f"/api/v1/screenings/{screening.pk}/seats/").json()["seats"]
    }
    assert statuses[a1] == statuses[a2] == "available"
    assert hold(api, screening, a1, a2).status_code == 201
