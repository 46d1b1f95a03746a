"""Every refusal of the API has one shape, `{"error": {"code", "message", "details"}}`, a precise
code and the right status; nothing a caller sends makes it answer 500."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from tests import factories
from tests.api.support import assert_error, hold, order
from ticketing.inventory.models import Hold, HoldStatus, SeatClaim
from ticketing.orders.models import Order
from ticketing.screenings.models import Seat

pytestmark = pytest.mark.django_db


def post_raw(client, url, body: bytes, content_type="application/json"):
    return client.generic("POST", url, body, content_type=content_type)


# ---- malformed and invalid bodies --------------------------------------------------------------
@pytest.mark.parametrize("url", ["/api/v1/holds/", "/api/v1/orders/"])
@pytest.mark.parametrize(
    "body", [b"{", b'{"screening": 1,}', b"{'screening': 1}", b"NaN", b'{"a": Infinity}']
)
def test_a_body_that_is_not_json_is_400_malformed_json(api, url, body):
    assert_error(post_raw(api, url, body), 400, "malformed_json")


def test_cancel_with_a_body_that_is_not_json_is_400_malformed_json(api):
    assert_error(
        post_raw(api, f"/api/v1/orders/{uuid.uuid4()}/cancel/", b"{oops"), 400, "malformed_json"
    )


def test_a_body_nested_too_deeply_to_decode_is_malformed_json_not_a_crash(api):
    body = b"[" * 100_000 + b"]" * 100_000
    assert_error(post_raw(api, "/api/v1/holds/", body), 400, "malformed_json")


def test_a_body_past_the_upload_limit_is_413(api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = json.dumps({"screening": 1, "seats": list(range(1, 500))}).encode()
    assert_error(post_raw(api, "/api/v1/holds/", body), 413, "request_too_large")


def test_a_body_that_is_not_json_at_all_is_415(api):
    response = post_raw(api, "/api/v1/holds/", b"screening=1", content_type="text/plain")
    assert_error(response, 415, "unsupported_media_type")


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, {"screening"}),
        ({"screening": "abc", "quantity": 2}, {"screening"}),
        ({"screening": 1, "quantity": "two"}, {"quantity"}),
        ({"screening": 1, "quantity": 0}, {"quantity"}),
        ({"screening": 1, "seats": "A1"}, {"seats"}),
        ({"screening": 1, "seats": []}, {"seats"}),
        ({"screening": 1, "seats": ["A1", 2]}, {"seats"}),
        ({"screening": -1, "seats": [0]}, {"screening", "seats"}),
    ],
)
def test_hold_missing_fields_and_wrong_types_are_400_invalid_naming_the_fields(api, body, fields):
    details = assert_error(api.post("/api/v1/holds/", body, format="json"), 400, "invalid")
    assert set(details) == fields
    assert all(isinstance(messages, list | dict) for messages in details.values())
    assert not Hold.objects.exists()


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, {"hold", "customer", "tickets"}),
        (
            {
                "hold": "not-a-uuid",
                "customer": {"email": "a@example.com", "name": "A"},
                "tickets": [{"seat": 1, "ticket_type": "adult"}],
            },
            {"hold"},
        ),
        (
            {
                "hold": str(uuid.uuid4()),
                "customer": {"email": "nope", "name": ""},
                "tickets": [{"seat": 1, "ticket_type": "adult"}],
            },
            {"customer"},
        ),
        (
            {
                "hold": str(uuid.uuid4()),
                "customer": {"email": "a@example.com", "name": "A"},
                "tickets": [],
            },
            {"tickets"},
        ),
        (
            {
                "hold": str(uuid.uuid4()),
                "customer": {"email": "a@example.com", "name": "A"},
                "tickets": [{"seat": "x"}],
            },
            {"tickets"},
        ),
    ],
)
def test_order_missing_fields_and_wrong_types_are_400_invalid_naming_the_fields(api, body, fields):
    details = assert_error(api.post("/api/v1/orders/", body, format="json"), 400, "invalid")
    assert set(details) == fields


def test_nested_field_errors_say_which_nested_field(api):
    body = {
        "hold": str(uuid.uuid4()),
        "customer": {"email": "nope", "name": "A"},
        "tickets": [{"seat": 1, "ticket_type": "adult"}],
    }
    details = assert_error(api.post("/api/v1/orders/", body, format="json"), 400, "invalid")
    assert set(details["customer"]) == {"email"}


@pytest.mark.parametrize("body", [{"seats": [1], "quantity": 1}, {}], ids=["both", "neither"])
def test_a_hold_names_either_seats_or_a_quantity(api, screening, body):
    details = assert_error(
        api.post("/api/v1/holds/", {"screening": screening.pk, **body}, format="json"),
        400,
        "invalid",
    )
    assert (
        "seats" in details["non_field_errors"][0] and "quantity" in details["non_field_errors"][0]
    )
    assert not Hold.objects.exists()


# ---- what the seats and the screening allow ----------------------------------------------------
@pytest.mark.parametrize("how", ["seats", "quantity"])
def test_unknown_screening_is_404_screening_not_found(api, how):
    body = {"screening": 987654, **({"seats": [1]} if how == "seats" else {"quantity": 2})}
    details = assert_error(
        api.post("/api/v1/holds/", body, format="json"), 404, "screening_not_found"
    )
    assert details == {"screening": 987654}


def test_unknown_seats_and_seats_of_another_auditorium_are_400_naming_them(api, screening):
    other_room = factories.auditorium(screening.auditorium.cinema, rows=1, per_row=2)
    elsewhere = other_room.seats.first().pk
    missing = Seat.objects.order_by("-pk").first().pk + 1000
    (a1,) = factories.seats(screening.auditorium, "A1")
    details = assert_error(hold(api, screening, a1, elsewhere, missing), 400, "unknown_seats")
    assert details == {"seats": [elsewhere, missing]}
    assert not SeatClaim.objects.exists()


def test_a_seat_asked_for_twice_is_400_duplicate_seats(api, screening):
    a1, a2 = factories.seats(screening.auditorium, "A1", "A2")
    details = assert_error(hold(api, screening, a1, a2, a1), 400, "duplicate_seats")
    assert details == {"seats": [a1]}


def test_ten_seats_is_the_default_limit(api, screening):
    row = factories.seats(screening.auditorium, *[f"B{n}" for n in range(1, 11)])
    assert hold(api, screening, *row).status_code == 201


@pytest.mark.parametrize("how", ["11 seats", "41 seats", "quantity 11"])
def test_more_than_ten_seats_is_400_too_many_seats(api, screening, how):
    seats = list(screening.auditorium.seats.values_list("pk", flat=True))
    if how == "quantity 11":
        response = api.post(
            "/api/v1/holds/", {"screening": screening.pk, "quantity": 11}, format="json"
        )
    else:
        response = hold(api, screening, *seats[: int(how.split()[0])])
    details = assert_error(response, 400, "too_many_seats")
    assert details["limit"] == 10
    assert not Hold.objects.exists()


def test_the_seat_limit_is_a_setting(api, screening, settings):
    settings.MARQUEE = {**settings.MARQUEE, "MAX_SEATS_PER_ORDER": 2}
    a1, a2, a3 = factories.seats(screening.auditorium, "A1", "A2", "A3")
    details = assert_error(hold(api, screening, a1, a2, a3), 400, "too_many_seats")
    assert details == {"limit": 2, "requested": 3}
    assert hold(api, screening, a1, a2).status_code == 201


def test_a_blocked_seat_is_400_seat_blocked(api, screening):
    a1, a2 = factories.seats(screening.auditorium, "A1", "A2")
    Seat.objects.filter(pk=a2).update(is_sellable=False)
    details = assert_error(hold(api, screening, a1, a2), 400, "seat_blocked")
    assert details == {"seats": [a2]}
    assert not SeatClaim.objects.exists()


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"starts_in": timedelta(minutes=-5)}, "started"),
        ({"starts_in": timedelta(days=-3)}, "started"),
        ({"status": "cancelled"}, "cancelled"),
        ({"sales_open_at": timezone.now() + timedelta(days=1)}, "outside_sales_window"),
        ({"sales_close_at": timezone.now() - timedelta(minutes=1)}, "outside_sales_window"),
    ],
    ids=["just-started", "past", "cancelled", "sales-not-open", "sales-closed"],
)
@pytest.mark.parametrize("how", ["seats", "quantity"])
def test_a_screening_not_on_sale_is_409_screening_not_on_sale(api, auditorium, kwargs, reason, how):
    screening = factories.screening(auditorium, **kwargs)
    body = {
        "screening": screening.pk,
        **({"seats": factories.seats(auditorium, "A1")} if how == "seats" else {"quantity": 1}),
    }
    details = assert_error(
        api.post("/api/v1/holds/", body, format="json"), 409, "screening_not_on_sale"
    )
    assert details == {"screening": screening.pk, "reason": reason}
    assert not Hold.objects.exists()


def test_a_taken_seat_is_409_seat_unavailable_naming_it_and_nothing_is_held(api, screening):
    a1, a2, a3 = factories.seats(screening.auditorium, "A1", "A2", "A3")
    assert hold(api, screening, a1, a2).status_code == 201

    details = assert_error(hold(api, screening, a2, a3), 409, "seat_unavailable")
    assert details == {"seats": [a2]}
    assert Hold.objects.count() == 1
    assert not SeatClaim.objects.filter(seat_id=a3).exists()


# ---- orders from holds -------------------------------------------------------------------------
@pytest.fixture
def held(api, screening):
    a1, a2 = factories.seats(screening.auditorium, "A1", "A2")
    response = hold(api, screening, a1, a2)
    assert response.status_code == 201
    return response.json()["id"], [a1, a2]


def test_an_order_from_an_expired_hold_is_410_hold_expired(api, held):
    hold_id, seats = held
    past = timezone.now() - timedelta(seconds=1)
    Hold.objects.filter(pk=hold_id).update(expires_at=past)
    SeatClaim.objects.filter(hold_id=hold_id).update(expires_at=past)
    details = assert_error(order(api, hold_id, [(s, "adult") for s in seats]), 410, "hold_expired")
    assert details["hold"] == hold_id
    assert not Order.objects.exists()


def test_an_order_from_a_released_hold_is_410_hold_expired(api, held):
    hold_id, seats = held
    assert api.delete(f"/api/v1/holds/{hold_id}/").status_code == 204
    assert_error(order(api, hold_id, [(s, "adult") for s in seats]), 410, "hold_expired")


def test_an_order_from_a_hold_already_ordered_is_409_hold_not_active(api, held):
    hold_id, seats = held
    assert order(api, hold_id, [(s, "adult") for s in seats]).status_code == 201
    details = assert_error(
        order(api, hold_id, [(s, "adult") for s in seats]), 409, "hold_not_active"
    )
    assert details["order"] == str(Order.objects.get().pk)


def test_an_order_from_another_partners_hold_is_404_as_if_it_did_not_exist(other_api, held):
    hold_id, seats = held
    details = assert_error(
        order(other_api, hold_id, [(s, "adult") for s in seats]), 404, "hold_not_found"
    )
    assert details == {"hold": hold_id}
    assert Hold.objects.get(pk=hold_id).status == HoldStatus.ACTIVE


def test_order_tickets_must_name_each_held_seat_once(api, held, screening):
    hold_id, (a1, a2) = held
    (a3,) = factories.seats(screening.auditorium, "A3")
    for tickets in (
        [(a1, "adult")],
        [(a1, "adult"), (a1, "adult")],
        [(a1, "adult"), (a3, "adult")],
    ):
        details = assert_error(order(api, hold_id, tickets), 400, "tickets_mismatch")
        assert details["held"] == sorted([a1, a2])


@pytest.mark.parametrize("kind", ["opera", "²", "999999", "-1"])
def test_an_unknown_ticket_type_is_400_unknown_ticket_type(api, held, kind):
    hold_id, (a1, a2) = held
    details = assert_error(
        order(api, hold_id, [(a1, "adult"), (a2, kind)]), 400, "unknown_ticket_type"
    )
    assert details["seat"] == a2


# ---- ids, URLs and methods ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("method", "path", "code"),
    [
        ("get", "/api/v1/holds/{uuid}/", "hold_not_found"),
        ("get", "/api/v1/holds/not-a-uuid/", "hold_not_found"),
        ("get", "/api/v1/holds/12345/", "hold_not_found"),
        ("get", "/api/v1/holds/%E2%82%AC%00/", "hold_not_found"),
        ("get", "/api/v1/holds/{long}/", "hold_not_found"),
        ("delete", "/api/v1/holds/{uuid}/", "hold_not_found"),
        ("delete", "/api/v1/holds/not-a-uuid/", "hold_not_found"),
        ("get", "/api/v1/orders/{uuid}/", "order_not_found"),
        ("get", "/api/v1/orders/not-a-uuid/", "order_not_found"),
        ("get", "/api/v1/orders/'%20OR%201=1%20--/", "order_not_found"),
        ("post", "/api/v1/orders/{uuid}/cancel/", "order_not_found"),
        ("post", "/api/v1/orders/not-a-uuid/cancel/", "order_not_found"),
        ("get", "/api/v1/screenings/987654/", "screening_not_found"),
        ("get", "/api/v1/screenings/987654/seats/", "screening_not_found"),
        ("get", "/api/v1/screenings/99999999999999999999999/", "screening_not_found"),
        ("get", "/api/v1/films/987654/", "not_found"),
        ("get", "/api/v1/films/99999999999999999999999/", "not_found"),
    ],
)
def test_unknown_ids_are_404_never_500(api, method, path, code):
    path = path.format(uuid=uuid.uuid4(), long="x" * 2000)
    assert_error(getattr(api, method)(path), 404, code)


@pytest.mark.parametrize(
    "path", ["/api/v1/nothing-here/", "/api/v2/films/", "/api/", "/api/v1/holds/a/b/c/"]
)
@pytest.mark.parametrize("method", ["get", "post"])
def test_an_unknown_api_url_is_a_json_404(anon_api, path, method):
    assert_error(getattr(anon_api, method)(path), 404, "not_found")


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("get", "/api/v1/holds/", "POST"),
        ("put", "/api/v1/holds/{uuid}/", "GET, DELETE"),
        ("patch", "/api/v1/orders/{uuid}/", "GET"),
        ("delete", "/api/v1/orders/{uuid}/", "GET"),
        ("get", "/api/v1/orders/{uuid}/cancel/", "POST"),
        ("post", "/api/v1/films/", "GET"),
        ("delete", "/api/v1/screenings/1/seats/", "GET"),
    ],
)
def test_a_wrong_method_is_405_with_allow(api, method, path, allowed):
    response = getattr(api, method)(path.format(uuid=uuid.uuid4()))
    assert_error(response, 405, "method_not_allowed")
    assert {m.strip() for m in response["Allow"].split(",")} >= {
        m.strip() for m in allowed.split(",")
    }


# ---- garbage in, a 4xx in the error shape out --------------------------------------------------
def _garbage(screening_id: int, seat_id: int) -> list:
    return [
        None,
        [],
        [1, 2, 3],
        "x",
        0,
        -1,
        True,
        1.5,
        {},
        {"screening": "abc"},
        {"screening": 10**20, "quantity": 1},
        {"screening": -(10**20), "seats": [1]},
        {"screening": screening_id, "seats": [10**20]},
        {"screening": screening_id, "seats": [seat_id] * 10_000},
        {"screening": screening_id, "seats": list(range(1, 20_000))},
        {"screening": screening_id, "quantity": 10**20},
        {"screening": screening_id, "quantity": -(10**20)},
        {"screening": screening_id, "quantity": 2.5},
        {"screening": screening_id, "quantity": "1e3"},
        {"screening": screening_id, "seats": [[seat_id]]},
        {"screening": screening_id, "seats": {"a": seat_id}},
        {"screening": screening_id, "seats": [None]},
        {"screening": [[[[[]]]]], "seats": {"x": {"y": {"z": []}}}},
        {"screening": {"$gt": 0}},
        {"screening": "１２"},  # noqa: RUF001 - full-width digits, on purpose
        {"screening": "²"},
        {"screening": "\u0000", "seats": ["\u0000"]},
        {"screening": screening_id, "quantity": 2, "seats": None},
        {"hold": None},
        {"hold": "../../etc/passwd", "customer": {}, "tickets": {}},
        {"hold": str(uuid.uuid4()), "customer": "Ada", "tickets": "A1"},
        {
            "hold": str(uuid.uuid4()),
            "customer": {"email": "ü@例え.jp", "name": "名前" * 200},
            "tickets": [{"seat": seat_id, "ticket_type": "adult"}],
        },
        {
            "hold": str(uuid.uuid4()),
            "customer": {"email": "a@example.com", "name": "\u0000"},
            "tickets": [{"seat": seat_id, "ticket_type": "\u0000"}],
        },
        {
            "hold": str(uuid.uuid4()),
            "customer": {"email": "a@example.com", "name": "🎬"},
            "tickets": [{"seat": seat_id, "ticket_type": "²"}],
        },
        {
            "hold": str(uuid.uuid4()),
            "customer": {"email": "a@example.com", "name": "A"},
            "tickets": [{"seat": seat_id, "ticket_type": "adult"}] * 5000,
        },
        {
            "hold": str(uuid.uuid4()),
            "customer": {"email": "a@example.com", "name": "A"},
            "tickets": [[]],
            "promo_code": {"a": 1},
        },
        {
            "hold": str(uuid.uuid4()),
            "customer": {"email": "a@example.com", "name": "A"},
            "tickets": [{"seat": 10**20, "ticket_type": 10**20}],
        },
        {
            "hold": str(uuid.uuid4()),
            "customer": {"email": "a@example.com", "name": "A"},
            "tickets": [{"seat": seat_id, "ticket_type": "adult"}],
            "language": "klingon",
        },
        {"\ud800": "lone surrogate key"},
        {"screening": "ⅷ", "quantity": "٣"},
    ]


def test_garbage_bodies_never_make_the_api_answer_500(api, screening):
    seat_id = screening.auditorium.seats.first().pk
    raw_bodies = [
        b"",
        b"\xff\xfe\x00",
        b'"\\ud800"',
        b"{" * 5000,
        b'{"screening": 1' + b', "x": 1' * 20_000 + b"}",
        b"[" * 50_000 + b"]" * 50_000,
        b'{"a": ' * 50_000 + b"1" + b"}" * 50_000,
    ]
    for url in ("/api/v1/holds/", "/api/v1/orders/", f"/api/v1/orders/{uuid.uuid4()}/cancel/"):
        bodies = [json.dumps(b).encode() for b in _garbage(screening.pk, seat_id)] + raw_bodies
        for body in bodies:
            response = post_raw(api, url, body)
            assert 400 <= response.status_code < 500, (
                url,
                body[:120],
                response.status_code,
                response.content[:300],
            )
            error = response.json()["error"]
            assert set(error) == {"code", "message", "details"}, (url, body[:120], error)
            assert error["code"] and isinstance(error["details"], dict)
    assert not Hold.objects.exists()
    assert not Order.objects.exists()


@pytest.mark.parametrize(
    "query",
    [
        "film=abc",
        "film=-1",
        "film=99999999999999999999999",
        "cinema=²",
        "cinema=%00",
        "cinema=" + "x" * 500,
        "date=2026-13-45",
        "date=yesterday",
        "date=0000-00-00",
        "page=0",
        "page=abc",
        "page=99999",
    ],
)
def test_garbage_query_strings_on_the_catalogue_are_4xx_or_empty_never_500(anon_api, query):
    response = anon_api.get(f"/api/v1/screenings/?{query}")
    if response.status_code == 200:
        assert response.json()["results"] == []
    else:
        body = response.json()
        assert 400 <= response.status_code < 500 and set(body["error"]) == {
            "code",
            "message",
            "details",
        }
