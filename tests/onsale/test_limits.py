"""An onsale's per-buyer ticket limit, across its holds and orders, decided by the database."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from payments import services as payments
from payments.refunds import refund_create
from tests import factories
from tests.concurrency import run_concurrently, unexpected, winners
from tests.onsale.support import onsale
from tests.payments import flow
from ticketing import errors
from ticketing.flows import checkout, sweep
from ticketing.inventory import holds
from ticketing.inventory.models import Hold, HoldStatus
from ticketing.onsale import limits
from ticketing.orders import services as orders
from ticketing.orders.models import Order, OrderStatus


@pytest.fixture
def sale(db):
    """Two screenings of a film's opening weekend in one onsale, a limit of 6 tickets a buyer."""
    cinema = factories.cinema()
    friday = factories.screening(factories.auditorium(cinema, rows=6, per_row=10))
    saturday = factories.screening(factories.auditorium(cinema, rows=6, per_row=10))
    return onsale(friday, saturday, ticket_limit=6), friday, saturday


def hold(screening, *labels, waiter="waiter-1", session="session-1", user=None):
    return checkout.hold_place(
        screening_id=screening.pk,
        seat_ids=factories.seats(screening.auditorium, *labels),
        buyer_key=session,
        waiter_id=waiter,
        user=user,
    )


def order(the_hold, email="fan@example.com", session="session-1", waiter="waiter-1"):
    return checkout.order_place(
        hold_id=the_hold.pk,
        customer_email=email,
        customer_name="Fan",
        tickets=[(seat, "adult") for seat in the_hold.seat_ids],
        buyer_key=session,
        waiter_id=waiter,
        actor="buyer:web",
    )


def counted(sale_, kind, identity):
    return limits.counted(onsale_id=sale_.pk, kind=kind, identity=identity)


def email_count(sale_, email):
    return counted(sale_, "email", limits.email_identity(email))


def paid(the_order):
    payment = payments.payment_start(
        order_id=the_order.pk, provider_name="sandbox", return_url="http://testserver/", actor="t"
    )
    assert flow.receive(flow.event(payment)).status == 200
    return the_order


def test_a_buyer_holds_up_to_the_limit_across_the_onsales_screenings(sale):
    the_sale, friday, saturday = sale
    hold(friday, "A1", "A2", "A3", "A4")

    with pytest.raises(errors.OnsaleLimitReached) as refused:
        hold(saturday, "A1", "A2", "A3")

    assert refused.value.code == "onsale_limit_reached"
    assert (
        refused.value.details.items()
        >= {"limit": 6, "left": 2, "requested": 3, "per": "waiter"}.items()
    )
    assert "6 tickets per buyer; 2 left" in refused.value.message
    assert not Hold.objects.filter(screening=saturday).exists()  # nothing held, nothing counted
    hold(saturday, "A1", "A2")
    assert counted(the_sale, "waiter", "waiter-1") == 6


def test_one_account_is_one_buyer_whatever_browser_it_uses(sale):
    the_sale, friday, saturday = sale
    fan = get_user_model().objects.create_user("fan", "fan@example.com", "x")
    hold(friday, "A1", "A2", "A3", "A4", waiter="phone", session="s-phone", user=fan)

    with pytest.raises(errors.OnsaleLimitReached) as refused:
        hold(saturday, "B1", "B2", "B3", waiter="laptop", session="s-laptop", user=fan)

    assert refused.value.details["per"] == "account"
    assert counted(the_sale, "account", str(fan.pk)) == 4


def test_a_screening_outside_any_onsale_is_not_counted(sale):
    _the_sale, friday, _saturday = sale
    elsewhere = factories.screening(factories.auditorium(friday.auditorium.cinema))

    first = hold(elsewhere, "A1", "A2", "A3", "A4", "A5", "A6", "A7", "A8")

    assert len(first.seat_ids) == 8
    assert not limits.BuyerTally.objects.exists()
    assert not limits.BuyerCharge.objects.exists()


def test_partners_are_not_counted(sale):
    _the_sale, friday, _saturday = sale
    partner, _key = factories.partner_with_key()
    checkout.hold_place(
        screening_id=friday.pk,
        seat_ids=factories.seats(friday.auditorium, *[f"C{n}" for n in range(1, 9)]),
        partner=partner,
    )
    assert not limits.BuyerCharge.objects.exists()


def test_choosing_again_gives_the_first_holds_tickets_back(sale):
    the_sale, friday, _saturday = sale
    checkout.hold_place(
        screening_id=friday.pk,
        seat_ids=factories.seats(friday.auditorium, "A1", "A2", "A3", "A4"),
        buyer_key="session-1",
        waiter_id="waiter-1",
        replace=True,
    )
    again = checkout.hold_place(
        screening_id=friday.pk,
        seat_ids=factories.seats(friday.auditorium, "B1", "B2", "B3", "B4", "B5", "B6"),
        buyer_key="session-1",
        waiter_id="waiter-1",
        replace=True,
    )
    assert len(again.seat_ids) == 6
    assert counted(the_sale, "waiter", "waiter-1") == 6


def test_a_released_or_dead_hold_gives_its_tickets_back(sale):
    the_sale, friday, saturday = sale
    first = hold(friday, "A1", "A2", "A3", "A4")
    holds.hold_release(hold=first)
    second = hold(saturday, "A1", "A2", "A3", "A4")  # the released four came back first
    assert counted(the_sale, "waiter", "waiter-1") == 4

    # Dead by its clock, no worker ran: the next hold of the buyer counts without it.
    Hold.objects.filter(pk=second.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    hold(friday, "B1", "B2", "B3", "B4", "B5", "B6")
    assert counted(the_sale, "waiter", "waiter-1") == 6


def test_the_sweep_gives_dead_holds_back_in_one_go(sale):
    the_sale, friday, _saturday = sale
    for n in range(3):
        made = hold(friday, f"A{n + 1}", waiter=f"w{n}", session=f"s{n}")
        Hold.objects.filter(pk=made.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

    sweep.sweep()

    assert Hold.objects.filter(status=HoldStatus.EXPIRED).count() == 3
    assert [counted(the_sale, "waiter", f"w{n}") for n in range(3)] == [0, 0, 0]
    assert limits.BuyerCharge.objects.filter(returned_at__isnull=True).count() == 0


def test_an_order_carries_its_holds_count_and_adds_the_email(sale):
    the_sale, friday, _saturday = sale
    placed = order(hold(friday, "A1", "A2", "A3"))

    assert counted(the_sale, "waiter", "waiter-1") == 3  # moved, not counted twice
    assert email_count(the_sale, "fan@example.com") == 3
    charge = limits.BuyerCharge.objects.get()
    assert (charge.order_id, charge.tickets) == (placed.pk, 3)
    assert "fan@example.com" not in charge.email  # kept as a keyed hash


def test_the_same_email_across_two_browsers_is_refused_at_order_time(sale):
    the_sale, friday, saturday = sale
    order(hold(friday, "A1", "A2", "A3", "A4", waiter="w1", session="s1"), session="s1")
    second = hold(saturday, "A1", "A2", "A3", waiter="w2", session="s2")

    with pytest.raises(errors.OnsaleLimitReached) as refused:
        order(second, email=" FAN@example.com ", session="s2", waiter="w2")

    assert refused.value.details.items() >= {"per": "email", "left": 2, "limit": 6}.items()
    second.refresh_from_db()
    assert second.status == HoldStatus.ACTIVE  # the hold as it was, no order
    assert not Order.objects.filter(hold_id=second.pk).exists()
    assert email_count(the_sale, "fan@example.com") == 4
    assert counted(the_sale, "waiter", "w2") == 3


def test_a_cancelled_order_gives_its_tickets_back(sale):
    the_sale, friday, _saturday = sale
    placed = order(hold(friday, "A1", "A2", "A3", "A4"))

    orders.order_cancel(order_id=placed.pk, actor="buyer:web")

    assert counted(the_sale, "waiter", "waiter-1") == 0
    assert email_count(the_sale, "fan@example.com") == 0
    orders.order_cancel(order_id=placed.pk, actor="buyer:web")  # twice: nothing more
    assert email_count(the_sale, "fan@example.com") == 0


def test_an_expired_order_gives_back_and_a_late_payment_counts_again(sale):
    the_sale, friday, _saturday = sale
    placed = order(hold(friday, "A1", "A2"))
    payment = payments.payment_start(
        order_id=placed.pk, provider_name="sandbox", return_url="http://testserver/", actor="t"
    )
    placed.__class__.objects.filter(pk=placed.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    Hold.objects.filter(pk=placed.hold_id).update(expires_at=timezone.now() - timedelta(seconds=1))

    sweep.sweep()  # the sweep's set-based path: orders_expire_due in batches
    placed.refresh_from_db()
    assert placed.status == OrderStatus.EXPIRED
    assert counted(the_sale, "waiter", "waiter-1") == 0
    assert email_count(the_sale, "fan@example.com") == 0

    assert flow.receive(flow.event(payment)).status == 200  # paid late, seats still free
    placed.refresh_from_db()
    assert placed.status == OrderStatus.PAID
    assert counted(the_sale, "waiter", "waiter-1") == 2
    assert email_count(the_sale, "fan@example.com") == 2


def test_a_late_payment_after_the_onsale_closed_is_not_held_to_its_limit(sale):
    the_sale, friday, saturday = sale
    late = order(hold(friday, "A1", "A2", "A3", "A4"))
    payment = payments.payment_start(
        order_id=late.pk, provider_name="sandbox", return_url="http://testserver/", actor="t"
    )
    Order.objects.filter(pk=late.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    Hold.objects.filter(pk=late.hold_id).update(expires_at=timezone.now() - timedelta(seconds=1))
    sweep.sweep()  # the four tickets given back
    paid(order(hold(saturday, "A1", "A2", "A3", "A4")))  # the same buyer: four of six again
    the_sale.__class__.objects.filter(pk=the_sale.pk).update(
        closes_at=timezone.now() - timedelta(seconds=1)
    )

    assert flow.receive(flow.event(payment)).status == 200  # 4 + 4 > 6, but the onsale is over
    late.refresh_from_db()
    assert late.status == OrderStatus.PAID


def test_refunded_tickets_give_theirs_back(sale):
    the_sale, friday, _saturday = sale
    placed = paid(order(hold(friday, "A1", "A2", "A3")))
    first = placed.tickets.order_by("seat_label").first()

    refund_create(order_id=placed.pk, ticket_ids=[first.pk], actor="user:1", reason="broken")
    assert email_count(the_sale, "fan@example.com") == 2
    assert counted(the_sale, "waiter", "waiter-1") == 2

    refund_create(order_id=placed.pk, actor="user:1", reason="the rest")
    assert email_count(the_sale, "fan@example.com") == 0
    assert counted(the_sale, "waiter", "waiter-1") == 0


def test_a_hold_in_an_onsale_costs_a_bounded_number_of_queries_more(sale):
    _the_sale, friday, _saturday = sale
    elsewhere = factories.screening(factories.auditorium(friday.auditorium.cinema, rows=6))
    hold(friday, "F1", waiter="warm", session="warm")  # the onsale's selector cached
    hold(elsewhere, "F1", waiter="warm", session="warm")

    with CaptureQueriesContext(connection) as outside:
        hold(elsewhere, "A1", "A2", waiter="x", session="x")
    with CaptureQueriesContext(connection) as inside:
        hold(friday, "A1", "A2", waiter="x", session="x")

    # Give back dead holds (1), the charge (1), one count-up per identity (1 without an
    # account), plus the savepoint pair of the outer transaction.
    assert len(inside) - len(outside) <= 5, [q["sql"] for q in inside.captured_queries]


@pytest.mark.django_db(transaction=True)
def test_one_buyers_eight_parallel_holds_of_two_against_six_three_succeed():
    cinema = factories.cinema()
    screenings = [factories.screening(factories.auditorium(cinema, rows=4)) for _ in range(2)]
    the_sale = onsale(*screenings, ticket_limit=6)
    fan = get_user_model().objects.create_user(f"fan-{uuid.uuid4().hex[:6]}", "f@x.org", "x")
    asks = []
    for n in range(8):
        screening = screenings[n % 2]
        labels = [f"{'ABCD'[n // 2]}{1 + 2 * (n % 2)}", f"{'ABCD'[n // 2]}{2 + 2 * (n % 2)}"]
        seat_ids = factories.seats(screening.auditorium, *labels)
        asks.append(
            lambda s=screening, ids=seat_ids, n=n: checkout.hold_place(
                screening_id=s.pk,
                seat_ids=ids,
                buyer_key=f"tab-{n}",  # eight tabs: the hold service's own turns do not line
                waiter_id="one-browser",  # them up, only the tally's row does
                user=fan,
            )
        )

    outcomes = run_concurrently(asks)

    assert len(winners(outcomes)) == 3
    assert unexpected(outcomes, errors.OnsaleLimitReached) == []
    assert counted(the_sale, "waiter", "one-browser") == 6
    assert counted(the_sale, "account", str(fan.pk)) == 6
    assert Hold.objects.filter(status=HoldStatus.ACTIVE).count() == 3
    assert limits.BuyerCharge.objects.count() == 3


@pytest.mark.django_db(transaction=True)
def test_one_email_ordering_from_two_browsers_at_once_stays_within_the_limit():
    cinema = factories.cinema()
    screening = factories.screening(factories.auditorium(cinema, rows=4))
    the_sale = onsale(screening, ticket_limit=6)
    holds_ = [
        hold(screening, f"{row}1", f"{row}2", f"{row}3", f"{row}4", waiter=f"w{row}", session=row)
        for row in "AB"
    ]

    outcomes = run_concurrently(
        [
            lambda h=h: order(h, email="same@example.com", session=h.buyer_key, waiter="")
            for h in holds_
        ]
    )

    assert len(winners(outcomes)) == 1
    assert unexpected(outcomes, errors.OnsaleLimitReached) == []
    assert email_count(the_sale, "same@example.com") == 4


def test_an_order_made_from_a_hold_just_given_back_as_dead_counts_it_again(sale):
    # A sweep read the hold past its time a moment before the order took it (clocks differ by
    # a few milliseconds at the expiry): the order counts the tickets again.
    the_sale, friday, _saturday = sale
    made = hold(friday, "A1", "A2")
    later = made.expires_at
    Hold.objects.filter(pk=made.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    limits.charges_return_dead()
    assert counted(the_sale, "waiter", "waiter-1") == 0
    Hold.objects.filter(pk=made.pk).update(expires_at=later)

    order(made)

    assert counted(the_sale, "waiter", "waiter-1") == 2
    assert email_count(the_sale, "fan@example.com") == 2
    assert limits.BuyerCharge.objects.get().returned_at is None
