"""Staff watch an onsale live: who may see which, the JSON the chart polls, pause and rate."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests import factories
from tests.onsale.support import onsale
from tests.staff.support import signed_in, staff_user
from ticketing.audit.models import AuditEntry
from ticketing.flows import checkout
from ticketing.onsale import waiting
from ticketing.onsale.models import Onsale
from ticketing.orders.services import order_mark_paid
from ticketing.staff import roles


@pytest.fixture
def world(db):
    paris, lyon = factories.cinema(name="Paris"), factories.cinema(name="Lyon")
    friday = factories.screening(factories.auditorium(paris, rows=2, per_row=10))
    elsewhere = factories.screening(factories.auditorium(lyon, rows=2, per_row=10))
    sale = onsale(friday, name="Endgame weekend", admit_per_minute=60)
    other = onsale(elsewhere, name="Lyon premiere")
    yield {"paris": paris, "lyon": lyon, "friday": friday, "sale": sale, "other": other}
    for made in (sale, other):
        waiting.forget(made.pk)


def manager(client, *cinemas):
    return signed_in(client, staff_user(roles.MANAGER, *cinemas))


def test_a_manager_lists_the_onsales_of_their_cinemas_only(client, world):
    manager(client, world["paris"])

    page = client.get("/staff/onsales/")

    assert page.status_code == 200
    assert "Endgame weekend" in page.text
    assert "Lyon premiere" not in page.text
    assert '<a href="/staff/onsales/" aria-current="page">Onsales</a>' in page.text


def test_another_cinemas_onsale_is_not_found(client, world):
    manager(client, world["paris"])
    other = world["other"].pk

    assert client.get(f"/staff/onsales/{other}/").status_code == 404
    assert client.get(f"/staff/onsales/{other}/live.json").status_code == 404
    assert client.post(f"/staff/onsales/{other}/pause/", {"paused": "1"}).status_code == 404


def test_box_office_may_not_watch_and_a_stranger_is_sent_to_sign_in(client, world):
    assert client.get("/staff/onsales/").status_code == 302
    signed_in(client, staff_user(roles.BOX_OFFICE, world["paris"]))
    assert client.get("/staff/onsales/").status_code == 403
    assert client.get(f"/staff/onsales/{world['sale'].pk}/live.json").status_code == 403


def test_a_partner_manager_watches_but_may_not_pause(client, world):
    signed_in(client, staff_user(roles.PARTNER_MANAGER, world["paris"]))
    sale = world["sale"].pk

    page = client.get(f"/staff/onsales/{sale}/")

    assert page.status_code == 200
    assert "Pause admissions" not in page.text
    assert client.post(f"/staff/onsales/{sale}/pause/", {"paused": "1"}).status_code == 403
    assert client.post(f"/staff/onsales/{sale}/rate/", {"admit_per_minute": 5}).status_code == 403
    assert not Onsale.objects.get(pk=sale).paused


def test_the_live_json_gives_the_queue_the_rates_and_the_seats_left(client, world):
    friday = world["friday"]
    sale = world["sale"]
    for waiter in ["w1", "w2", "w3"]:
        waiting.visit(sale.pk, waiter, load=lambda: None)
    held = checkout.hold_place(
        screening_id=friday.pk,
        seat_ids=factories.seats(friday.auditorium, "A1", "A2"),
        buyer_key="s1",
        waiter_id="w1",
    )
    order = checkout.order_place(
        hold_id=held.pk,
        customer_email="fan@example.com",
        customer_name="Fan",
        tickets=[(s, "adult") for s in held.seat_ids],
        buyer_key="s1",
        actor="t",
    )
    order_mark_paid(order_id=order.pk, actor="t")
    manager(client, world["paris"])

    answer = client.get(f"/staff/onsales/{sale.pk}/live.json")

    assert answer.status_code == 200
    assert answer["Cache-Control"].startswith("max-age=0")
    body = answer.json()
    assert set(body) == {"onsale", "now", "series", "poll_seconds"}
    assert body["onsale"]["name"] == "Endgame weekend"
    assert body["onsale"]["admit_per_minute"] == 60
    now = body["now"]
    assert now["waiting_room"] == "up"
    assert now["seats"] == {"capacity": 20, "sold": 2, "held": 0, "left": 18}
    assert now["paid_orders"] == 1
    assert now["waiting"] + now["admitted"] >= 0
    assert set(now) >= {"admitted_per_minute", "purchases_per_minute", "live_admissions"}
    series = body["series"]
    assert set(series) == {
        "t",
        "waiting",
        "admitted_per_minute",
        "purchases_per_minute",
        "seats_left",
    }
    assert len(series["t"]) == len(series["seats_left"]) == 1
    assert series["seats_left"] == [18]


def test_watchers_share_one_reading_for_a_few_seconds(client, world):
    manager(client, world["paris"])
    url = f"/staff/onsales/{world['sale'].pk}/live.json"
    client.get(url)

    with CaptureQueriesContext(connection) as again:
        assert client.get(url).status_code == 200

    figures = [q["sql"] for q in again.captured_queries if "inventory_seatclaim" in q["sql"]]
    assert figures == []  # the seats and orders were not counted again


def test_a_manager_pauses_and_resumes_admissions_and_it_is_audited(client, world):
    manager(client, world["paris"])
    sale = world["sale"]

    paused = client.post(f"/staff/onsales/{sale.pk}/pause/", {"paused": "1"})

    assert paused.status_code == 302
    assert Onsale.objects.get(pk=sale.pk).paused
    assert AuditEntry.objects.filter(action="onsale.pause", object_id=str(sale.pk)).count() == 1
    assert "Resume admissions" in client.get(f"/staff/onsales/{sale.pk}/").text
    client.post(f"/staff/onsales/{sale.pk}/pause/", {"paused": "0"})
    assert not Onsale.objects.get(pk=sale.pk).paused
    assert AuditEntry.objects.filter(action="onsale.resume").count() == 1


def test_a_manager_changes_the_rate_and_a_bad_rate_is_refused(client, world):
    manager(client, world["paris"])
    sale = world["sale"]

    assert (
        client.post(f"/staff/onsales/{sale.pk}/rate/", {"admit_per_minute": 250}).status_code == 302
    )
    assert Onsale.objects.get(pk=sale.pk).admit_per_minute == 250
    entry = AuditEntry.objects.get(action="onsale.rate")
    assert entry.changes == {"admit_per_minute": [60, 250]}

    refused = client.post(f"/staff/onsales/{sale.pk}/rate/", {"admit_per_minute": -3})
    assert refused.status_code == 400
    assert 'aria-invalid="true"' in refused.text
    assert Onsale.objects.get(pk=sale.pk).admit_per_minute == 250


def test_a_get_does_not_pause(client, world):
    manager(client, world["paris"])
    assert client.get(f"/staff/onsales/{world['sale'].pk}/pause/").status_code == 405


def test_an_onsale_across_two_cinemas_is_watched_by_both_but_paused_only_by_head_office(
    client, world
):
    lyon_screening = factories.screening(factories.auditorium(world["lyon"], rows=1))
    world["sale"].screenings.add(lyon_screening)
    manager(client, world["paris"])
    sale = world["sale"].pk

    assert client.get(f"/staff/onsales/{sale}/").status_code == 200
    assert client.post(f"/staff/onsales/{sale}/pause/", {"paused": "1"}).status_code == 403
    signed_in(client, staff_user(roles.MANAGER, all_cinemas=True))
    assert client.post(f"/staff/onsales/{sale}/pause/", {"paused": "1"}).status_code == 302


def test_a_closed_onsale_is_shown_closed_with_its_closing_time(client, world):
    sale = world["sale"]
    Onsale.objects.filter(pk=sale.pk).update(closes_at=timezone.now() - timedelta(minutes=1))
    manager(client, world["paris"])

    listing = client.get("/staff/onsales/")
    page = client.get(f"/staff/onsales/{sale.pk}/")
    live = client.get(f"/staff/onsales/{sale.pk}/live.json").json()

    assert "<td>closed</td>" in listing.text
    assert "The onsale has closed: its screenings sell as any other" in page.text
    assert live["onsale"]["closed"] is True and live["onsale"]["closes_at"]
