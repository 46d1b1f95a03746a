"""Findings of the review: inputs at the edges, throttle identity, idempotency atomicity."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests import factories
from ticketing.api import idempotency
from ticketing.api.models import IdempotencyRecord
from ticketing.api.throttling import AnonRateThrottle
from ticketing.inventory.models import Hold
from ticketing.orders.models import Order
from ticketing.partners.models import ApiKey

from .support import assert_error

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("date", ["9999-12-31", "0001-01-01"])
def test_a_date_at_the_end_of_the_calendar_is_a_400_not_a_500(anon_api, screening, date):
    assert_error(anon_api.get(f"/api/v1/screenings/?date={date}"), 400, "invalid")


@pytest.mark.parametrize("body", [{"seats": [10**19]}, {"quantity": 10**19}, {"seats": [2**63]}])
def test_ids_beyond_a_bigint_are_a_400(api, screening, body):
    assert_error(
        api.post("/api/v1/holds/", {"screening": screening.pk, **body}, format="json"),
        400,
        "invalid",
    )


def test_a_client_cannot_choose_its_throttle_identity_with_x_forwarded_for(anon_api, monkeypatch):
    monkeypatch.setattr(AnonRateThrottle, "THROTTLE_RATES", {"anon": "2/min"})
    answers = [
        anon_api.get("/api/v1/films/", HTTP_X_FORWARDED_FOR=f"10.0.0.{n}").status_code
        for n in range(4)
    ]
    assert answers == [200, 200, 429, 429]


def test_an_order_read_past_its_time_says_expired_and_asks_for_no_payment(api, screening):
    seat = factories.seats(screening.auditorium, "C3")
    hold = api.post(
        "/api/v1/holds/", {"screening": screening.pk, "seats": seat}, format="json"
    ).json()
    made = api.post(
        "/api/v1/orders/",
        {
            "hold": hold["id"],
            "customer": {"email": "a@example.com", "name": "A"},
            "tickets": [{"seat": seat[0], "ticket_type": "adult"}],
        },
        format="json",
    ).json()
    Order.objects.filter(pk=made["id"]).update(expires_at=timezone.now() - timedelta(seconds=1))

    body = api.get(f"/api/v1/orders/{made['id']}/").json()
    assert body["status"] == "expired"
    assert body["next_action"] is None


def test_a_key_records_when_it_was_last_used(api):
    assert ApiKey.objects.get(partner=api.partner).last_used_at is None
    api.get("/api/v1/films/")
    assert ApiKey.objects.get(partner=api.partner).last_used_at is not None


@pytest.mark.django_db(transaction=True)
def test_if_storing_the_answer_fails_the_booking_is_rolled_back_and_a_retry_books_once(
    api, screening, monkeypatch
):
    seat = factories.seats(screening.auditorium, "D4")
    real_loads = idempotency.json.loads
    calls = {"n": 0}

    class FailingOnce:
        @staticmethod
        def loads(*args, **kwargs):
            calls["n"] += 1
            if calls["n"] == 1:
                raise RuntimeError("the database went away between the booking and the record")
            return real_loads(*args, **kwargs)

    monkeypatch.setattr(idempotency, "json", FailingOnce)
    api.raise_request_exception = False
    body = {"screening": screening.pk, "seats": seat}

    first = api.post("/api/v1/holds/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == 500
    assert not Hold.objects.exists() and not IdempotencyRecord.objects.exists()

    retry = api.post("/api/v1/holds/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    again = api.post("/api/v1/holds/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert retry.status_code == 201
    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert Hold.objects.count() == 1
