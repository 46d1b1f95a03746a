"""The catalogue pages: what is on, on which local day, where, and how full."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from tests import factories
from tests.storefront.support import (
    at_local,
    fill,
    html,
    html_lang,
    later_today,
    local_today,
    screening_at,
)
from ticketing.screenings.models import Screening, ScreeningStatus

pytestmark = pytest.mark.django_db


def titles(response) -> list[str]:
    return [item.film.title for item in response.context["films"]]


def fresh_get(path: str):
    """A page as a new browser sees it (no cinema cookie)."""
    response = Client().get(path)
    assert response.status_code == 200, response.content[:300]
    return response


def test_a_screening_at_2330_in_shanghai_is_listed_on_that_local_day_not_on_the_utc_day():
    shanghai = factories.cinema(time_zone="Asia/Shanghai", currency="CNY", slug="shanghai")
    day = local_today(shanghai) + timedelta(days=2)
    late = screening_at(
        factories.auditorium(shanghai),
        at_local(shanghai, day, 23, 30),  # 15:30 UTC the same day
        film=factories.film(title="Late Show"),
    )
    screening_at(
        factories.auditorium(shanghai),
        at_local(shanghai, day + timedelta(days=1), 0, 30),  # 16:30 UTC on `day` too
        film=factories.film(title="After Midnight"),
    )
    assert late.starts_at.date() == day  # the same UTC day as the 00:30 one

    on_day = fresh_get(f"/?cinema=shanghai&date={day.isoformat()}")
    assert titles(on_day) == ["Late Show"]
    assert "23:30" in html(on_day)
    next_day = fresh_get(f"/?cinema=shanghai&date={(day + timedelta(days=1)).isoformat()}")
    assert titles(next_day) == ["After Midnight"]
    assert "00:30" in html(next_day)


def test_the_home_page_of_a_site_without_cinemas_yet_says_nothing_is_on(client):
    response = client.get("/")

    assert response.status_code == 200
    assert "Nothing is showing on this day." in html(response)


def test_the_home_page_groups_a_films_showtimes_per_cinema(client):
    alpha = factories.cinema(name="Alpha", time_zone="Europe/Paris")
    beta = factories.cinema(name="Beta", time_zone="Europe/London")
    film = factories.film(title="Shared Film")
    day = local_today(alpha) + timedelta(days=1)
    screening_at(factories.auditorium(beta), at_local(beta, day, 18), film=film)
    screening_at(factories.auditorium(alpha), at_local(alpha, day, 21), film=film)
    screening_at(factories.auditorium(alpha), at_local(alpha, day, 14), film=film)

    response = client.get(f"/?date={day.isoformat()}")

    assert response.status_code == 200
    [item] = response.context["films"]
    assert [group.cinema.name for group in item.cinemas] == ["Alpha", "Beta"]
    assert [
        [show.starts_local.strftime("%H:%M") for show in group.showtimes] for group in item.cinemas
    ] == [["14:00", "21:00"], ["18:00"]]
    page = html(response)
    assert page.index(">Alpha</a></h4>") < page.index("14:00") < page.index("21:00")
    assert page.index("21:00") < page.index(">Beta</a></h4>") < page.index("18:00")


def test_choosing_a_cinema_filters_the_home_page_and_the_choice_is_remembered_in_a_cookie(client):
    here = factories.cinema(name="Here", slug="here")
    there = factories.cinema(name="There", slug="there")
    day = local_today(here) + timedelta(days=1)
    screening_at(
        factories.auditorium(here), at_local(here, day, 20), film=factories.film(title="A")
    )
    screening_at(
        factories.auditorium(there), at_local(there, day, 20), film=factories.film(title="B")
    )
    assert titles(client.get(f"/?date={day}")) == ["A", "B"]

    chosen = client.get(f"/?cinema=there&date={day}")
    assert titles(chosen) == ["B"]
    assert chosen.cookies["marquee_cinema"].value == "there"
    assert chosen.context["cinema"] == there

    remembered = client.get(f"/?date={day}")  # no ?cinema=: the cookie decides
    assert titles(remembered) == ["B"]
    assert 'value="there" selected' in html(remembered)


def test_choosing_all_cinemas_forgets_the_remembered_cinema(client):
    here = factories.cinema(slug="here")
    there = factories.cinema(slug="there")
    day = local_today(here) + timedelta(days=1)
    screening_at(
        factories.auditorium(here), at_local(here, day, 20), film=factories.film(title="A")
    )
    screening_at(
        factories.auditorium(there), at_local(there, day, 20), film=factories.film(title="B")
    )
    client.get("/?cinema=there")

    response = client.get(f"/?cinema=&date={day}")

    assert titles(response) == ["A", "B"]
    assert response.cookies["marquee_cinema"].value == ""  # deleted
    assert titles(client.get(f"/?date={day}")) == ["A", "B"]


@pytest.mark.parametrize("asked", ["far", "past", "garbage"])
def test_a_date_outside_the_strip_falls_back_to_today(client, cinema, asked):
    today = local_today(cinema)
    value = {
        "far": (today + timedelta(days=30)).isoformat(),
        "past": (today - timedelta(days=1)).isoformat(),
        "garbage": "27/11/2026",
    }[asked]
    screening_at(
        factories.auditorium(cinema), later_today(cinema), film=factories.film(title="Tonight")
    )

    response = client.get(f"/?cinema={cinema.slug}&date={value}")

    assert response.status_code == 200
    assert response.context["day"] == today
    assert response.context["strip"][0] == today and len(response.context["strip"]) == 7
    assert titles(response) == ["Tonight"]
    assert 'aria-current="date"' in html(response)


def test_coming_soon_lists_films_released_later_that_have_no_screenings(client, cinema):
    today = local_today(cinema)
    factories.film(title="Next Month", release_date=today + timedelta(days=30))
    factories.film(title="Next Week", release_date=today + timedelta(days=7))
    factories.film(title="Old Film", release_date=today - timedelta(days=300))
    presold = factories.film(title="Presold", release_date=today + timedelta(days=3))
    factories.screening(factories.auditorium(cinema), starts_in=timedelta(days=3), film=presold)

    response = client.get("/")

    assert [f.title for f in response.context["coming_soon"]] == ["Next Week", "Next Month"]
    page = html(response)
    assert "Coming soon" in page
    assert page.index("Next Week") < page.index("Next Month")
    assert "Old Film" not in page


def test_an_almost_full_showtime_says_how_many_seats_are_left(client, cinema):
    room = factories.auditorium(cinema, rows=1, per_row=10)
    day = local_today(cinema) + timedelta(days=1)
    show = screening_at(room, at_local(cinema, day, 20))
    fill(show, [f"A{n}" for n in range(1, 9)])  # 8 of 10 taken: the 80% mark

    response = client.get(f"/?date={day}")

    [item] = response.context["films"]
    [showtime] = item.cinemas[0].showtimes
    assert (showtime.almost_full, showtime.sold_out, showtime.seats_left) == (True, False, 2)
    page = html(response)
    assert "Almost full: 2 seats left" in page
    assert f'href="/screenings/{show.pk}/"' in page  # still bookable


def test_seven_of_ten_seats_taken_is_not_yet_almost_full(client, cinema):
    room = factories.auditorium(cinema, rows=1, per_row=10)
    day = local_today(cinema) + timedelta(days=1)
    show = screening_at(room, at_local(cinema, day, 20))
    fill(show, [f"A{n}" for n in range(1, 8)])

    page = html(client.get(f"/?date={day}"))

    assert "Almost full" not in page
    assert "Sold out" not in page


def test_a_sold_out_showtime_is_marked_and_not_linked(client, cinema):
    room = factories.auditorium(cinema, rows=1, per_row=10)
    day = local_today(cinema) + timedelta(days=1)
    show = screening_at(room, at_local(cinema, day, 20))
    fill(show, [f"A{n}" for n in range(1, 11)])

    page = html(client.get(f"/?date={day}"))

    assert "Sold out" in page
    assert f'href="/screenings/{show.pk}/"' not in page


def test_seats_of_expired_holds_do_not_make_a_showtime_sold_out(client, cinema):
    from ticketing.inventory.models import Hold, SeatClaim

    room = factories.auditorium(cinema, rows=1, per_row=10)
    day = local_today(cinema) + timedelta(days=1)
    show = screening_at(room, at_local(cinema, day, 20))
    fill(show, [f"A{n}" for n in range(1, 11)])
    past = timezone.now() - timedelta(seconds=1)
    Hold.objects.filter(screening=show).update(expires_at=past)  # no sweep has run
    SeatClaim.objects.filter(screening=show).update(expires_at=past)

    page = html(client.get(f"/?date={day}"))

    assert "Sold out" not in page
    assert f'href="/screenings/{show.pk}/"' in page


def test_a_cancelled_screening_is_listed_nowhere(client, cinema):
    day = local_today(cinema) + timedelta(days=1)
    film = factories.film(title="Cancelled One", slug="cancelled-one")
    show = screening_at(factories.auditorium(cinema), at_local(cinema, day, 20), film=film)
    Screening.objects.filter(pk=show.pk).update(status=ScreeningStatus.CANCELLED)

    assert titles(client.get(f"/?date={day}")) == []
    assert client.get("/films/cancelled-one/").context["days"] == []
    assert titles(client.get(f"/cinemas/{cinema.slug}/?date={day}")) == []


def test_a_screening_that_has_started_is_no_longer_listed(client, cinema):
    started = screening_at(
        factories.auditorium(cinema),
        timezone.now() - timedelta(seconds=1),
        film=factories.film(title="Started"),
    )
    screening_at(
        factories.auditorium(cinema), later_today(cinema), film=factories.film(title="Later")
    )

    response = client.get("/")

    assert titles(response) == ["Later"]
    assert f"/screenings/{started.pk}/" not in html(response)


def test_a_showtime_not_on_sale_yet_is_listed_but_not_linked(client, cinema):
    day = local_today(cinema) + timedelta(days=1)
    show = screening_at(
        factories.auditorium(cinema),
        at_local(cinema, day, 20),
        sales_open_at=timezone.now() + timedelta(hours=2),
    )

    page = html(client.get(f"/?date={day}"))

    assert "Not on sale" in page
    assert f'href="/screenings/{show.pk}/"' not in page


def test_the_film_page_groups_showtimes_by_local_day_then_cinema(client):
    paris = factories.cinema(name="Paris", slug="paris", time_zone="Europe/Paris")
    shanghai = factories.cinema(
        name="Shanghai", slug="shanghai", time_zone="Asia/Shanghai", currency="CNY"
    )
    film = factories.film(title="Everywhere", slug="everywhere")
    day = local_today(shanghai) + timedelta(days=2)
    p1, s1 = factories.auditorium(paris), factories.auditorium(shanghai)
    screening_at(s1, at_local(shanghai, day, 23, 30), film=film)  # Shanghai's evening of `day`
    screening_at(p1, at_local(paris, day, 20), film=film)
    screening_at(p1, at_local(paris, day + timedelta(days=1), 10), film=film)
    screening_at(s1, at_local(shanghai, day + timedelta(days=1), 9), film=film)
    screening_at(p1, at_local(paris, day, 11), film=film)

    response = client.get("/films/everywhere/")

    assert response.status_code == 200
    assert [
        (
            d.day,
            [
                (c.cinema.name, [s.starts_local.strftime("%H:%M") for s in c.showtimes])
                for c in d.cinemas
            ],
        )
        for d in response.context["days"]
    ] == [
        (day, [("Paris", ["11:00", "20:00"]), ("Shanghai", ["23:30"])]),
        (day + timedelta(days=1), [("Paris", ["10:00"]), ("Shanghai", ["09:00"])]),
    ]
    assert html(response).count('class="day-block"') == 2


def test_the_cinema_page_shows_its_own_programme_in_its_own_time_zone(client):
    shanghai = factories.cinema(
        name="Shanghai", slug="shanghai", time_zone="Asia/Shanghai", currency="CNY"
    )
    paris = factories.cinema(name="Paris", slug="paris")
    day = local_today(shanghai) + timedelta(days=1)
    screening_at(
        factories.auditorium(shanghai),
        at_local(shanghai, day, 19, 45),
        film=factories.film(title="In Shanghai"),
    )
    screening_at(
        factories.auditorium(paris), at_local(paris, day, 19), film=factories.film(title="In Paris")
    )

    response = client.get(f"/cinemas/shanghai/?date={day}")

    assert response.status_code == 200
    assert response.context["today"] == local_today(shanghai)
    assert titles(response) == ["In Shanghai"]
    page = html(response)
    assert "19:45" in page
    assert "Asia/Shanghai" in page


def headings(response) -> tuple[str, str]:
    """The page's <title> and <h1>: what tells a buyer which page this is."""
    page = html(response)
    title = re.search(r"<title>(.*?)</title>", page, re.S)
    h1 = re.search(r"<h1>(.*?)</h1>", page, re.S)
    assert title and h1, page[:500]
    return title.group(1).strip(), h1.group(1).strip()


@pytest.mark.parametrize(
    "path", ["/films/no-such-film/", "/cinemas/no-such-cinema/", "/screenings/999999999/"]
)
def test_an_unknown_film_cinema_or_screening_is_a_404_in_the_sites_html_error_shape(client, path):
    not_a_page = client.get("/no-such-page/")  # what handler404 answers off the API
    assert not_a_page.status_code == 404
    assert not_a_page["Content-Type"].startswith("text/html")

    response = client.get(path)

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
    assert headings(response) == headings(not_a_page)
    assert b'"error"' not in response.content  # not the API's JSON shape


def test_off_the_api_a_404_is_the_storefronts_page_in_the_buyers_language(client):
    client.cookies["django_language"] = "fr"

    response = client.get("/films/no-such-film/")

    assert response.status_code == 404
    assert html_lang(response) == "fr"
    assert 'href="/"' in html(response)  # a way back to what's on


def test_on_the_api_a_404_keeps_the_apis_json_shape(client):
    response = client.get("/api/v1/no-such-endpoint/")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_with_all_cinemas_tonight_at_the_westernmost_cinema_is_on_the_strip(client):
    east = factories.cinema(name="Alpha East", slug="east", time_zone="Etc/GMT-14")  # UTC+14
    west = factories.cinema(name="Beta West", slug="west", time_zone="Etc/GMT+12")  # UTC-12
    west_today = local_today(west)
    assert local_today(east) > west_today  # 26 hours apart: always another day
    screening_at(
        factories.auditorium(west), later_today(west), film=factories.film(title="Tonight West")
    )

    response = client.get("/")

    assert west_today in response.context["strip"]
    assert titles(client.get(f"/?date={west_today}")) == ["Tonight West"]


def test_the_film_page_shows_the_remembered_cinemas_showtimes_only(client):
    here = factories.cinema(name="Here", slug="here")
    there = factories.cinema(name="There", slug="there")
    film = factories.film(slug="both")
    day = local_today(here) + timedelta(days=1)
    screening_at(factories.auditorium(here), at_local(here, day, 18), film=film)
    screening_at(factories.auditorium(there), at_local(there, day, 21), film=film)
    client.get("/?cinema=here")

    response = client.get("/films/both/")

    assert [c.cinema.name for d in response.context["days"] for c in d.cinemas] == ["Here"]


def test_the_film_page_does_not_say_a_film_has_no_showtimes_when_it_plays_elsewhere(client):
    factories.cinema(name="Here", slug="here")
    there = factories.cinema(name="There", slug="there")
    film = factories.film(slug="elsewhere")
    day = local_today(there) + timedelta(days=1)
    screening_at(factories.auditorium(there), at_local(there, day, 21), film=film)
    client.get("/?cinema=here")  # remembered in the cookie

    page = html(client.get("/films/elsewhere/"))

    assert "No showtimes are scheduled for this film yet." not in page
