"""The sales dashboard (`/staff/dashboard/`): its figures are the paid tickets still standing, on
each cinema's own days; another cinema's sales never show; a box office member is refused; the
number of queries does not grow with the sales."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from payments.refunds import refund_create, refund_mark_failed
from tests import factories
from tests.payments import flow
from tests.staff.support import signed_in, staff_user
from ticketing.orders.models import Order, PaidVia
from ticketing.orders.services import order_cancel, order_mark_paid
from ticketing.staff import dashboard_figures as figures
from ticketing.staff import roles

pytestmark = pytest.mark.django_db

URL = "/staff/dashboard/"
_buyers = itertools.count(1)


def paid(screening, *labels, via=PaidVia.OTHER):
    order = factories.pending_order(screening, *labels, buyer_key=f"buyer-{next(_buyers)}")
    return order_mark_paid(order_id=order.pk, actor="test", via=via)


def paid_at(order, moment: datetime) -> None:
    Order.objects.filter(pk=order.pk).update(paid_at=moment, created_at=moment)


def line(lines, key):
    return next(s for s in lines if s.key == key)


@pytest.fixture
def paris():
    cinema = factories.cinema(name="Paris Opéra", time_zone="Europe/Paris", currency="EUR")
    room = factories.auditorium(cinema, rows=2, per_row=10)  # 20 seats
    return factories.screening(room, starts_in=timedelta(hours=5))


@pytest.fixture
def tokyo():
    cinema = factories.cinema(name="Tokyo Shibuya", time_zone="Asia/Tokyo", currency="JPY")
    room = factories.auditorium(cinema, rows=1, per_row=10)
    return factories.screening(room, starts_in=timedelta(hours=6))


def test_sales_count_paid_tickets_less_refunded_ones_and_no_cancelled_order(paris):
    two = paid(paris, "A1", "A2")  # 2 x 1200
    refunded_one = flow.paid(paris, "A3", "A4").order  # one of its two tickets refunded
    ticket = refunded_one.tickets.order_by("seat_label").first()
    refund_create(order_id=refunded_one.pk, ticket_ids=[ticket.pk], actor="test", reason="asked")
    whole = flow.paid(paris, "A5").order  # refunded whole: counts nothing
    refund_create(order_id=whole.pk, actor="test", reason="asked")
    cancelled = paid(paris, "A6")
    order_cancel(order_id=cancelled.pk, actor="test", reason="test")
    factories.pending_order(paris, "A7")  # awaiting payment: no sale yet

    board = figures.dashboard(cinemas=[paris.auditorium.cinema])

    assert (board.totals.tickets, board.totals.orders) == (3, 2)
    assert board.totals.revenue == {"EUR": 3 * 1200}
    assert line(board.by_film, paris.film_id).tickets == 3
    assert line(board.by_cinema, paris.auditorium.cinema_id).revenue == {"EUR": 3600}
    today = timezone.localtime(timezone.now(), paris.auditorium.cinema.tz).date()
    assert line(board.by_day, today).tickets == 3
    assert len(board.days) == 30 and board.days[-1] == today
    assert two.status == "paid"


def test_a_sale_just_after_local_midnight_is_on_the_cinemas_day_not_utcs(paris, tokyo):
    # 15:30 UTC is 00:30 the next day in Tokyo, and 16:30 the same day in Paris.
    now = timezone.now()
    yesterday = (now - timedelta(days=1)).date()
    moment = datetime(yesterday.year, yesterday.month, yesterday.day, 15, 30, tzinfo=UTC)
    paid_at(paid(tokyo, "A1", "A2"), moment)
    paid_at(paid(paris, "A1"), moment)

    board = figures.dashboard(cinemas=[paris.auditorium.cinema, tokyo.auditorium.cinema], now=now)

    local_tokyo = moment.astimezone(tokyo.auditorium.cinema.tz).date()
    local_paris = moment.astimezone(paris.auditorium.cinema.tz).date()
    assert local_tokyo == local_paris + timedelta(days=1)
    assert line(board.by_day, local_tokyo).revenue == {"JPY": 2 * 1200}
    assert line(board.by_day, local_paris).revenue == {"EUR": 1200}
    assert board.currencies == ["EUR", "JPY"]


def test_sales_older_than_thirty_local_days_are_left_out(paris):
    cinema = paris.auditorium.cinema
    today = timezone.localtime(timezone.now(), cinema.tz).date()
    first = today - timedelta(days=29)
    just_in = datetime.combine(first, datetime.min.time(), tzinfo=cinema.tz) + timedelta(minutes=1)
    paid_at(paid(paris, "A1"), just_in)
    paid_at(paid(paris, "A2"), just_in - timedelta(minutes=2))  # the day before: out

    board = figures.dashboard(cinemas=[cinema])

    assert board.totals.tickets == 1
    assert line(board.by_day, first).tickets == 1


def test_occupancy_counts_sold_and_held_seats_apart_and_flags_a_screening_selling_out(paris):
    for labels in (["A1", "A2", "A3", "A4", "A5", "A6"], ["A7", "A8", "A9", "A10", "B1"]):
        paid(paris, *labels)
    paid(paris, "B2", "B3", "B4", "B5", "B6", "B7")  # 17 of 20 sold
    factories.held(paris, "B8")
    factories.pending_order(paris, "B9", buyer_key="other")
    quiet = factories.screening(paris.auditorium, starts_in=timedelta(days=2))
    paid(quiet, "A1")

    board = figures.dashboard(cinemas=[paris.auditorium.cinema])

    week = {s.screening_id: s for day in board.week for s in day.screenings}
    busy = week[paris.pk]
    assert (busy.capacity, busy.sold, busy.held, busy.free) == (20, 17, 2, 1)
    assert (busy.bar_sold, busy.bar_held) == (85, 10)
    assert [s.screening_id for s in board.selling_out] == [paris.pk]
    assert week[quiet.pk].sold == 1
    assert board.holds.count == 1  # the one turned into an order counts as the order
    assert board.pending_orders.count == 1
    assert board.pending_orders.amounts == {"EUR": 1200 + 100}  # with its booking fee


def test_the_week_lists_screenings_on_the_cinemas_days(tokyo):
    cinema = tokyo.auditorium.cinema
    board = figures.dashboard(cinemas=[cinema])
    today = timezone.localtime(timezone.now(), cinema.tz).date()
    assert [d.day for d in board.week] == [today + timedelta(days=i) for i in range(7)]
    assert board.week[0].is_today
    shown = [s for d in board.week for s in d.screenings]
    assert [s.screening_id for s in shown] == [tokyo.pk]
    assert shown[0].starts_at.utcoffset() == timedelta(hours=9)


def test_failed_refunds_are_listed_until_asked_for_again(paris):
    order = flow.paid(paris, "A1").order
    refund = refund_create(order_id=order.pk, actor="test", reason="asked")
    refund_mark_failed(
        provider_name="sandbox", provider_ref=refund.provider_ref, reason="card closed", actor="t"
    )

    board = figures.dashboard(cinemas=[paris.auditorium.cinema])

    assert board.refunds_failed == 1
    assert [r.pk for r in board.refunds] == [refund.pk]


def test_the_page_shows_the_figures_with_money_written_out_and_admin_links(client, paris):
    paid(paris, "A1", "A2")
    order = flow.paid(paris, "A3").order
    refund = refund_create(order_id=order.pk, actor="test", reason="asked")
    refund_mark_failed(
        provider_name="sandbox", provider_ref=refund.provider_ref, reason="card closed", actor="t"
    )
    signed_in(client, staff_user(roles.MANAGER, paris.auditorium.cinema))

    page = client.get(URL)

    assert page.status_code == 200
    html = page.content.decode()
    assert "€24.00" in html  # two adult tickets of 12.00 still standing
    assert f"/admin/payments/refund/{refund.pk}/change/" in html
    assert "card closed" in html
    assert f"/admin/screenings/screening/{paris.pk}/change/" in html
    assert 'id="dashboard-charts"' in html and 'aria-hidden="true"' in html
    assert "<caption>Sales by day, last 30 days</caption>" in html


def test_another_cinemas_sales_never_appear(client, paris, tokyo):
    paid(paris, "A1")
    paid(tokyo, "A1", "A2", "A3")
    flow_order = flow.paid(tokyo, "A4").order
    refund = refund_create(order_id=flow_order.pk, actor="test", reason="asked")
    refund_mark_failed(
        provider_name="sandbox", provider_ref=refund.provider_ref, reason="secret", actor="t"
    )
    factories.held(tokyo, "A9")
    signed_in(client, staff_user(roles.MANAGER, paris.auditorium.cinema))

    html = client.get(URL).content.decode()

    assert "Tokyo" not in html and tokyo.film.title not in html and "secret" not in html
    assert "¥" not in html and "JPY" not in html
    board = client.get(URL).context["board"]
    assert board.totals.tickets == 1 and board.holds.count == 0 and board.refunds == []
    assert client.get(URL, {"cinema": tokyo.auditorium.cinema_id}).status_code == 404
    assert client.get(URL, {"cinema": "x"}).status_code == 404


def test_a_member_of_several_cinemas_picks_one(client, paris, tokyo):
    paid(paris, "A1")
    paid(tokyo, "A1", "A2")
    member = staff_user(roles.MANAGER, paris.auditorium.cinema, tokyo.auditorium.cinema)
    signed_in(client, member)

    both = client.get(URL)
    assert both.context["board"].totals.tickets == 3
    assert 'name="cinema"' in both.content.decode()
    one = client.get(URL, {"cinema": tokyo.auditorium.cinema_id})
    assert one.context["board"].totals.tickets == 2
    assert [c.pk for c in one.context["board"].cinemas] == [tokyo.auditorium.cinema_id]


def test_box_office_is_refused(client, paris):
    signed_in(client, staff_user(roles.BOX_OFFICE, paris.auditorium.cinema))
    assert client.get(URL).status_code == 403


def test_without_the_second_factor_one_is_sent_to_sign_in(client, paris):
    client.force_login(staff_user(roles.MANAGER, paris.auditorium.cinema))
    response = client.get(URL)
    assert response.status_code == 302 and "/staff/login/" in response["Location"]


def test_the_number_of_queries_does_not_grow_with_sales(
    client, paris, tokyo, django_assert_max_num_queries
):
    member = staff_user(roles.MANAGER, all_cinemas=True)
    signed_in(client, member)
    paid(paris, "A1")
    client.get(URL)  # warm: content types, permissions
    for n in range(2, 10):
        paid(paris, f"B{n}")
        paid(tokyo, f"A{n}")
        order = flow.paid(paris, f"A{n}").order
        refund_create(order_id=order.pk, actor="test", reason="asked")
    factories.screening(tokyo.auditorium, starts_in=timedelta(days=3))
    figures.earlier_days_forget([paris.auditorium.cinema, tokyo.auditorium.cinema])
    # The session, the user, the device, two for permissions, the profile, the cinemas; then
    # the figures: auditoriums, sales (earlier days, today), screenings, seats, claims, refunds
    # (counts, list), holds, orders awaiting payment.
    with django_assert_max_num_queries(17):
        assert client.get(URL).status_code == 200
    with django_assert_max_num_queries(16):  # the earlier days now kept
        assert client.get(URL).status_code == 200


def test_earlier_days_are_kept_a_while_and_today_is_always_live(paris):
    cinema = paris.auditorium.cinema
    yesterday = timezone.now() - timedelta(days=1)
    paid_at(paid(paris, "A1"), yesterday)
    assert figures.dashboard(cinemas=[cinema]).totals.tickets == 1  # earlier days now kept

    paid(paris, "A2")  # today: shown at once
    paid_at(paid(paris, "A3"), yesterday)  # an earlier day: shown once the kept days expire
    assert figures.dashboard(cinemas=[cinema]).totals.tickets == 2

    figures.earlier_days_forget([cinema])
    assert figures.dashboard(cinemas=[cinema]).totals.tickets == 3


def test_the_worker_keeps_the_earlier_days_computed_so_no_page_reads_them(
    paris, django_assert_num_queries
):
    """celery beat runs staff.tasks.dashboard_warm every four minutes, before the kept days
    lapse: a page then reads only today's sales, never the month's tickets."""
    from ticketing.staff.tasks import dashboard_warm

    cinema = paris.auditorium.cinema
    yesterday = timezone.now() - timedelta(days=1)
    paid_at(paid(paris, "A1"), yesterday)
    assert figures.dashboard(cinemas=[cinema]).totals.tickets == 1  # kept
    paid_at(paid(paris, "A2"), yesterday)  # not in the kept days yet

    assert dashboard_warm.apply().get() >= 1  # the task as the worker runs it

    assert figures.dashboard(cinemas=[cinema]).totals.tickets == 2
    figures.earlier_days_forget([cinema])
    with django_assert_num_queries(10):  # cold: the earlier days read
        figures.dashboard(cinemas=[cinema])
    dashboard_warm.apply()
    with django_assert_num_queries(9):  # warmed: they are not
        figures.dashboard(cinemas=[cinema])


def test_a_manager_of_no_cinema_yet_is_told_so(client, paris):
    signed_in(client, staff_user(roles.MANAGER))
    page = client.get(URL)
    assert page.status_code == 200
    assert "You work for no cinema yet" in page.content.decode()
