"""Optional accounts: signing up, signing in without losing held seats, and my orders."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from tests import factories
from tests.storefront.support import buyer_key, held_by, html
from ticketing.inventory.holds import hold_create
from ticketing.inventory.models import HoldStatus
from ticketing.orders.services import order_create

pytestmark = pytest.mark.django_db

PASSWORD = "a-Long-pass-phrase-42"


def new_user(username: str, email: str | None = None):
    return get_user_model().objects.create_user(
        username, email or f"{username}@example.com", PASSWORD, first_name=username.title()
    )


def signup_form(**fields) -> dict:
    data = {
        "username": "ada",
        "first_name": "Ada",
        "email": "ada@example.com",
        "password1": PASSWORD,
        "password2": PASSWORD,
    }
    data.update(fields)
    return data


def order_for(screening, label: str, user):
    key = f"session-of-{user.username}-{label}"
    hold = hold_create(
        screening_id=screening.pk,
        seat_ids=factories.seats(screening.auditorium, label),
        buyer_key=key,
    )
    return order_create(
        hold_id=hold.pk,
        customer_email=user.email,
        customer_name=user.first_name,
        tickets=[(hold.seat_ids[0], "adult")],
        buyer_key=key,
        user=user,
        actor="test",
    )


def test_signing_up_creates_the_account_and_signs_the_buyer_in(client):
    response = client.post("/account/signup/", signup_form())

    assert response.status_code == 302
    assert response["Location"] == "/account/"
    user = get_user_model().objects.get(username="ada")
    assert (user.email, user.first_name) == ("ada@example.com", "Ada")
    assert user.check_password(PASSWORD)
    assert client.session["_auth_user_id"] == str(user.pk)
    assert client.get("/account/").status_code == 200


def test_signing_up_with_an_email_already_in_use_is_a_400(client):
    new_user("grace", "ada@example.com")

    response = client.post("/account/signup/", signup_form(email="ADA@example.com"))

    assert response.status_code == 400
    assert "An account with this email already exists." in html(response)
    assert not get_user_model().objects.filter(username="ada").exists()
    assert "_auth_user_id" not in client.session


def test_signing_up_with_passwords_that_differ_is_a_400(client):
    response = client.post("/account/signup/", signup_form(password2="something-else-42"))

    assert response.status_code == 400
    assert not get_user_model().objects.filter(username="ada").exists()


def test_signing_in_mid_checkout_keeps_the_held_seats(client, screening):
    new_user("grace")
    hold = held_by(client, screening, "A1", "A2")
    key_before = buyer_key(client)
    session_before = client.session.session_key

    response = client.post(
        "/account/login/",
        {"username": "grace", "password": PASSWORD, "next": f"/checkout/{hold.pk}/"},
    )

    assert response.status_code == 302
    assert response["Location"] == f"/checkout/{hold.pk}/"
    assert client.session.session_key != session_before  # rotated against fixation
    assert buyer_key(client) == key_before  # ... but the buyer is the same
    checkout = client.get(f"/checkout/{hold.pk}/")
    assert checkout.status_code == 200
    assert 'value="grace@example.com"' in html(checkout)
    hold.refresh_from_db()
    assert hold.status == HoldStatus.ACTIVE


def test_signing_up_mid_checkout_keeps_the_held_seats_too(client, screening):
    hold = held_by(client, screening, "B1")

    response = client.post("/account/signup/", signup_form(next=f"/checkout/{hold.pk}/"))

    assert response["Location"] == f"/checkout/{hold.pk}/"
    assert client.get(f"/checkout/{hold.pk}/").status_code == 200


def test_signing_up_never_redirects_to_another_site(client):
    response = client.post("/account/signup/", signup_form(next="https://evil.example/"))

    assert response["Location"] == "/account/"


def test_my_orders_lists_only_the_signed_in_buyers_orders(client, screening):
    ada, grace = new_user("ada"), new_user("grace")
    mine = [order_for(screening, "A1", ada), order_for(screening, "A2", ada)]
    theirs = order_for(screening, "A3", grace)
    client.force_login(ada)

    response = client.get("/account/")

    assert response.status_code == 200
    assert [row["order"].code for row in response.context["rows"]] == [
        mine[1].code,
        mine[0].code,
    ]  # newest first
    page = html(response)
    assert mine[0].code in page and mine[1].code in page
    assert theirs.code not in page
    assert "€13.00" in page  # 12.00 + 1.00 fee


def test_my_orders_without_orders_says_so(client):
    client.force_login(new_user("ada"))

    assert "No orders yet." in html(client.get("/account/"))


def test_my_orders_asks_an_anonymous_visitor_to_sign_in(client):
    response = client.get("/account/")

    assert response.status_code == 302
    assert response["Location"] == "/account/login/?next=/account/"


def test_signing_out_ends_the_session(client):
    client.force_login(new_user("ada"))

    response = client.post("/account/logout/")

    assert response.status_code == 302
    assert response["Location"] == "/"
    assert Client().get("/account/").status_code == 302
    assert client.get("/account/").status_code == 302


def test_signing_out_keeps_the_seats_this_browser_holds(client, screening):
    from django.contrib.auth import get_user_model

    from tests.storefront.support import held_by

    user = get_user_model().objects.create_user("ada", "ada@example.com", "a-long-pass-phrase")
    client.force_login(user)
    hold = held_by(client, screening, "A1")

    out = client.post("/account/logout/")

    assert out.status_code == 302
    assert client.get("/account/").status_code == 302  # signed out
    assert client.get(f"/checkout/{hold.pk}/").status_code == 200  # still their seats


def test_my_orders_is_never_cached(client):
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user("bob", "bob@example.com", "a-long-pass-phrase")
    client.force_login(user)
    response = client.get("/account/")
    assert "no-store" in response["Cache-Control"]
    assert "private" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
