"""The sweep and the confirmation email run in a real Celery worker over the real Redis broker,
and a confirmation queued while the broker is down is sent once when it is back."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests import factories
from ticketing.celery import app
from ticketing.flows.tasks import sweep_expired
from ticketing.inventory import holds
from ticketing.inventory.models import Hold, SeatClaim
from ticketing.orders.models import Order, OrderStatus
from ticketing.orders.services import order_create, order_mark_paid
from ticketing.outbox.models import MessageStatus, OutboxMessage
from ticketing.outbox.services import relay_pending

from .conftest import _reset_broker_pools, sent_messages, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.xdist_group("celery-worker")]


def _pending_order(screening, partner, labels=("B3", "B4")):
    seat_ids = factories.seats(screening.auditorium, *labels)
    hold = holds.hold_create(screening_id=screening.pk, seat_ids=seat_ids, partner=partner)
    return order_create(
        hold_id=hold.pk,
        customer_email="grace@example.com",
        customer_name="Grace",
        tickets=[(s, "adult") for s in seat_ids],
        partner=partner,
        actor="test",
    )


def test_the_worker_sends_the_confirmation_email_once(live_worker, mailbox, screening, partner_key):
    partner, _ = partner_key
    order = _pending_order(screening, partner)

    order_mark_paid(order_id=order.pk, actor="test")
    order_mark_paid(order_id=order.pk, actor="test")  # a repeated payment event changes nothing

    messages = wait_for(lambda: sent_messages(mailbox))
    assert len(messages) == 1
    assert order.code in messages[0] and "grace@example.com" in messages[0]
    assert wait_for(lambda: OutboxMessage.objects.filter(status=MessageStatus.SENT).count() == 1)
    # Queueing the same message again (as the relay might) does not send it twice.
    message = OutboxMessage.objects.get()
    from ticketing.outbox.tasks import deliver_message

    deliver_message.delay(message.pk)
    relay_pending(older_than=timedelta(0))
    app.control.ping(timeout=1)
    wait_for(lambda: False, timeout=1.5)
    assert len(list(mailbox.glob("*.log"))) == 1  # no second file, finished or not


def test_the_worker_sweeps_dead_holds_and_unpaid_orders(live_worker, screening, partner_key):
    partner, _ = partner_key
    order = _pending_order(screening, partner)
    loose = holds.hold_create(
        screening_id=screening.pk,
        seat_ids=factories.seats(screening.auditorium, "E1"),
        partner=partner,
    )
    past = timezone.now() - timedelta(seconds=1)
    Order.objects.filter(pk=order.pk).update(expires_at=past)
    SeatClaim.objects.update(expires_at=past)
    Hold.objects.filter(pk=loose.pk).update(expires_at=past)

    sweep_expired.delay()

    assert wait_for(lambda: not SeatClaim.objects.exists())
    order.refresh_from_db()
    assert order.status == OrderStatus.EXPIRED
    assert order.history.filter(to_status="expired", actor="system:sweep").exists()
    loose.refresh_from_db()
    assert loose.status == "expired"


def test_a_confirmation_queued_while_the_broker_is_down_goes_out_once_it_is_back(
    transactional_db, mailbox, screening, partner_key, request
):
    partner, _ = partner_key
    order = _pending_order(screening, partner)
    real_broker = app.conf.broker_url
    app.conf.task_always_eager = False
    app.conf.broker_url = "redis://127.0.0.1:6399/0"  # nothing listens there
    _reset_broker_pools()
    try:
        started = timezone.now()
        order_mark_paid(order_id=order.pk, actor="test")  # the sale does not wait for the broker
        assert (timezone.now() - started).total_seconds() < 5
    finally:
        app.conf.broker_url = real_broker
        _reset_broker_pools()

    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    message = OutboxMessage.objects.get()
    assert message.status == MessageStatus.PENDING
    assert sent_messages(mailbox) == []

    # The broker is back: a worker starts and beat's relay re-queues what waited.
    request.getfixturevalue("live_worker")
    assert relay_pending(older_than=timedelta(0)) == 1
    assert wait_for(lambda: len(sent_messages(mailbox)) == 1)
    assert wait_for(lambda: OutboxMessage.objects.get().status == MessageStatus.SENT)
    assert relay_pending(older_than=timedelta(0)) == 0
    wait_for(lambda: False, timeout=1)
    assert len(list(mailbox.glob("*.log"))) == 1
