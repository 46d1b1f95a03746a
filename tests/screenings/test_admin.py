"""The staff admin: every list loads in a bounded number of queries, the layout form works, and
admin actions go through the services."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests import factories
from ticketing.api.models import IdempotencyRecord
from ticketing.inventory.models import SeatClaim
from ticketing.orders.models import OrderStatus
from ticketing.orders.services import order_mark_paid
from ticketing.partners.models import ApiKey
from ticketing.screenings.models import Screening, ScreeningPrice, Seat

pytestmark = pytest.mark.django_db

CHANGELISTS = [
    "/admin/screenings/cinema/",
    "/admin/screenings/auditorium/",
    "/admin/screenings/seat/",
    "/admin/screenings/film/",
    "/admin/screenings/screening/",
    "/admin/screenings/tickettype/",
    "/admin/screenings/screeningprice/",
    "/admin/partners/partner/",
    "/admin/partners/apikey/",
    "/admin/inventory/hold/",
    "/admin/inventory/seatclaim/",
    "/admin/orders/order/",
    "/admin/outbox/outboxmessage/",
    "/admin/api/idempotencyrecord/",
]
MAX_QUERIES = 16


def add_batch() -> dict:
    """One of everything the admin lists: a cinema, a room, screenings, holds, orders, ..."""
    cinema = factories.cinema()
    room = factories.auditorium(cinema, rows=3, per_row=6)
    shows = [factories.screening(room, starts_in=timedelta(days=d)) for d in (1, 2)]
    ScreeningPrice.objects.create(
        screening=shows[0], ticket_type=cinema.ticket_types.first(), price=1500
    )
    factories.held(shows[0], "A1", buyer_key="browser-1")
    pending = factories.pending_order(shows[0], "B1", "B2", buyer_key="browser-2")
    paid = factories.pending_order(shows[1], "C1", buyer_key="browser-3")
    order_mark_paid(order_id=paid.pk, actor="test")  # writes an outbox message too
    partner, _ = factories.partner_with_key()
    IdempotencyRecord.objects.create(
        partner=partner,
        key=f"key-{partner.pk}",
        method="POST",
        path="/api/v1/holds/",
        request_hash="0" * 64,
        status_code=201,
        response_body={"id": "x"},
    )
    return {"cinema": cinema, "room": room, "shows": shows, "pending": pending, "paid": paid}


def queries_for(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(ctx.captured_queries)


@pytest.mark.parametrize("url", CHANGELISTS)
def test_changelists_load_in_a_bounded_number_of_queries(
    admin_client, url, django_assert_max_num_queries
):
    add_batch()
    add_batch()
    admin_client.get(url)  # warm the session and content types
    with django_assert_max_num_queries(MAX_QUERIES):
        response = admin_client.get(url)
    assert response.status_code == 200
    before = queries_for(admin_client, url)

    add_batch()

    assert queries_for(admin_client, url) == before, "queries grow with the rows: an N+1"


def test_change_pages_load(admin_client):
    batch = add_batch()
    seat = Seat.objects.filter(auditorium=batch["room"]).first()
    pages = [
        f"/admin/screenings/cinema/{batch['cinema'].pk}/change/",
        f"/admin/screenings/auditorium/{batch['room'].pk}/change/",
        f"/admin/screenings/screening/{batch['shows'][0].pk}/change/",
        f"/admin/screenings/seat/{seat.pk}/change/",
        f"/admin/orders/order/{batch['pending'].pk}/change/",
        f"/admin/partners/partner/{ApiKey.objects.first().partner_id}/change/",
        "/admin/screenings/auditorium/add/",
        "/admin/screenings/screening/add/",
    ]
    for page in pages:
        assert admin_client.get(page).status_code == 200, page


# ---- auditorium layouts ----------------------------------------------------------------------
def test_the_auditorium_form_shows_the_layout_and_replaces_it(admin_client, cinema):
    room = factories.layout_room(cinema, "ssss\nssss", name="Screen 9")
    url = f"/admin/screenings/auditorium/{room.pk}/change/"
    page = admin_client.get(url).content.decode()
    assert "ssss\nssss" in page

    response = admin_client.post(
        url, {"cinema": cinema.pk, "name": "Screen 9", "layout_text": "wc.pp\r\nssss.s\r\n<><>"}
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    labels = {s.label: s for s in room.seats.all()}
    assert sorted(labels) == [
        "A1",
        "A2",
        "A3",
        "A4",
        "B1",
        "B2",
        "B3",
        "B4",
        "B5",
        "C1",
        "C2",
        "C3",
        "C4",
    ]
    assert labels["A1"].seat_type == "wheelchair" and labels["C1"].pair_id == labels["C2"].pk


def test_an_untouched_layout_leaves_the_seats_alone(admin_client, auditorium):
    ids = set(auditorium.seats.values_list("id", flat=True))
    url = f"/admin/screenings/auditorium/{auditorium.pk}/change/"
    text = admin_client.get(url).context["adminform"].form["layout_text"].value()

    response = admin_client.post(
        url, {"cinema": auditorium.cinema_id, "name": "Renamed", "layout_text": text}
    )

    assert response.status_code == 302
    assert set(auditorium.seats.values_list("id", flat=True)) == ids


def test_adding_an_auditorium_with_its_layout(admin_client, cinema):
    response = admin_client.post(
        "/admin/screenings/auditorium/add/",
        {"cinema": cinema.pk, "name": "Screen 42", "layout_text": "sss\nsss"},
    )

    assert response.status_code == 302
    assert cinema.auditoriums.get(name="Screen 42").seats.count() == 6


def test_the_form_refuses_a_layout_that_drops_a_sold_seat(admin_client, screening):
    room = screening.auditorium
    factories.pending_order(screening, "E10")
    before = set(room.seats.values_list("id", "x", "y"))

    response = admin_client.post(
        f"/admin/screenings/auditorium/{room.pk}/change/",
        {"cinema": room.cinema_id, "name": room.name, "layout_text": "sssss\nsssss"},
    )

    assert response.status_code == 200
    assert "E10" in response.content.decode()
    assert set(room.seats.values_list("id", "x", "y")) == before


def test_the_form_reports_a_mistake_in_the_text(admin_client, auditorium):
    response = admin_client.post(
        f"/admin/screenings/auditorium/{auditorium.pk}/change/",
        {"cinema": auditorium.cinema_id, "name": auditorium.name, "layout_text": "ss<s"},
    )

    assert response.status_code == 200
    assert "starts a couple seat" in response.content.decode()
    assert auditorium.seats.count() == 50


# ---- screenings ------------------------------------------------------------------------------
def screening_form(film, room, day: str, at: str, **extra) -> dict:
    data = {
        "film": film.pk,
        "auditorium": room.pk,
        "starts_at_0": day,
        "starts_at_1": at,
        "ends_at_0": "",
        "ends_at_1": "",
        "status": "scheduled",
        "format": "2D",
        "audio_language": "en",
        "subtitles": "",
        "sales_open_at_0": "",
        "sales_open_at_1": "",
        "sales_close_at_0": "",
        "sales_close_at_1": "",
        "prices-TOTAL_FORMS": "0",
        "prices-INITIAL_FORMS": "0",
        "prices-MIN_NUM_FORMS": "0",
        "prices-MAX_NUM_FORMS": "1000",
    }
    data.update(extra)
    return data


def test_screening_times_are_typed_in_the_cinemas_zone(admin_client, auditorium):
    film = factories.film(runtime_minutes=100)  # the cinema is in Europe/Paris

    response = admin_client.post(
        "/admin/screenings/screening/add/", screening_form(film, auditorium, "2031-01-10", "20:00")
    )

    assert response.status_code == 302, response.content.decode()[:3000]
    show = Screening.objects.get(film=film)
    assert show.starts_at == datetime(2031, 1, 10, 19, 0, tzinfo=UTC)  # CET is UTC+1
    assert show.ends_at == show.starts_at + timedelta(minutes=115)
    page = admin_client.get(f"/admin/screenings/screening/{show.pk}/change/").content.decode()
    assert 'value="20:00:00"' in page


def test_an_overlap_is_a_form_error(admin_client, auditorium):
    film = factories.film(runtime_minutes=100)
    Screening.objects.create(
        film=film, auditorium=auditorium, starts_at=datetime(2031, 1, 10, 19, 0, tzinfo=UTC)
    )

    response = admin_client.post(
        "/admin/screenings/screening/add/", screening_form(film, auditorium, "2031-01-10", "21:00")
    )

    assert response.status_code == 200
    assert "Overlaps" in response.content.decode()
    assert Screening.objects.filter(film=film).count() == 1


def test_an_overlap_refused_by_the_database_is_a_form_error_not_a_500(
    admin_client, auditorium, monkeypatch
):
    if connection.vendor != "postgresql":
        pytest.skip("the exclusion constraint is PostgreSQL's")
    film = factories.film(runtime_minutes=100)
    Screening.objects.create(
        film=film, auditorium=auditorium, starts_at=datetime(2031, 1, 10, 19, 0, tzinfo=UTC)
    )

    def clean_without_overlap_check(self):
        # As if the other screening was saved between this clean() and the INSERT.
        if not self.ends_at:
            self.ends_at = self.starts_at + timedelta(minutes=film.runtime_minutes) + self.CLEANING

    monkeypatch.setattr(Screening, "clean", clean_without_overlap_check)

    response = admin_client.post(
        "/admin/screenings/screening/add/", screening_form(film, auditorium, "2031-01-10", "21:00")
    )

    assert response.status_code == 200
    assert "overlaps this time" in response.content.decode()
    assert Screening.objects.filter(film=film).count() == 1


# ---- orders and partners ---------------------------------------------------------------------
def test_cancel_orders_action_cancels_through_the_service(admin_client, admin_user, screening):
    order = factories.pending_order(screening, "D4", "D5")
    assert SeatClaim.objects.filter(order=order).count() == 2

    response = admin_client.post(
        "/admin/orders/order/",
        {"action": "cancel_orders", "_selected_action": [str(order.pk)]},
        follow=True,
    )

    assert response.status_code == 200
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    last = order.history.last()
    assert (last.from_status, last.to_status, last.actor) == (
        "pending_payment",
        "cancelled",
        f"user:{admin_user.pk}",
    )
    assert not SeatClaim.objects.filter(order=order).exists()  # the seats are on sale again
    assert "1 order(s) cancelled" in response.content.decode()


def test_cancel_orders_action_reports_what_it_could_not_cancel(admin_client, screening):
    order = factories.pending_order(screening, "D4")
    order_mark_paid(order_id=order.pk, actor="test")
    Screening.objects.filter(pk=screening.pk).update(
        starts_at=timezone.now() - timedelta(minutes=5)
    )

    response = admin_client.post(
        "/admin/orders/order/",
        {"action": "cancel_orders", "_selected_action": [str(order.pk)]},
        follow=True,
    )

    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert "Not cancelled" in response.content.decode()


def test_orders_cannot_be_added_edited_or_deleted(admin_client, screening):
    order = factories.pending_order(screening, "D4")

    assert admin_client.get("/admin/orders/order/add/").status_code == 403
    assert admin_client.get(f"/admin/orders/order/{order.pk}/delete/").status_code == 403
    response = admin_client.post(
        f"/admin/orders/order/{order.pk}/change/", {"customer_email": "x@example.com"}
    )
    assert response.status_code == 403
    order.refresh_from_db()
    assert order.customer_email == "buyer@example.com"


def test_revoke_keys_action(admin_client, partner_key):
    partner, _ = partner_key
    key = partner.api_keys.get()

    admin_client.post(
        "/admin/partners/apikey/",
        {"action": "revoke_keys", "_selected_action": [str(key.pk)]},
    )

    key.refresh_from_db()
    assert key.revoked_at is not None


def test_revoke_all_keys_of_a_partner(admin_client, partner_key):
    partner, _ = partner_key

    admin_client.post(
        "/admin/partners/partner/",
        {"action": "revoke_all_keys", "_selected_action": [str(partner.pk)]},
    )

    assert not partner.api_keys.filter(revoked_at__isnull=True).exists()


def test_retry_failed_outbox_messages(admin_client):
    from ticketing.outbox.models import OutboxMessage

    sent = OutboxMessage.objects.create(topic="t", dedupe_key="sent", status="sent")
    failed = OutboxMessage.objects.create(
        topic="t", dedupe_key="failed", status="failed", attempts=10, last_error="boom"
    )

    admin_client.post(
        "/admin/outbox/outboxmessage/",
        {"action": "retry_failed", "_selected_action": [str(sent.pk), str(failed.pk)]},
    )

    failed.refresh_from_db()
    sent.refresh_from_db()
    assert (failed.status, failed.attempts) == ("pending", 0)
    assert sent.status == "sent"
