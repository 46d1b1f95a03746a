"""`/admin/login/` is rate limited (issue 9, hole 8): sign-in posts per client address, failed
ones per address and per username, with a clear 429 page; with Redis down too. It is now the
staff sign-in's password step (a right password leads on to the code: tests/staff/)."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

pytestmark = pytest.mark.django_db

URL = "/admin/login/"
PASSWORD = "a-long-staff-password-1"


@pytest.fixture
def staff(db):
    return get_user_model().objects.create_superuser("boss", "boss@example.com", PASSWORD)


def sign_in(client: Client, password: str, username: str = "boss", **extra):
    return client.post(
        URL, {"username": username, "password": password, "next": "/admin/"}, **extra
    )


def assert_throttled(response) -> None:
    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 1
    assert "Too many sign-in attempts" in response.content.decode()


def test_password_guessing_from_one_address_is_stopped_even_with_the_right_password(
    client, staff, rates
):
    rates(admin_login_failed="3/hour")
    assert [sign_in(client, f"guess-{n}").status_code for n in range(3)] == [200, 200, 200]

    assert_throttled(sign_in(client, "guess-4"))
    assert_throttled(sign_in(client, PASSWORD))


def test_guessing_one_username_from_many_addresses_is_stopped(staff, rates):
    rates(admin_login_failed="3/hour")
    for n in range(3):
        assert sign_in(Client(REMOTE_ADDR=f"198.51.100.{n}"), "guess").status_code == 200

    assert_throttled(sign_in(Client(REMOTE_ADDR="198.51.100.99"), "guess"))
    # The username is counted however it is typed; another one is not held up.
    assert_throttled(sign_in(Client(REMOTE_ADDR="198.51.100.98"), "guess", username="BOSS"))
    assert (
        sign_in(Client(REMOTE_ADDR="198.51.100.97"), "guess", username="other").status_code == 200
    )


def test_sign_in_posts_are_limited_per_address_whatever_their_outcome(client, staff, rates):
    rates(admin_login="2/min")
    assert sign_in(client, PASSWORD).status_code == 302
    assert sign_in(client, PASSWORD).status_code == 302
    assert_throttled(sign_in(client, PASSWORD))
    assert Client(REMOTE_ADDR="198.51.100.5").post(URL, {}).status_code == 200


def test_a_right_password_signs_in_and_does_not_count_as_a_failure(client, staff, rates):
    rates(admin_login_failed="1/hour")
    assert sign_in(client, PASSWORD).status_code == 302
    client.logout()
    assert sign_in(client, PASSWORD).status_code == 302


def test_looking_at_the_sign_in_page_is_not_limited(client, rates):
    rates(admin_login="1/min")
    assert [client.get("/staff/login/").status_code for _ in range(3)] == [200, 200, 200]


def test_the_admin_sign_in_page_is_the_staff_one(client):
    response = client.get(URL + "?next=/admin/orders/order/")
    assert response.status_code == 302
    assert response["Location"] == "/staff/login/?next=%2Fadmin%2Forders%2Forder%2F"


def test_with_redis_down_password_guessing_is_still_stopped(client, staff, rates, redis_down):
    rates(admin_login_failed="2/hour")
    assert [sign_in(client, f"guess-{n}").status_code for n in range(2)] == [200, 200]
    assert_throttled(sign_in(client, PASSWORD))
