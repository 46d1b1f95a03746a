"""Cancelling a screening (issue 9, hole 6): sales stop at once, open holds and unpaid orders
are given back, and (issue 11) its paid orders are listed for the cancellation's refunds.
Before, setting the status in the admin left paid orders paid, QR codes valid, nobody told."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import transaction

from tests import factories
from tests.concurrency import run_concurrently
from ticketing import errors
from ticketing.flows.models import CancellationItem
from ticketing.flows.screenings import screening_cancel
from ticketing.inventory.models import Hold, HoldStatus, SeatClaim
from ticketing.orders.models import Order, OrderStatus
from ticketing.orders.services import order_mark_paid
from ticketing.screenings.models import Screening, ScreeningStatus


def status_of(screening) -> str:
    return Screening.objects.get(pk=screening.pk).status


@pytest.mark.django_db
def test_cancelling_releases_open_holds_and_cancels_unpaid_orders(screening):
    hold = factories.held(screening, "A1", "A2", buyer_key="looker")
    order = factories.pending_order(screening, "B1", buyer_key="payer")

    result = screening_cancel(screening_id=screening.pk, actor="user:1", reason="projector")

    assert (result.holds_released, result.orders_cancelled) == (1, 1)
    assert status_of(screening) == ScreeningStatus.CANCELLED
    assert Hold.objects.get(pk=hold.pk).status == HoldStatus.RELEASED
    assert Order.objects.get(pk=order.pk).status == OrderStatus.CANCELLED
    assert SeatClaim.objects.count() == 0
    with pytest.raises(errors.ScreeningNotOnSale):
        factories.held(screening, "C1", buyer_key="late")


@pytest.mark.django_db
def test_a_screening_with_a_paid_order_is_cancelled_and_the_order_listed_for_its_refund(screening):
    """Issue 11: the paid order is refunded by the cancellation's run (tests/flows/test_mass_cancel.py)."""
    order = factories.pending_order(screening, "A1")
    order_mark_paid(order_id=order.pk, actor="provider:sandbox")

    result = screening_cancel(screening_id=screening.pk, actor="user:1")

    assert result.paid_orders == 1
    assert status_of(screening) == ScreeningStatus.CANCELLED
    assert CancellationItem.objects.get(run_id=result.run_id).order_id == order.pk


@pytest.mark.django_db
def test_cancelling_twice_is_harmless(screening):
    screening_cancel(screening_id=screening.pk, actor="user:1")
    assert screening_cancel(screening_id=screening.pk, actor="user:1").already


def _paused(work, started: threading.Event, pause: float = 0.4):
    def run():
        with transaction.atomic():
            result = work()
            started.set()
            time.sleep(pause)  # committed only after the other side has tried
            return result

    return run


@pytest.mark.django_db(transaction=True)
def test_a_payment_committing_while_staff_cancel_is_seen_and_its_order_refunded(screening):
    order = factories.pending_order(screening, "A1")
    paying = threading.Event()

    def staff():
        paying.wait(10)
        return screening_cancel(screening_id=screening.pk, actor="user:1")

    paid, cancelled = run_concurrently(
        [_paused(lambda: order_mark_paid(order_id=order.pk, actor="provider:x"), paying), staff]
    )

    assert paid.ok, paid.error
    assert cancelled.ok, cancelled.error
    assert status_of(screening) == ScreeningStatus.CANCELLED
    # The payment went first: its order is one the cancellation refunds.
    assert CancellationItem.objects.get(run_id=cancelled.result.run_id).order_id == order.pk


@pytest.mark.django_db(transaction=True)
def test_a_payment_arriving_while_staff_cancel_sees_the_cancellation(screening):
    order = factories.pending_order(screening, "A1")
    cancelling = threading.Event()

    def payment():
        cancelling.wait(10)
        return order_mark_paid(order_id=order.pk, actor="provider:x")

    cancelled, paid = run_concurrently(
        [
            _paused(lambda: screening_cancel(screening_id=screening.pk, actor="u"), cancelling),
            payment,
        ]
    )

    assert cancelled.ok, cancelled.error
    assert isinstance(paid.error, errors.SeatsLost | errors.OrderStateConflict)
    assert Order.objects.get(pk=order.pk).status == OrderStatus.CANCELLED
    assert status_of(screening) == ScreeningStatus.CANCELLED
