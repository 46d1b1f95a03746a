"""The sweep (invariant 3): it deletes dead claims and expires unpaid orders, in batches of
set-based statements, and never touches anything alive, even while buyers are holding seats."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests import factories
from tests.concurrency import run_concurrently, unexpected
from tests.factories import hold
from ticketing import errors
from ticketing.flows.sweep import sweep
from ticketing.flows.tasks import sweep_expired
from ticketing.inventory.holds import hold_create
from ticketing.inventory.models import Hold, HoldStatus, SeatClaim
from ticketing.orders.models import Order, OrderStatus
from ticketing.orders.services import order_create, order_mark_paid

CLAIMS = SeatClaim._meta.db_table


def expire(the_hold: Hold) -> None:
    past = timezone.now() - timedelta(seconds=1)
    Hold.objects.filter(pk=the_hold.pk).update(expires_at=past)
    SeatClaim.objects.filter(hold_id=the_hold.pk).update(expires_at=past)


def order(screening, *labels: str, session: str = "payer") -> Order:
    h = hold(screening, *labels, session=session)
    return order_create(
        hold_id=h.pk,
        customer_email="p@example.com",
        customer_name="P",
        tickets=[(seat, "adult") for seat in factories.seats(screening.auditorium, *labels)],
        buyer_key=session,
        actor="test",
    )


def claimed(**filters) -> set[int]:
    return set(SeatClaim.objects.filter(**filters).values_list("seat_id", flat=True))


def live_seats(screening) -> set[int]:
    now = timezone.now()
    return set(
        SeatClaim.objects.filter(screening=screening)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .values_list("seat_id", flat=True)
    )


@pytest.mark.django_db
def test_the_sweep_deletes_dead_claims_and_nothing_alive(screening):
    room = screening.auditorium
    dead = hold(screening, "A1", "A2", "A3", session="gone")
    expire(dead)
    live = hold(screening, "B1", "B2", session="here")
    pending = order(screening, "C1", session="paying")
    sold = order(screening, "D1", "D2", session="paid")
    order_mark_paid(order_id=sold.pk, actor="test")

    result = sweep()

    assert result.claims_deleted == 3
    assert result.orders_expired == 0
    assert not SeatClaim.objects.filter(hold=dead).exists()
    assert claimed(hold=live) == set(factories.seats(room, "B1", "B2"))
    assert claimed(order=pending) == set(factories.seats(room, "C1"))
    assert claimed(order=sold, expires_at__isnull=True) == set(factories.seats(room, "D1", "D2"))
    assert Hold.objects.get(pk=dead.pk).status == HoldStatus.EXPIRED
    assert Hold.objects.get(pk=live.pk).status == HoldStatus.ACTIVE
    assert Hold.objects.get(pk=pending.hold_id).status == HoldStatus.ORDERED
    assert sweep().claims_deleted == 0  # running it again finds nothing


@pytest.mark.django_db
def test_the_sweep_expires_unpaid_orders_and_puts_their_seats_back_on_sale(screening):
    unpaid = order(screening, "C1", "C2")
    past = timezone.now() - timedelta(seconds=1)
    Order.objects.filter(pk=unpaid.pk).update(expires_at=past)
    SeatClaim.objects.filter(order=unpaid).update(expires_at=past)

    result = sweep()

    assert result.orders_expired == 1
    assert Order.objects.get(pk=unpaid.pk).status == OrderStatus.EXPIRED
    assert not SeatClaim.objects.filter(order=unpaid).exists()
    assert Hold.objects.get(pk=unpaid.hold_id).status == HoldStatus.ORDERED  # not re-expired
    hold(screening, "C1", "C2", session="next")


@pytest.mark.django_db
def test_the_sweep_deletes_in_batches_one_statement_per_batch(screening):
    for row in "ABC":
        expire(hold(screening, f"{row}1", f"{row}2", f"{row}3", session=row))  # 9 dead claims

    with CaptureQueriesContext(connection) as queries:
        result = sweep(batch_size=4)

    deletes = [q["sql"] for q in queries if q["sql"].startswith(f'DELETE FROM "{CLAIMS}"')]
    assert result.claims_deleted == 9
    assert len(deletes) == 3  # batches of 4, 4 and 1: never a statement per claim
    assert SeatClaim.objects.count() == 0


@pytest.mark.django_db
def test_the_beat_task_reports_what_it_swept(screening):
    expire(hold(screening, "A1"))
    assert sweep_expired.apply().get() == {"claims_deleted": 1, "orders_expired": 0}


@pytest.mark.django_db(transaction=True)
def test_a_sweep_running_during_new_holds_never_takes_a_live_holds_seats(screening):
    room = screening.auditorium
    # Rows A-D (40 seats) were held by holds that have all died: 40 dead claims.
    for row in "ABCD":
        expire(hold(screening, *(f"{row}{n}" for n in range(1, 11)), session=f"old-{row}"))
    # Row E is alive: a hold and an unpaid order (both well within their time).
    kept_hold = hold(screening, "E1", "E2", "E3", session="kept")
    kept_order = order(screening, "E8", "E9", session="kept-order")
    dead_seats = [s.pk for s in room.seats.filter(y__lt=4)]

    # Six buyers each take three holds of two seats among the dead ones (36 seats, all
    # disjoint), while one sweeper sweeps in small batches until the buyers are done.
    buyers, per_buyer, size = 6, 3, 2
    done = threading.Event()
    remaining = [buyers]
    lock = threading.Lock()
    sweeps = []

    def buyer(i: int):
        try:
            mine = []
            for k in range(per_buyer):
                start = (i * per_buyer + k) * size
                mine.append(
                    hold_create(
                        screening_id=screening.pk,
                        seat_ids=dead_seats[start : start + size],
                        buyer_key=f"new-{i}",
                    )
                )
            return mine
        finally:
            with lock:
                remaining[0] -= 1
                if not remaining[0]:
                    done.set()

    def sweeper():
        while not done.is_set() and len(sweeps) < 500:
            sweeps.append(sweep(batch_size=2))

    outcomes = run_concurrently([sweeper] + [lambda i=i: buyer(i) for i in range(buyers)])

    assert unexpected(outcomes) == []
    assert sweeps, "the sweeper never ran"
    new_holds = [h for o in outcomes[1:] for h in o.result]
    assert len(new_holds) == buyers * per_buyer
    for h in new_holds:  # every new hold kept every seat it was given
        assert claimed(hold=h, expires_at__gt=timezone.now()) == set(h.seat_ids)
        assert Hold.objects.get(pk=h.pk).status == HoldStatus.ACTIVE
    assert claimed(hold=kept_hold) == set(factories.seats(room, "E1", "E2", "E3"))
    assert claimed(order=kept_order) == set(factories.seats(room, "E8", "E9"))
    assert Order.objects.get(pk=kept_order.pk).status == OrderStatus.PENDING_PAYMENT
    # The sweep deleted dead claims only: at most the 40 there were (the buyers replaced some
    # of them themselves), and at least the 4 nobody held again.
    sweeps.append(sweep())
    assert 4 <= sum(s.claims_deleted for s in sweeps) <= 40
    expected_live = (
        {s for h in new_holds for s in h.seat_ids}
        | claimed(hold=kept_hold)
        | claimed(order=kept_order)
    )
    assert live_seats(screening) == expected_live
    assert SeatClaim.objects.count() == len(expected_live)  # and now only live claims remain


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_delete_each_dead_claim_once(screening):
    for row in "ABCDE":
        expire(hold(screening, *(f"{row}{n}" for n in range(1, 11)), session=row))
    keep = hold(screening, "C5", session="new")  # replaces one dead claim, alive

    outcomes = run_concurrently([lambda: sweep(batch_size=5)] * 2)

    assert unexpected(outcomes) == []
    assert sum(o.result.claims_deleted for o in outcomes) == 49
    assert list(SeatClaim.objects.values_list("hold_id", flat=True)) == [keep.pk]


@pytest.mark.django_db(transaction=True)
def test_a_new_hold_on_a_dead_claim_the_sweep_is_deleting_waits_and_wins(screening):
    expire(hold(screening, "A1", "A2", session="old"))
    seats = factories.seats(screening.auditorium, "A1", "A2")

    outcomes = run_concurrently(
        [lambda: sweep(batch_size=1)]
        + [lambda: hold_create(screening_id=screening.pk, seat_ids=seats, buyer_key="n")] * 3
    )

    assert unexpected(outcomes, errors.SeatUnavailable) == []
    won = [o.result for o in outcomes[1:] if o.ok]
    assert len(won) == 1
    assert claimed(hold=won[0]) == set(seats) == live_seats(screening)


@pytest.mark.django_db(transaction=True)
def test_a_hold_becoming_an_order_as_the_sweep_closes_dead_holds_stays_ordered(
    screening, monkeypatch
):
    """The order moves the claims just before the hold's expiry and commits just after; the
    sweep, in between, waits on the hold's row lock. When it gets the row the hold is an order:
    it must be left alone, not marked expired. (The sweep is given a clock just past the expiry
    instead of waiting for it, so the test does not depend on how fast the machine is.)"""
    from ticketing.inventory.holds import holds_close_dead
    from ticketing.orders import services

    seats = factories.seats(screening.auditorium, "B1", "B2")
    h = hold(screening, "B1", "B2", session="buyer")
    sweep_started = threading.Event()
    real_attach = services.claims.attach_to_order

    def attach_then_pause(*args, **kwargs):
        moved = real_attach(*args, **kwargs)  # the hold is alive: the seats move to the order
        sweep_started.set()
        time.sleep(0.3)  # the sweep is now waiting for this transaction's lock on the hold
        return moved

    monkeypatch.setattr(services.claims, "attach_to_order", attach_then_pause)

    def buyer():
        return order_create(
            hold_id=h.pk,
            customer_email="b@example.com",
            customer_name="B",
            tickets=[(s, "adult") for s in seats],
            buyer_key="buyer",
            actor="test",
        )

    def sweeper():
        sweep_started.wait(10)
        # The sweep's clock reads just after the hold's expiry.
        return holds_close_dead(now=h.expires_at + timedelta(milliseconds=1))

    ordered, swept = run_concurrently([buyer, sweeper])

    assert ordered.ok, ordered.error
    assert swept.result == 0
    assert Hold.objects.get(pk=h.pk).status == HoldStatus.ORDERED
    assert claimed(order=ordered.result) == set(seats)
