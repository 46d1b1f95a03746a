"""Orders under real concurrency (invariants 1, 3, 4 and 8): requests racing each other, the
clock and the sweep on parallel PostgreSQL connections. After each race the test reads what the
database was left with: who owns the seats, how many orders, status changes and messages.

The clock races put a hold's expiry a moment ahead and start one side just before or just after
it, in several rounds, so that both outcomes happen; each outcome must be a consistent one.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from tests import factories
from tests.concurrency import run_concurrently, run_many, unexpected, winners
from tests.factories import hold, live_claims
from ticketing import errors
from ticketing.flows.sweep import sweep
from ticketing.inventory.holds import hold_release
from ticketing.inventory.models import Hold, HoldStatus, SeatClaim
from ticketing.orders.models import Order, OrderStatus, OrderStatusChange, Ticket
from ticketing.orders.services import order_create, order_mark_paid
from ticketing.outbox.models import OutboxMessage

pytestmark = pytest.mark.django_db(transaction=True)

OFFSETS_MS = (-100, -40, -15, 0, 15)  # when the racing side starts, relative to the expiry


def create(h: Hold, seat_ids, session: str) -> Order:
    return order_create(
        hold_id=h.pk,
        customer_email="ada@example.com",
        customer_name="Ada",
        tickets=[(s, "adult") for s in seat_ids],
        buyer_key=session,
        actor="test",
    )


def set_expiry(at: datetime, *, hold_id=None, order_id=None) -> None:
    if hold_id:
        Hold.objects.filter(pk=hold_id).update(expires_at=at)
        SeatClaim.objects.filter(hold_id=hold_id).update(expires_at=at)
    if order_id:
        Order.objects.filter(pk=order_id).update(expires_at=at)
        SeatClaim.objects.filter(order_id=order_id).update(expires_at=at)


def sleep_until(moment: datetime) -> None:
    delay = (moment - timezone.now()).total_seconds()
    if delay > 0:
        time.sleep(delay)


def row_pairs(screening):
    """A fresh pair of seats for each round: (A1, A2), (A3, A4), ... then row B."""
    seats = [s.pk for s in screening.auditorium.seats.all()]
    return [seats[i : i + 2] for i in range(0, len(seats), 2)]


# --- paying ----------------------------------------------------------------------------------


def test_four_confirmations_of_one_payment_at_once_pay_the_order_once(screening, mailoutbox):
    seats = factories.seats(screening.auditorium, "C4", "C5")
    order = create(hold(screening, *seats, session="s"), seats, "s")

    outcomes = run_many(
        4, lambda i: order_mark_paid(order_id=order.pk, actor=f"webhook:{i}", reason="succeeded")
    )

    assert unexpected(outcomes) == []
    assert all(o.status == OrderStatus.PAID for o in winners(outcomes))
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PAID
    assert OrderStatusChange.objects.filter(order=order, to_status=OrderStatus.PAID).count() == 1
    assert OutboxMessage.objects.count() == 1
    assert len(mailoutbox) == 1  # sent after commit, once
    claims = SeatClaim.objects.filter(order=order)
    assert sorted(c.seat_id for c in claims) == sorted(seats)
    assert all(c.expires_at is None for c in claims)


def test_a_late_payment_racing_a_new_buyer_for_its_seats_leaves_one_owner(screening):
    """The order expired (swept); its payment arrives just as someone else holds the seats.
    Either the payment re-claims both seats or it raises SeatsLost and owns none: never a
    paid order without its seats, never a seat with two owners."""
    outcomes_seen = set()
    for round_, seats in enumerate(row_pairs(screening)[:6]):
        order = create(hold(screening, *seats, session=f"payer-{round_}"), seats, f"payer-{round_}")
        set_expiry(timezone.now() - timedelta(seconds=1), order_id=order.pk)
        sweep()

        pay, newcomer = run_concurrently(
            [
                lambda order=order: order_mark_paid(order_id=order.pk, actor="provider:sandbox"),
                lambda seats=seats, r=round_: hold(screening, *seats, session=f"newcomer-{r}"),
            ]
        )

        assert unexpected([pay], errors.SeatsLost) == []
        assert unexpected([newcomer], errors.SeatUnavailable) == []
        assert pay.ok != newcomer.ok, "exactly one of them gets the seats"
        claims = live_claims(seat_id__in=seats)
        assert sorted(c.seat_id for c in claims) == sorted(seats)
        stored = Order.objects.get(pk=order.pk)
        if pay.ok:
            outcomes_seen.add("paid")
            assert stored.status == OrderStatus.PAID
            assert {(c.order_id, c.expires_at) for c in claims} == {(order.pk, None)}
        else:
            outcomes_seen.add("lost")
            assert stored.status == OrderStatus.EXPIRED
            assert {c.hold_id for c in claims} == {newcomer.result.pk}
            assert not SeatClaim.objects.filter(order=order).exists()
            assert OutboxMessage.objects.filter(dedupe_key__endswith=str(order.pk)).count() == 0
    assert outcomes_seen  # (which of the two happened is up to the scheduler)


def test_a_payment_racing_the_sweep_as_the_order_expires_ends_paid_with_its_seats(screening):
    for round_, (offset_ms, seats) in enumerate(
        zip(OFFSETS_MS, row_pairs(screening), strict=False)
    ):
        order = create(hold(screening, *seats, session=f"payer-{round_}"), seats, f"payer-{round_}")
        expiry = timezone.now() + timedelta(milliseconds=100)
        set_expiry(expiry, order_id=order.pk)

        def pay(order=order, expiry=expiry, offset_ms=offset_ms):
            sleep_until(expiry + timedelta(milliseconds=offset_ms))
            return order_mark_paid(order_id=order.pk, actor="provider:sandbox")

        def keep_sweeping(expiry=expiry):
            while timezone.now() < expiry + timedelta(milliseconds=100):
                sweep()

        outcomes = run_concurrently([pay, keep_sweeping])

        assert unexpected(outcomes) == []
        assert Order.objects.get(pk=order.pk).status == OrderStatus.PAID
        claims = SeatClaim.objects.filter(seat_id__in=seats)
        assert sorted(c.seat_id for c in claims) == sorted(seats)
        assert {(c.order_id, c.expires_at) for c in claims} == {(order.pk, None)}
        steps = list(
            OrderStatusChange.objects.filter(order=order).values_list("to_status", flat=True)
        )
        assert steps in (["pending_payment", "paid"], ["pending_payment", "expired", "paid"])
        assert OutboxMessage.objects.filter(dedupe_key__endswith=str(order.pk)).count() == 1


# --- creating an order --------------------------------------------------------------------------


def test_the_same_order_submitted_four_times_at_once_makes_one_order(screening):
    seats = factories.seats(screening.auditorium, "B2", "B3")
    h = hold(screening, *seats, session="s")

    outcomes = run_many(4, lambda i: create(h, seats, "s"))

    assert unexpected(outcomes, errors.HoldNotActive) == []
    [order] = winners(outcomes)
    assert Order.objects.count() == 1
    assert Ticket.objects.filter(order=order).count() == 2
    assert {c.order_id for c in SeatClaim.objects.all()} == {order.pk}
    assert OrderStatusChange.objects.count() == 1


def test_releasing_a_hold_while_it_becomes_an_order_one_of_them_wins(screening):
    for round_, seats in enumerate(row_pairs(screening)[:4]):
        h = hold(screening, *seats, session=f"s{round_}")

        ordering, releasing = run_concurrently(
            [
                lambda h=h, seats=seats, r=round_: create(h, seats, f"s{r}"),
                lambda h=h: hold_release(hold=h),
            ]
        )

        assert unexpected([ordering], errors.HoldExpired) == []
        assert unexpected([releasing], errors.HoldNotActive) == []
        assert ordering.ok != releasing.ok
        claims = live_claims(seat_id__in=seats)
        if ordering.ok:
            assert {c.order_id for c in claims} == {ordering.result.pk}
            assert len(claims) == 2
        else:
            assert claims == []
            assert not Order.objects.filter(hold=h).exists()
            assert Hold.objects.get(pk=h.pk).status == HoldStatus.RELEASED


def test_an_order_racing_a_new_buyer_as_the_hold_expires_leaves_one_owner(screening):
    """The buyer submits the order right around the moment the hold dies, while a newcomer keeps
    trying to hold the same seats. Either the order is created and owns both seats, or it fails
    with HoldExpired and leaves nothing, and the newcomer gets them."""
    for round_, (offset_ms, seats) in enumerate(
        zip(OFFSETS_MS, row_pairs(screening), strict=False)
    ):
        h = hold(screening, *seats, session=f"buyer-{round_}")
        expiry = timezone.now() + timedelta(milliseconds=150)
        set_expiry(expiry, hold_id=h.pk)
        buyer_done = threading.Event()

        def buyer(h=h, seats=seats, expiry=expiry, offset_ms=offset_ms, r=round_, done=buyer_done):
            try:
                sleep_until(expiry + timedelta(milliseconds=offset_ms))
                return create(h, seats, f"buyer-{r}")
            finally:
                done.set()

        def newcomer(seats=seats, expiry=expiry, r=round_, buyer_done=buyer_done):
            # Keep trying until an attempt made after the expiry and after the buyer's answer
            # fails too: by then the seats are either the order's or free.
            for _ in range(2000):
                final = buyer_done.is_set() and timezone.now() > expiry
                try:
                    return hold(screening, *seats, session=f"newcomer-{r}")
                except errors.SeatUnavailable:
                    if final:
                        raise
                    time.sleep(0.005)
            raise AssertionError("the newcomer never got an answer")

        ordered, newcomer_ = run_concurrently([buyer, newcomer])

        assert unexpected([ordered], errors.HoldExpired) == []
        assert unexpected([newcomer_], errors.SeatUnavailable) == []
        assert ordered.ok != newcomer_.ok, "exactly one of them owns the seats"
        claims = live_claims(seat_id__in=seats)
        assert sorted(c.seat_id for c in claims) == sorted(seats)
        if ordered.ok:
            order = ordered.result
            assert {(c.order_id, c.expires_at) for c in claims} == {(order.pk, order.expires_at)}
            tickets = Ticket.objects.filter(order=order).values_list("seat_id", flat=True)
            assert sorted(tickets) == sorted(seats)
        else:
            assert {c.hold_id for c in claims} == {newcomer_.result.pk}
            assert not Order.objects.filter(hold=h).exists()
            assert not Ticket.objects.filter(seat_id__in=seats).exists()


def test_an_order_racing_the_sweep_as_the_hold_expires_never_lacks_its_seats(screening):
    rows = [[s.pk for s in screening.auditorium.seats.filter(y=y)][:3] for y in range(5)]
    for round_, (offset_ms, seats) in enumerate(zip(OFFSETS_MS, rows, strict=True)):
        h = hold(screening, *seats, session=f"buyer-{round_}")
        expiry = timezone.now() + timedelta(milliseconds=100)
        set_expiry(expiry, hold_id=h.pk)

        def buyer(h=h, seats=seats, expiry=expiry, offset_ms=offset_ms, r=round_):
            sleep_until(expiry + timedelta(milliseconds=offset_ms))
            return create(h, seats, f"buyer-{r}")

        def keep_sweeping(expiry=expiry):
            while timezone.now() < expiry + timedelta(milliseconds=100):
                sweep()

        ordered, swept = run_concurrently([buyer, keep_sweeping])

        assert unexpected([ordered], errors.HoldExpired) == []
        assert swept.ok, swept.error
        if ordered.ok:
            order = ordered.result
            claims = live_claims(seat_id__in=seats)
            assert {(c.seat_id, c.order_id, c.expires_at) for c in claims} == {
                (s, order.pk, order.expires_at) for s in seats
            }
            assert Ticket.objects.filter(order=order).count() == 3
            assert Hold.objects.get(pk=h.pk).status == HoldStatus.ORDERED
        else:
            assert not Order.objects.filter(hold=h).exists()
            assert not Ticket.objects.filter(seat_id__in=seats).exists()
            sweep()
            assert not SeatClaim.objects.filter(seat_id__in=seats).exists()
            assert Hold.objects.get(pk=h.pk).status == HoldStatus.EXPIRED
