"""A partner that retries a POST with the same `Idempotency-Key` gets the first answer again,
never a second booking (invariant 7)."""

from __future__ import annotations

import json
import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from tests import factories
from tests.api.support import assert_error, hold, order
from ticketing.api.models import IdempotencyRecord
from ticketing.inventory.models import Hold
from ticketing.orders.models import Order

pytestmark = pytest.mark.django_db


def keyed(key: str) -> dict:
    return {"HTTP_IDEMPOTENCY_KEY": key}


def test_the_same_key_and_body_twice_holds_once_and_replays_the_first_answer(api, screening):
    a1, a2 = factories.seats(screening.auditorium, "A1", "A2")
    first = hold(api, screening, a1, a2, **keyed("retry-1"))
    second = hold(api, screening, a1, a2, **keyed("retry-1"))

    assert first.status_code == second.status_code == 201
    assert "Idempotent-Replayed" not in first
    assert second["Idempotent-Replayed"] == "true"
    assert second.json() == first.json()
    assert Hold.objects.count() == 1


def test_without_a_key_a_retry_is_a_new_request(api, screening):
    body = {"screening": screening.pk, "quantity": 2}
    first = api.post("/api/v1/holds/", body, format="json")
    second = api.post("/api/v1/holds/", body, format="json")
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] != second.json()["id"]
    assert Hold.objects.count() == 2


def test_a_refusal_is_replayed_too(api, screening):
    a1, a2 = factories.seats(screening.auditorium, "A1", "A2")
    assert hold(api, screening, a1).status_code == 201
    refused = hold(api, screening, a1, a2, **keyed("k"))
    assert_error(refused, 409, "seat_unavailable")

    api.delete(f"/api/v1/holds/{Hold.objects.get().pk}/")  # a1 is free again...
    replayed = hold(api, screening, a1, a2, **keyed("k"))
    assert_error(replayed, 409, "seat_unavailable")  # ...but the retry gets the first answer
    assert replayed["Idempotent-Replayed"] == "true"


def test_the_same_key_with_another_body_is_422_idempotency_key_reused(api, screening):
    a1, a2 = factories.seats(screening.auditorium, "A1", "A2")
    assert hold(api, screening, a1, **keyed("k")).status_code == 201

    details = assert_error(hold(api, screening, a2, **keyed("k")), 422, "idempotency_key_reused")
    assert details == {"key": "k"}
    assert Hold.objects.count() == 1


def test_the_same_key_on_another_endpoint_is_422(api, screening):
    a1, _ = factories.seats(screening.auditorium, "A1", "A2")
    created = hold(api, screening, a1, **keyed("k"))
    assert created.status_code == 201
    response = api.post(
        f"/api/v1/orders/{created.json()['id']}/cancel/", {}, format="json", **keyed("k")
    )
    assert_error(response, 422, "idempotency_key_reused")


def test_keys_belong_to_one_partner(api, other_api, screening):
    body = {"screening": screening.pk, "quantity": 2}
    mine = api.post("/api/v1/holds/", body, format="json", **keyed("shared"))
    theirs = other_api.post("/api/v1/holds/", body, format="json", **keyed("shared"))

    assert mine.status_code == theirs.status_code == 201
    assert "Idempotent-Replayed" not in theirs
    assert mine.json()["id"] != theirs.json()["id"]
    assert Hold.objects.get(pk=theirs.json()["id"]).partner == other_api.partner
    assert Hold.objects.count() == 2


def test_a_key_longer_than_255_characters_is_400(api, screening):
    response = api.post(
        "/api/v1/holds/",
        {"screening": screening.pk, "quantity": 1},
        format="json",
        **keyed("k" * 256),
    )
    assert_error(response, 400, "invalid_idempotency_key")
    assert not Hold.objects.exists()


def test_a_request_still_running_with_the_key_gets_409_in_flight(api, screening):
    body = {"screening": screening.pk, "quantity": 1}
    first = api.post("/api/v1/holds/", body, format="json", **keyed("k"))
    # As if the first request with this key had only just begun: its answer is not stored yet.
    IdempotencyRecord.objects.update(status_code=None, response_body=None)

    assert_error(
        api.post("/api/v1/holds/", body, format="json", **keyed("k")), 409, "idempotency_in_flight"
    )
    assert first.status_code == 201
    assert Hold.objects.count() == 1


def test_a_request_abandoned_mid_way_lets_the_key_be_used_again(api, screening):
    body = {"screening": screening.pk, "quantity": 1}
    first = api.post("/api/v1/holds/", body, format="json", **keyed("k"))
    # As if the process answering it had died before storing the answer, minutes ago.
    IdempotencyRecord.objects.update(
        status_code=None, response_body=None, created_at=timezone.now() - timedelta(minutes=5)
    )

    retry = api.post("/api/v1/holds/", body, format="json", **keyed("k"))
    assert retry.status_code == 201, retry.content
    assert "Idempotent-Replayed" not in retry
    assert retry.json()["id"] != first.json()["id"]
    assert IdempotencyRecord.objects.get().status_code == 201


def test_an_order_created_twice_with_one_key_is_one_order(api, screening):
    a1, a2 = factories.seats(screening.auditorium, "A1", "A2")
    held = hold(api, screening, a1, a2).json()["id"]
    tickets = [(a1, "adult"), (a2, "child")]

    first = order(api, held, tickets, **keyed("order-1"))
    second = order(api, held, tickets, **keyed("order-1"))

    assert first.status_code == second.status_code == 201, (first.content, second.content)
    assert second["Idempotent-Replayed"] == "true"
    assert second.json()["id"] == first.json()["id"]
    assert Order.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_requests_racing_with_one_key_hold_once(screening, partner_key):
    """Real threads, each with its own database connection: exactly one hold is made; the other
    request gets the replay or 409 `idempotency_in_flight`."""
    _, raw = partner_key
    body = json.dumps({"screening": screening.pk, "quantity": 2})
    racers = 4
    barrier = threading.Barrier(racers)
    results: list = [None] * racers

    def race(i: int) -> None:
        client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}", HTTP_IDEMPOTENCY_KEY="race")
        try:
            barrier.wait(timeout=10)
            response = client.post("/api/v1/holds/", body, content_type="application/json")
            results[i] = (
                response.status_code,
                response.headers.get("Idempotent-Replayed"),
                response.json(),
            )
        except Exception as exc:  # reported below, so a failing thread fails the test
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=race, args=(i,)) for i in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert all(isinstance(r, tuple) for r in results), results
    made = [r for r in results if r[0] == 201 and r[1] is None]
    assert len(made) == 1, results
    hold_id = made[0][2]["id"]
    for status, replayed, body_ in results:
        if status == 201:
            assert body_["id"] == hold_id
        else:
            assert (status, body_["error"]["code"]) == (409, "idempotency_in_flight"), body_
        if replayed:
            assert status == 201
    assert list(Hold.objects.values_list("pk", flat=True)) == [Hold.objects.get(pk=hold_id).pk]
    assert IdempotencyRecord.objects.count() == 1
