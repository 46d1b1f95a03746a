"""Nothing is sold once a screening is cancelled or its sales have closed."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests import factories
from ticketing import errors
from ticketing.inventory.models import SeatClaim
from ticketing.orders.models import Order, OrderStatus
from ticketing.orders.services import order_create, order_mark_paid
from ticketing.screenings.models import Screening

pytestmark = pytest.mark.django_db


def test_an_order_cannot_be_made_from_a_hold_once_its_screening_is_cancelled(screening):
    hold = factories.held(screening, "A1")
    Screening.objects.filter(pk=screening.pk).update(status="cancelled")

    with pytest.raises(errors.ScreeningNotOnSale):
        order_create(
            hold_id=hold.pk,
            customer_email="a@example.com",
            customer_name="A",
            tickets=[(factories.seats(screening.auditorium, "A1")[0], "adult")],
            buyer_key="factory-session",
            actor="test",
        )
    assert not Order.objects.exists()


def test_a_payment_after_the_screening_was_cancelled_is_refused_and_sells_nothing(screening):
    order = factories.pending_order(screening, "A1", "A2")
    Screening.objects.filter(pk=screening.pk).update(status="cancelled")

    with pytest.raises(errors.SeatsLost):
        order_mark_paid(order_id=order.pk, actor="test")

    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING_PAYMENT
    assert not SeatClaim.objects.filter(expires_at__isnull=True).exists()


def test_a_hold_never_outlives_the_end_of_sales(auditorium):
    soon = factories.screening(auditorium, starts_in=timedelta(minutes=3))
    hold = factories.held(soon, "A1")
    assert hold.expires_at <= soon.starts_at

    order = order_create(
        hold_id=hold.pk,
        customer_email="a@example.com",
        customer_name="A",
        tickets=[(factories.seats(auditorium, "A1")[0], "adult")],
        buyer_key="factory-session",
        actor="test",
    )
    assert order.expires_at <= soon.starts_at


def test_an_unpaid_order_past_its_time_reads_as_expired_before_any_sweep(screening):
    order = factories.pending_order(screening, "B1")
    Order.objects.filter(pk=order.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING_PAYMENT  # the row, until the sweep
    assert order.effective_status == OrderStatus.EXPIRED  # what every reader is told
