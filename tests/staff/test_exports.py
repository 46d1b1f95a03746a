"""Exports: a screening's or a day's orders and attendance as CSV, in the cinema's zone, escaped
for spreadsheets, streamed, and only the member's cinemas."""

from __future__ import annotations

import csv
import io
from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone

from payments.refunds import refund_create
from tests import factories
from tests.staff.support import signed_in, staff_user
from tests.staff.test_orders_lookup import paid_order
from ticketing.checkin.services import Door, ScanRequest, checkin_scan
from ticketing.csv_cells import cell, rows_csv
from ticketing.orders.models import Ticket
from ticketing.staff import roles

pytestmark = pytest.mark.django_db


def rows(response) -> list[dict]:
    assert response.status_code == 200, response
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith("attachment;")
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


def at_local(cinema, day, hour, minute=0):
    return datetime.combine(day, time(hour, minute), tzinfo=cinema.tz)


def screening_at(room, starts_at):
    return factories.screening(room, starts_in=starts_at - timezone.now())


@pytest.fixture
def manager_client(client, screening):
    signed_in(client, staff_user(roles.MANAGER, screening.auditorium.cinema))
    return client


def test_a_screenings_orders_csv_has_each_sale_in_the_cinemas_zone_and_major_units(
    manager_client, screening
):
    order = paid_order(screening, "A1", "A2", name="Ada Lovelace", email="ada@example.com")
    factories.pending_order(screening, "B1")  # awaiting payment: not a sale
    cinema = screening.auditorium.cinema

    got = rows(manager_client.get(f"/staff/exports/screenings/{screening.pk}/orders.csv"))

    assert len(got) == 1
    row = got[0]
    assert row["order"] == order.code
    assert row["paid_at"] == timezone.localtime(order.paid_at, cinema.tz).strftime(
        "%Y-%m-%d %H:%M:%S"
    )
    assert row["time_zone"] == "Europe/Paris"
    assert (row["customer_name"], row["customer_email"]) == ("Ada Lovelace", "ada@example.com")
    assert (row["tickets"], row["seats"]) == ("2", "A1 A2")
    assert (row["total"], row["currency"]) == ("26.00", "EUR")  # 2 x (12.00 + 1.00 booking fee)
    assert (row["status"], row["channel"], row["partner"], row["promo_code"]) == (
        "paid",
        "website",
        "",
        "",
    )


def test_a_partners_order_says_which_partner_sold_it(manager_client, screening):
    partner, _ = factories.partner_with_key("Tix Platform")
    paid_order(screening, "C1", partner=partner)
    (row,) = rows(manager_client.get(f"/staff/exports/screenings/{screening.pk}/orders.csv"))
    assert (row["channel"], row["partner"]) == ("partner", "Tix Platform")


def test_cells_that_start_like_a_formula_are_escaped(manager_client, screening):
    paid_order(screening, "A1", name='=HYPERLINK("http://evil.example","click")')
    paid_order(screening, "A2", name="+1 555 0100")
    paid_order(screening, "A3", name="@SUM(A1:A9)")
    paid_order(screening, "A4", name="-2+3")

    names = sorted(
        r["customer_name"]
        for r in rows(manager_client.get(f"/staff/exports/screenings/{screening.pk}/orders.csv"))
    )

    assert names == [
        "'+1 555 0100",
        "'-2+3",
        '\'=HYPERLINK("http://evil.example","click")',
        "'@SUM(A1:A9)",
    ]


def test_the_escaping_is_the_one_every_csv_uses():
    assert [cell(v) for v in ("=1", "+1", "-1", "@x", "\tx", "\rx", "ok", None, -5, 3)] == [
        "'=1",
        "'+1",
        "'-1",
        "'@x",
        "'\tx",
        "'\rx",
        "ok",
        "",
        "-5",  # a number is not a formula
        "3",
    ]
    assert rows_csv([{"a": "=x", "b": 1}], ["a", "b"]) == "a,b\r\n'=x,1\r\n"


def test_a_screenings_attendance_csv_lists_every_ticket_with_its_check_in(
    manager_client, screening
):
    order = paid_order(screening, "D1", "D2", "D3")
    admitted = timezone.now().replace(microsecond=0)
    Ticket.objects.filter(order=order, seat_label="D1").update(checked_in_at=admitted)
    d3 = order.tickets.get(seat_label="D3")
    refund_create(order_id=order.pk, ticket_ids=[d3.pk], actor="user:1", reason="test")
    cinema = screening.auditorium.cinema

    got = rows(manager_client.get(f"/staff/exports/screenings/{screening.pk}/attendance.csv"))

    assert [(r["seat"], r["status"]) for r in got] == [
        ("D1", "admitted"),
        ("D2", "not admitted"),
        ("D3", "refunded"),
    ]
    assert got[0]["checked_in_at"] == timezone.localtime(admitted, cinema.tz).strftime(
        "%Y-%m-%d %H:%M:%S"
    )
    assert got[1]["checked_in_at"] == "" and got[0]["ticket_type"] == "Adult"
    assert got[0]["order"] == order.code and got[0]["ticket"] == str(
        order.tickets.get(seat_label="D1").pk
    )
    assert all(Ticket.objects.get(pk=r["ticket"]).code not in str(r) for r in got)  # no QR codes


def test_a_day_is_each_cinemas_own_day_and_only_the_members_cinemas(client):
    paris = factories.cinema(time_zone="Europe/Paris")
    shanghai = factories.cinema(time_zone="Asia/Shanghai", currency="CNY")
    theirs = factories.cinema(time_zone="Europe/Paris")
    day = timezone.localdate(timezone.now() + timedelta(days=3), paris.tz)
    paris_room, shanghai_room, their_room = (
        factories.auditorium(c, rows=2, per_row=5) for c in (paris, shanghai, theirs)
    )
    late_in_shanghai = screening_at(shanghai_room, at_local(shanghai, day, 23, 30))  # 15:30 UTC
    paris_evening = screening_at(paris_room, at_local(paris, day, 20, 0))
    paris_next_night = screening_at(paris_room, at_local(paris, day + timedelta(days=1), 0, 30))
    their_evening = screening_at(their_room, at_local(theirs, day, 20, 0))
    shanghai_order = paid_order(late_in_shanghai, "A1")
    paris_order = paid_order(paris_evening, "A1")
    paid_order(paris_next_night, "A1")  # the 23:30 UTC of `day`, but Paris's next day
    their_order = paid_order(their_evening, "A1")
    signed_in(client, staff_user(roles.MANAGER, paris, shanghai))

    orders = rows(client.get(f"/staff/exports/days/{day}/orders.csv"))
    assert [r["order"] for r in orders] == [shanghai_order.code, paris_order.code]
    assert [r["screening_starts"] for r in orders] == [f"{day} 23:30:00", f"{day} 20:00:00"]
    assert orders[0]["currency"] == "CNY" and orders[0]["time_zone"] == "Asia/Shanghai"
    attendance = rows(client.get(f"/staff/exports/days/{day}/attendance.csv"))
    assert [r["order"] for r in attendance] == [shanghai_order.code, paris_order.code]
    assert their_order.code not in str(orders + attendance)

    only_paris = rows(client.get(f"/staff/exports/days/{day}/orders.csv", {"cinema": paris.pk}))
    assert [r["order"] for r in only_paris] == [paris_order.code]
    assert (
        client.get(f"/staff/exports/days/{day}/orders.csv", {"cinema": theirs.pk}).status_code
        == 404
    )


def test_a_day_by_sale_has_what_was_paid_that_day(manager_client, screening):
    order = paid_order(screening, "A1")  # paid now, for tomorrow's screening
    cinema = screening.auditorium.cinema
    today = timezone.localdate(order.paid_at, cinema.tz)

    sold_today = rows(
        manager_client.get(f"/staff/exports/days/{today}/orders.csv", {"basis": "sale"})
    )
    assert [r["order"] for r in sold_today] == [order.code]
    assert rows(manager_client.get(f"/staff/exports/days/{today}/orders.csv")) == []


def test_another_cinemas_screening_is_404(manager_client):
    elsewhere = factories.screening(factories.auditorium(factories.cinema(), rows=1, per_row=2))
    for kind in ("orders", "attendance"):
        assert (
            manager_client.get(f"/staff/exports/screenings/{elsewhere.pk}/{kind}.csv").status_code
            == 404
        )


def test_bad_days_and_kinds_are_refused_in_words_not_a_500(manager_client, screening):
    assert manager_client.get("/staff/exports/days/2026-13-45/orders.csv").status_code == 400
    assert manager_client.get("/staff/exports/days/tomorrow/orders.csv").status_code == 400
    assert (
        manager_client.get("/staff/exports/days/2026-12-01/orders.csv?basis=x").status_code == 400
    )
    assert (
        manager_client.get(f"/staff/exports/screenings/{screening.pk}/tickets.csv").status_code
        == 404
    )
    assert manager_client.get("/staff/exports/?day=someday").status_code == 400


def test_the_exports_page_links_the_days_screenings(manager_client, screening):
    day = timezone.localdate(screening.starts_at, screening.auditorium.cinema.tz)
    page = manager_client.get("/staff/exports/", {"day": day.isoformat()}).content.decode()
    assert f"/staff/exports/screenings/{screening.pk}/orders.csv" in page
    assert f"/staff/exports/screenings/{screening.pk}/attendance.csv" in page
    assert f"/staff/exports/days/{day}/attendance.csv" in page


def test_the_box_office_cannot_export(client, screening):
    signed_in(client, staff_user(roles.BOX_OFFICE, screening.auditorium.cinema))
    assert client.get("/staff/exports/").status_code == 403
    assert client.get(f"/staff/exports/screenings/{screening.pk}/orders.csv").status_code == 403


def test_attendance_says_which_door_admitted_each_ticket(client):
    cinema = factories.cinema(time_zone="Asia/Tokyo")
    screening = factories.screening(
        factories.auditorium(cinema, rows=1, per_row=4), starts_in=timedelta(minutes=15)
    )
    order = paid_order(screening, "A1", "A2")
    a1 = order.tickets.get(seat_label="A1")
    outcome = checkin_scan(
        door=Door(cinema_ids=frozenset({cinema.pk})),
        scan=ScanRequest(code=a1.code, screening_id=screening.pk, door="North door"),
    )
    assert outcome.error is None, outcome.error
    a1.refresh_from_db()
    signed_in(client, staff_user(roles.MANAGER, cinema))

    got = rows(client.get(f"/staff/exports/screenings/{screening.pk}/attendance.csv"))

    assert [(r["seat"], r["status"], r["door"]) for r in got] == [
        ("A1", "admitted", "North door"),
        ("A2", "not admitted", ""),
    ]
    assert got[0]["checked_in_at"] == timezone.localtime(a1.checked_in_at, cinema.tz).strftime(
        "%Y-%m-%d %H:%M:%S"
    )
    assert got[0]["time_zone"] == "Asia/Tokyo"
