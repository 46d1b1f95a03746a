"""Holding seats from the seat map page: ticked seats or the best N, refusals that say why, and
choosing again."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests import factories
from tests.storefront.support import buyer_key, held_by, hold_seats, html, seat_id, seat_input
from ticketing.inventory.models import Hold, HoldStatus, SeatClaim
from ticketing.screenings.models import Screening, ScreeningStatus

pytestmark = pytest.mark.django_db


def claimed(hold: Hold) -> set[int]:
    return set(SeatClaim.objects.filter(hold_id=hold.pk).values_list("seat_id", flat=True))


def test_holding_ticked_seats_redirects_to_the_checkout_of_a_hold_on_exactly_those_seats(
    client, screening
):
    response = hold_seats(client, screening, "C4", "C5")

    assert response.status_code == 302
    [hold] = Hold.objects.filter(screening=screening)
    assert response["Location"] == f"/checkout/{hold.pk}/"
    assert hold.buyer_key == buyer_key(client)
    assert claimed(hold) == set(factories.seats(screening.auditorium, "C4", "C5"))


def test_holding_the_best_n_seats_together_redirects_to_checkout(client, screening):
    response = client.post(f"/screenings/{screening.pk}/hold/", {"mode": "best", "quantity": "3"})

    assert response.status_code == 302
    [hold] = Hold.objects.filter(screening=screening)
    assert response["Location"] == f"/checkout/{hold.pk}/"
    seats = screening.auditorium.seats.filter(pk__in=claimed(hold))
    assert len(seats) == 3
    assert len({s.row_label for s in seats}) == 1  # together, in one row


def test_a_seat_taken_by_another_buyer_is_refused_with_its_label(client, screening):
    factories.held(screening, "D7", buyer_key="another-buyer")
    d7, d8 = factories.seats(screening.auditorium, "D7", "D8")

    response = hold_seats(client, screening, "D7", "D8")

    assert response.status_code == 409
    assert "Sorry, seat D7 has just been taken by someone else. Please choose another." in html(
        response
    )
    assert 'role="alert" id="hold-error"' in html(response)
    assert " disabled" in seat_input(response, d7)
    assert " checked" not in seat_input(response, d7)
    assert " checked" in seat_input(response, d8)  # still chosen: pick one more and go
    assert not Hold.objects.filter(screening=screening).exclude(buyer_key="another-buyer")


def test_two_taken_seats_are_named_together(client, screening):
    factories.held(screening, "A1", "A2", buyer_key="another-buyer")

    response = hold_seats(client, screening, "A1", "A2", "A3")

    assert response.status_code == 409
    assert "Sorry, seats A1, A2 have just been taken by someone else." in html(response)


def test_holding_no_seats_is_a_400_that_asks_for_seats(client, screening):
    response = client.post(f"/screenings/{screening.pk}/hold/", {"mode": "seats"})

    assert response.status_code == 400
    assert "Choose at least one seat, or how many seats you want." in html(response)
    assert not Hold.objects.exists()


def test_a_seat_that_is_not_a_number_is_a_400(client, screening):
    response = client.post(f"/screenings/{screening.pk}/hold/", {"mode": "seats", "seat": "A1"})

    assert response.status_code == 400
    assert "Choose at least one seat" in html(response)


@pytest.mark.parametrize("mode", ["best", "seats"])
def test_asking_for_more_seats_than_the_limit_is_a_400_that_names_the_limit(
    client, settings, screening, mode
):
    settings.MARQUEE = {**settings.MARQUEE, "MAX_SEATS_PER_ORDER": 4}
    if mode == "best":
        response = client.post(
            f"/screenings/{screening.pk}/hold/", {"mode": "best", "quantity": "5"}
        )
    else:
        response = hold_seats(client, screening, "A1", "A2", "A3", "A4", "A5")

    assert response.status_code == 400
    assert "You can book at most 4 seats at a time." in html(response)
    assert not Hold.objects.exists()


def test_holding_again_on_the_same_screening_replaces_the_previous_hold(client, screening):
    first = held_by(client, screening, "A1", "A2")

    second = held_by(client, screening, "A2", "A3")

    first.refresh_from_db()
    assert first.status == HoldStatus.RELEASED
    assert claimed(first) == set()
    assert second.status == HoldStatus.ACTIVE
    assert claimed(second) == set(factories.seats(screening.auditorium, "A2", "A3"))
    assert Hold.objects.filter(status=HoldStatus.ACTIVE).count() == 1


def test_holding_on_another_screening_keeps_the_first_hold(client, screening, auditorium):
    other = factories.screening(auditorium, starts_in=timedelta(days=2))
    first = held_by(client, screening, "A1")

    held_by(client, other, "A1")

    first.refresh_from_db()
    assert first.status == HoldStatus.ACTIVE


def test_when_the_new_choice_is_refused_the_seats_held_before_stay_held(client, screening):
    first = held_by(client, screening, "B1", "B2")
    factories.held(screening, "B5", buyer_key="another-buyer")

    response = hold_seats(client, screening, "B4", "B5")

    assert response.status_code == 409
    first.refresh_from_db()
    assert first.status == HoldStatus.ACTIVE
    assert claimed(first) == set(factories.seats(screening.auditorium, "B1", "B2"))
    assert "You are holding 2 seats for this screening." in html(response)


def test_an_empty_new_choice_is_refused_and_the_seats_held_before_stay_held(client, screening):
    first = held_by(client, screening, "C1")

    response = client.post(f"/screenings/{screening.pk}/hold/", {"mode": "seats"})

    assert response.status_code == 400
    first.refresh_from_db()
    assert first.status == HoldStatus.ACTIVE
    assert claimed(first) == {seat_id(screening, "C1")}


def test_a_screening_whose_sales_have_not_opened_refuses_holds_with_409(client, screening):
    Screening.objects.filter(pk=screening.pk).update(
        sales_open_at=timezone.now() + timedelta(hours=6)
    )

    response = hold_seats(client, screening, "A1")

    assert response.status_code == 409
    assert "Tickets for this screening are not on sale." in html(response)
    assert not Hold.objects.exists()


def test_a_cancelled_screening_refuses_holds_with_409(client, screening):
    Screening.objects.filter(pk=screening.pk).update(status=ScreeningStatus.CANCELLED)

    response = client.post(f"/screenings/{screening.pk}/hold/", {"mode": "best", "quantity": "2"})

    assert response.status_code == 409
    assert "Tickets for this screening are not on sale." in html(response)
    assert "This screening has been cancelled." in html(response)
    assert not Hold.objects.exists()


def test_best_seats_together_when_no_block_is_left_is_a_409(client, cinema):
    room = factories.auditorium(cinema, rows=1, per_row=4)
    screening = factories.screening(room)
    factories.held(screening, "A2", buyer_key="another-buyer")

    response = client.post(f"/screenings/{screening.pk}/hold/", {"mode": "best", "quantity": "3"})

    assert response.status_code == 409
    assert "There are not that many seats together any more." in html(response)


def test_choosing_one_half_of_a_couple_seat_holds_both_halves(client, cinema):
    room = factories.layout_room(cinema, "ss<>ss")
    screening = factories.screening(room)
    left, right = factories.seats(room, "A3", "A4")

    hold = held_by(client, screening, "A3")

    assert claimed(hold) == {left, right}
    page = html(client.get(f"/checkout/{hold.pk}/"))
    assert '<th scope="row">A3 <span class="meta">Couple</span></th>' in page
    assert '<th scope="row">A4 <span class="meta">Couple</span></th>' in page


def test_a_blocked_seat_is_refused_with_a_400(client, cinema):
    room = factories.layout_room(cinema, "ssxss")
    screening = factories.screening(room)

    response = hold_seats(client, screening, "A2", "A3")

    assert response.status_code == 400
    assert "One of those seats is not for sale." in html(response)
    assert not Hold.objects.exists()


def test_a_seat_of_another_auditorium_is_refused_with_a_400(client, screening, cinema):
    elsewhere = factories.auditorium(cinema, rows=1, per_row=2)

    response = client.post(
        f"/screenings/{screening.pk}/hold/",
        {"mode": "seats", "seat": factories.seats(elsewhere, "A1")},
    )

    assert response.status_code == 400
    assert "One of those seats is not in this auditorium." in html(response)


def test_holding_on_an_unknown_screening_is_a_404(client):
    assert (
        client.post("/screenings/999999999/hold/", {"mode": "best", "quantity": "2"}).status_code
        == 404
    )


def test_holding_needs_a_post(client, screening):
    assert client.get(f"/screenings/{screening.pk}/hold/").status_code == 405


def test_the_seat_map_shows_my_held_seats_ticked_and_offers_to_carry_on(client, screening):
    hold = held_by(client, screening, "E1", "E2")
    factories.held(screening, "E5", buyer_key="another-buyer")
    e1, e5, e6 = factories.seats(screening.auditorium, "E1", "E5", "E6")

    page = client.get(f"/screenings/{screening.pk}/")

    assert page.status_code == 200
    assert "You are holding 2 seats for this screening." in html(page)
    assert f'href="/checkout/{hold.pk}/"' in html(page)
    mine = seat_input(page, e1)
    assert " checked" in mine and 'data-mine="1"' in mine and " disabled" not in mine
    assert " disabled" in seat_input(page, e5)
    assert " disabled" not in seat_input(page, e6) and " checked" not in seat_input(page, e6)


def test_another_browser_sees_my_held_seats_as_taken(client, screening):
    held_by(client, screening, "E1")
    from django.test import Client

    page = Client().get(f"/screenings/{screening.pk}/")

    assert " disabled" in seat_input(page, seat_id(screening, "E1"))
    assert "You are holding" not in html(page)


def test_a_ticket_type_that_is_not_a_plain_number_is_ignored_not_a_server_error(client, screening):
    """'²' passes str.isdigit() but not int(): the hold must still go through, the type asked again."""
    from tests.storefront.support import seat_id

    seat = seat_id(screening, "A1")
    response = client.post(
        f"/screenings/{screening.pk}/hold/", {"mode": "seats", "seat": [seat], f"type_{seat}": "²"}
    )
    assert response.status_code == 302
    assert "/checkout/" in response["Location"]


def test_the_page_that_answers_a_refused_hold_points_language_and_sign_in_at_the_map(
    client, screening
):
    from tests.storefront.support import seat_id

    factories.held(screening, "A1", buyer_key="someone-else")
    response = client.post(
        f"/screenings/{screening.pk}/hold/", {"mode": "seats", "seat": [seat_id(screening, "A1")]}
    )
    page = response.content.decode()
    assert response.status_code == 409
    assert f'name="next" value="/screenings/{screening.pk}/"' in page
    assert f"next=/screenings/{screening.pk}/" in page.replace("%2F", "/")
