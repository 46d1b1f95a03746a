"""Checkout: the held seats with their ticket types and prices, the buyer's details, and the
order made once, however often the button is pressed."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from payments.models import Payment, PaymentStatus
from tests import factories
from tests.storefront.support import done_order, expire_hold, held_by, html
from ticketing.inventory.models import Hold, HoldStatus, SeatClaim
from ticketing.orders.models import Order, OrderStatus
from ticketing.screenings.models import Seat

pytestmark = pytest.mark.django_db


@pytest.fixture
def premium_a1(screening):
    """A1 is a premium seat (+3.00 at the factory cinema); the rest are standard."""
    Seat.objects.filter(auditorium=screening.auditorium, row_label="A", number=1).update(
        seat_type="premium"
    )
    return screening


def details(hold: Hold, **fields) -> dict:
    """A complete checkout form: adult tickets, a name and an email."""
    data = {f"type_{seat}": "" for seat in hold.seat_ids}
    adult = hold.screening.auditorium.cinema.ticket_types.get(code="adult").pk
    data.update({key: str(adult) for key in data})
    data.update({"name": "Ada Lovelace", "email": "ada@example.com"})
    data.update(fields)
    return data


def cell(page: str, attribute: str) -> str:
    found = re.search(rf"<td class=\"num\" {attribute}>([^<]*)</td>", page)
    assert found, f"no {attribute} cell"
    return found.group(1)


def test_the_checkout_page_lists_the_held_seats_with_ticket_types_and_the_total(client, premium_a1):
    hold = held_by(client, premium_a1, "A1", "A2")
    a1, a2 = factories.seats(premium_a1.auditorium, "A1", "A2")

    response = client.get(f"/checkout/{hold.pk}/")

    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    page = html(response)
    assert '<th scope="row">A1 <span class="meta">Premium</span></th>' in page
    assert '<th scope="row">A2</th>' in page
    for seat in (a1, a2):
        select = re.search(rf'<select name="type_{seat}".*?</select>', page, re.S).group(0)
        assert re.findall(r">([^<]+)</option>", select) == ["Adult", "Child"]
    lines = re.findall(r"<td class=\"num\" data-line-price>([^<]*)</td>", page)
    assert lines == ["€15.00", "€12.00"]  # 12.00 + 3.00 premium; 12.00
    assert cell(page, "data-fee") == "€2.00"  # 1.00 a ticket
    assert cell(page, "data-total") == "€29.00"


def test_the_booking_fee_stops_at_the_cinemas_cap(client, screening):
    hold = held_by(client, screening, "B1", "B2", "B3", "B4")

    page = html(client.get(f"/checkout/{hold.pk}/"))

    assert cell(page, "data-fee") == "€3.00"  # 4 x 1.00, capped at 3.00
    assert cell(page, "data-total") == "€51.00"


def test_the_total_is_written_the_french_way_in_french(client, premium_a1):
    client.cookies["django_language"] = "fr"
    hold = held_by(client, premium_a1, "A1", "A2")

    page = html(client.get(f"/checkout/{hold.pk}/"))

    assert cell(page, "data-total") == "29,00\xa0€"
    assert cell(page, "data-fee") == "2,00\xa0€"


def test_ticket_types_chosen_on_the_map_are_preselected(client, screening):
    child = screening.auditorium.cinema.ticket_types.get(code="child").pk
    b1, b2 = factories.seats(screening.auditorium, "B1", "B2")
    response = client.post(
        f"/screenings/{screening.pk}/hold/",
        {"mode": "seats", "seat": [b1, b2], f"type_{b2}": str(child)},
    )
    hold_id = response["Location"].split("/")[-2]

    page = html(client.get(f"/checkout/{hold_id}/"))

    b2_select = re.search(rf'<select name="type_{b2}".*?</select>', page, re.S).group(0)
    assert f'<option value="{child}" selected>Child</option>' in b2_select
    assert cell(page, "data-total") == "€22.00"  # 12.00 + 8.00 + 2 x 1.00


def test_someone_elses_hold_is_not_found(client, screening):
    theirs = factories.held(screening, "A1", buyer_key="another-buyer")

    assert client.get(f"/checkout/{theirs.pk}/").status_code == 404
    assert client.post(f"/checkout/{theirs.pk}/", details(theirs)).status_code == 404
    assert client.post(f"/checkout/{theirs.pk}/release/").status_code == 404
    assert Hold.objects.get(pk=theirs.pk).status == HoldStatus.ACTIVE


def test_an_expired_hold_is_a_410_page_with_a_link_back_to_the_screening(client, screening):
    hold = held_by(client, screening, "A1")
    expire_hold(hold)

    response = client.get(f"/checkout/{hold.pk}/")

    assert response.status_code == 410
    page = html(response)
    assert "Time is up: your seats have been released" in page
    assert f'href="/screenings/{screening.pk}/"' in page


def test_posting_the_form_after_the_hold_expired_is_a_410_and_makes_no_order(client, screening):
    hold = held_by(client, screening, "A1")
    expire_hold(hold)

    response = client.post(f"/checkout/{hold.pk}/", details(hold))

    assert response.status_code == 410
    assert not Order.objects.exists()


def test_an_invalid_email_is_a_400_with_the_field_error_and_nothing_is_made(client, screening):
    hold = held_by(client, screening, "A1")

    response = client.post(f"/checkout/{hold.pk}/", details(hold, email="not-an-email"))

    assert response.status_code == 400
    page = html(response)
    assert '<p class="field-error" id="id_email-error">Enter a valid email address.</p>' in page
    assert 'aria-invalid="true"' in page
    assert 'value="Ada Lovelace"' in page  # what was typed stays
    assert not Order.objects.exists()
    assert not Payment.objects.exists()
    assert Hold.objects.get(pk=hold.pk).status == HoldStatus.ACTIVE


def test_a_missing_name_is_a_400(client, screening):
    hold = held_by(client, screening, "A1")

    response = client.post(f"/checkout/{hold.pk}/", details(hold, name=""))

    assert response.status_code == 400
    assert "This field is required." in html(response)
    assert not Order.objects.exists()


def test_the_form_makes_an_order_and_a_sandbox_payment_and_sends_the_buyer_to_pay(
    client, premium_a1
):
    client.cookies["django_language"] = "fr"
    hold = held_by(client, premium_a1, "A1", "A2")
    a1 = factories.seats(premium_a1.auditorium, "A1")[0]
    child = premium_a1.auditorium.cinema.ticket_types.get(code="child").pk

    response = client.post(f"/checkout/{hold.pk}/", details(hold, **{f"type_{a1}": str(child)}))

    order = Order.objects.get()
    payment = Payment.objects.get()
    assert response.status_code == 302
    assert response["Location"] == payment.redirect_url
    assert "/payments/sandbox/" in payment.redirect_url
    assert (payment.provider, payment.status) == ("sandbox", PaymentStatus.REQUIRES_ACTION)
    assert (payment.order_id, payment.amount, payment.currency) == (order.pk, 2500, "EUR")
    assert order.status == OrderStatus.PENDING_PAYMENT
    assert (order.customer_email, order.customer_name) == ("ada@example.com", "Ada Lovelace")
    assert order.language == "fr"
    assert order.user is None
    assert order.hold_id == hold.pk
    assert order.total == 2500  # child 8.00 + 3.00 premium, adult 12.00, fee 2 x 1.00
    assert sorted((t.seat_label, t.ticket_type_name) for t in order.tickets.all()) == [
        ("A1", "Child"),
        ("A2", "Adult"),
    ]
    assert set(SeatClaim.objects.filter(order=order).values_list("seat_id", flat=True)) == set(
        hold.seat_ids
    )


def test_a_signed_in_buyers_order_is_theirs_and_the_form_knows_them(client, screening):
    user = get_user_model().objects.create_user(
        "grace", "grace@example.com", "pw-123456!", first_name="Grace"
    )
    client.force_login(user)
    hold = held_by(client, screening, "A1")

    page = html(client.get(f"/checkout/{hold.pk}/"))
    assert 'value="grace@example.com"' in page
    assert 'value="Grace"' in page

    client.post(f"/checkout/{hold.pk}/", details(hold, name="Grace", email="grace@example.com"))
    assert Order.objects.get().user == user


def test_a_second_post_for_the_same_hold_makes_no_second_order_and_goes_to_the_done_page(
    client, screening
):
    hold = held_by(client, screening, "A1", "A2")
    first = client.post(f"/checkout/{hold.pk}/", details(hold))
    assert first.status_code == 302
    order = Order.objects.get()

    again = client.post(f"/checkout/{hold.pk}/", details(hold))  # double click, or back + submit

    assert again.status_code == 302
    assert done_order(again["Location"]) == order.pk
    assert Order.objects.count() == 1
    assert Payment.objects.count() == 1
    back = client.get(f"/checkout/{hold.pk}/")  # the back button
    assert back.status_code == 302 and done_order(back["Location"]) == order.pk


def test_releasing_the_seats_gives_them_back_and_returns_to_the_screening(client, screening):
    hold = held_by(client, screening, "A1", "A2")

    response = client.post(f"/checkout/{hold.pk}/release/")

    assert response.status_code == 302
    assert response["Location"] == f"/screenings/{screening.pk}/"
    hold.refresh_from_db()
    assert hold.status == HoldStatus.RELEASED
    assert not SeatClaim.objects.filter(screening=screening).exists()
    page = client.get(response["Location"])
    assert "Your seats were released." in html(page)
    assert "You are holding" not in html(page)


def test_a_released_hold_cannot_be_checked_out(client, screening):
    hold = held_by(client, screening, "A1")
    client.post(f"/checkout/{hold.pk}/release/")

    assert client.get(f"/checkout/{hold.pk}/").status_code == 410
    assert client.post(f"/checkout/{hold.pk}/", details(hold)).status_code == 410
    assert not Order.objects.exists()


def test_releasing_needs_a_post(client, screening):
    hold = held_by(client, screening, "A1")

    assert client.get(f"/checkout/{hold.pk}/release/").status_code == 405
    assert Hold.objects.get(pk=hold.pk).status == HoldStatus.ACTIVE


def test_a_hold_of_one_browser_is_not_visible_to_a_new_one(client, screening):
    hold = held_by(client, screening, "A1")

    assert Client().get(f"/checkout/{hold.pk}/").status_code == 404


def test_a_screenings_own_price_replaces_the_cinemas_list_price(client, screening):
    from ticketing.screenings.models import ScreeningPrice

    adult = screening.auditorium.cinema.ticket_types.get(code="adult")
    ScreeningPrice.objects.create(screening=screening, ticket_type=adult, price=950)
    hold = held_by(client, screening, "A5")

    page = html(client.get(f"/checkout/{hold.pk}/"))

    assert cell(page, "data-total") == "€10.50"  # 9.50 + 1.00 fee
    client.post(f"/checkout/{hold.pk}/", details(hold))
    assert Order.objects.get().total == 1050
