"""The storefront pages cost a fixed number of queries, whatever the size of the auditorium or
of the programme: no query per seat, per showtime, per film or per cinema. Each page is measured
cold: a new browser, nothing cached for that screening or auditorium."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tests import factories
from tests.storefront.support import at_local, fill, held_by, local_today, screening_at
from ticketing.inventory import seatmap

pytestmark = pytest.mark.django_db

# The screening; its cinema's ticket types with the screening's own prices; the surcharges; the live
# statuses; the layout; whether it is in an onsale (ticketing/onsale/selectors.py: cached in
# Redis and 5 s per process, so only a cold page pays it). A browser without a session has no
# hold to look for.
SCREENING_PAGE_QUERIES = 6
# The cinemas; the programme with each showtime's availability; coming soon; the running
# campaign's banner (storefront/campaigns.py).
HOME_PAGE_QUERIES = 4


def cold_queries(path: str) -> tuple[int, object]:
    seatmap.layout_changed()  # this process forgets every layout
    with CaptureQueriesContext(connection) as ctx:
        response = Client().get(path)
    assert response.status_code == 200, response.content[:300]
    return len(ctx.captured_queries), response


def busy_screening(rows: int, per_row: int):
    room = factories.auditorium(factories.cinema(), rows=rows, per_row=per_row)
    screening = factories.screening(room)
    fill(screening, ["A1", "A2", "A3", "B5"])
    factories.pending_order(screening, "C1", "C2")
    return screening


def test_the_screening_page_of_300_seats_costs_the_6_queries_of_one_of_80():
    small = busy_screening(rows=8, per_row=10)
    large = busy_screening(rows=15, per_row=20)

    small_count, small_page = cold_queries(f"/screenings/{small.pk}/")
    large_count, large_page = cold_queries(f"/screenings/{large.pk}/")

    assert small_page.content.count(b'class="seat-input"') == 80
    assert large_page.content.count(b'class="seat-input"') == 300
    assert small_count == large_count == SCREENING_PAGE_QUERIES


def programme(films: int, cinemas: int = 2):
    """`films` films on tomorrow's programme, spread over `cinemas` cinemas, two showtimes each."""
    places = [factories.cinema(time_zone="Europe/Paris") for _ in range(cinemas)]
    day = local_today(places[0]) + timedelta(days=1)
    for n in range(films):
        film = factories.film()
        for i, hour in enumerate((14, 20)):
            place = places[(n + i) % cinemas]
            room = factories.auditorium(place, rows=2, per_row=5)
            screening_at(room, at_local(place, day, hour), film=film)
    factories.film(release_date=day + timedelta(days=30))  # and one coming soon
    return day


def test_the_home_page_with_10_films_costs_the_4_queries_of_one_with_2():
    day = programme(films=2)
    few_count, few = cold_queries(f"/?date={day}")
    assert len(few.context["films"]) == 2

    programme(films=8)
    many_count, many = cold_queries(f"/?date={day}")
    assert len(many.context["films"]) == 10
    assert len(many.context["coming_soon"]) == 2

    assert few_count == many_count == HOME_PAGE_QUERIES


def test_the_film_page_costs_the_same_queries_for_2_and_20_showtimes(client):
    cinema = factories.cinema()
    few = factories.film(slug="few")
    many = factories.film(slug="many")
    today = local_today(cinema)
    for n in range(20):
        room = factories.auditorium(cinema, rows=1, per_row=4)
        for film, upto in ((few, 2), (many, 20)):
            if n < upto:
                day = today + timedelta(days=1 + n % 5)
                screening_at(room, at_local(cinema, day, 10 if film is few else 18), film=film)

    few_count, _ = cold_queries("/films/few/")
    many_count, many_page = cold_queries("/films/many/")

    assert sum(len(c.showtimes) for d in many_page.context["days"] for c in d.cinemas) == 20
    assert few_count == many_count == 4  # the film, the cinemas, the showtimes, its banner


def test_for_a_buyer_holding_seats_the_screening_page_costs_7_queries_at_80_or_300_seats():
    small = busy_screening(rows=8, per_row=10)
    large = busy_screening(rows=15, per_row=20)
    counts = []
    for screening in (small, large):
        buyer = Client()
        held_by(buyer, screening, "H1", "H2")
        seatmap.layout_changed()
        with CaptureQueriesContext(connection) as ctx:
            page = buyer.get(f"/screenings/{screening.pk}/")
        assert page.status_code == 200
        assert page.context["live_hold"] is not None
        counts.append(len(ctx.captured_queries))

    # The five of a visitor, and the session and this browser's live hold.
    assert counts == [7, 7]


def test_the_checkout_page_costs_5_queries_for_1_seat_and_for_10():
    """The session; the hold with its screening, film, auditorium and cinema; the ticket types
    with the screening's own prices; the surcharges; the held seats (priced from what is in
    hand)."""
    counts = []
    for labels in (["A1"], [f"B{n}" for n in range(1, 11)]):
        screening = factories.screening(
            factories.auditorium(factories.cinema(), rows=3, per_row=10)
        )
        buyer = Client()
        hold = held_by(buyer, screening, *labels)
        with CaptureQueriesContext(connection) as ctx:
            page = buyer.get(f"/checkout/{hold.pk}/")
        assert page.status_code == 200
        assert page.content.count(b"data-line-price") == len(labels)
        counts.append(len(ctx.captured_queries))

    assert counts == [5, 5]


def test_the_paid_done_page_costs_3_queries_for_1_ticket_and_for_10():
    from tests.payments import flow
    from ticketing.orders.tickets import order_token

    counts = []
    for labels in (["A1"], [f"B{n}" for n in range(1, 11)]):
        screening = factories.screening(
            factories.auditorium(factories.cinema(), rows=3, per_row=10)
        )
        order = flow.paid(screening, *labels).order
        with CaptureQueriesContext(connection) as ctx:
            page = Client().get(f"/checkout/done/{order_token(order)}/")
        assert page.status_code == 200
        assert page.content.count(b'<svg role="img"') == len(labels)
        counts.append(len(ctx.captured_queries))

    assert counts == [3, 3]  # the order, its tickets, its latest payment
