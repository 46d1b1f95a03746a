"""Cancelling a screening with paid orders (issue 11): sales stop at once, then every paid order
is refunded once through its provider in batches, every buyer emailed once in their language,
partners told; a refund the provider refuses or cannot answer is listed and retried, never
dropped. Tasks run in-process here (the real worker is in tests/worker/test_mass_cancel.py)."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone

from payments.models import Payment, PaymentStatus, Refund, RefundStatus
from payments.providers import sandbox
from payments.providers.base import RefundFailed
from tests import factories
from tests.flows.mass_cancel_support import big_screening, paid_orders
from ticketing import errors
from ticketing.audit.models import AuditEntry
from ticketing.flows import mass_refunds
from ticketing.flows.models import CancellationItem, CancellationRun, ItemStatus
from ticketing.flows.screenings import screening_cancel
from ticketing.flows.tasks import cancellation_refunds
from ticketing.inventory.models import Hold, HoldStatus
from ticketing.orders.models import Order, OrderStatus, PaidVia
from ticketing.outbox.models import OutboxMessage
from ticketing.outbox.topics import REFUNDED_TOPIC, SCREENING_CANCELLED_TOPIC
from ticketing.screenings.models import Screening, ScreeningStatus
from ticketing.webhooks import events
from ticketing.webhooks.models import WebhookDelivery
from ticketing.webhooks.services import endpoint_create

pytestmark = pytest.mark.django_db

real_refund = sandbox.SandboxProvider.refund


@pytest.fixture
def cancel(django_capture_on_commit_callbacks, settings):
    """Cancel as a manager would, the task and the outbox run after commit (in-process)."""
    settings.MARQUEE_CANCEL_BATCH_SIZE = 7

    def run(screening, reason="projector broken"):
        with django_capture_on_commit_callbacks(execute=True):
            return screening_cancel(
                screening_id=screening.pk, actor="user:1", actor_name="manon", reason=reason
            )

    return run


def refunds_per_order(orders) -> Counter:
    return Counter(
        str(pk)
        for pk in Refund.objects.filter(payment__order__in=orders).values_list(
            "payment__order_id", flat=True
        )
    )


def emails_to(mailoutbox) -> Counter:
    return Counter(address for message in mailoutbox for address in message.to)


def test_a_screening_with_paid_orders_is_cancelled_and_every_order_refunded_once(
    cinema, cancel, mailoutbox
):
    screening = big_screening(cinema, seats=40)
    orders = paid_orders(screening, 20)
    hold = factories.held(screening, "B1", buyer_key="looker")
    pending = factories.pending_order(screening, "B2", buyer_key="payer")

    result = cancel(screening)

    assert Screening.objects.get(pk=screening.pk).status == ScreeningStatus.CANCELLED
    assert (result.paid_orders, result.holds_released, result.orders_cancelled) == (20, 1, 1)
    assert Hold.objects.get(pk=hold.pk).status == HoldStatus.RELEASED
    assert Order.objects.get(pk=pending.pk).status == OrderStatus.CANCELLED
    assert set(
        Order.objects.filter(pk__in=[o.pk for o in orders]).values_list("status", flat=True)
    ) == {OrderStatus.REFUNDED}
    per_order = refunds_per_order(orders)
    assert len(per_order) == 20 and set(per_order.values()) == {1}
    assert set(Refund.objects.values_list("amount", flat=True)) == {orders[0].total}  # fee too
    assert Payment.objects.filter(status=PaymentStatus.REFUNDED).count() == 20
    # Each buyer told once, in their language, by the cancellation email (not the plain refund one).
    assert set(emails_to(mailoutbox).values()) == {1} and len(emails_to(mailoutbox)) == 20
    subjects = {m.to[0]: m.subject for m in mailoutbox}
    by_language = {o.language: subjects[o.customer_email] for o in orders}
    assert by_language["en"].startswith("Screening cancelled:")
    assert by_language["fr"].startswith("Séance annulée")
    assert by_language["zh-hans"].startswith("场次已取消")
    assert not OutboxMessage.objects.filter(topic=REFUNDED_TOPIC).exists()
    progress = mass_refunds.run_progress(run_id=result.run_id)
    assert (progress.refunded, progress.failed, progress.left, progress.finished) == (
        20,
        0,
        0,
        True,
    )
    entry = AuditEntry.objects.get(action="screening.cancelled")
    assert entry.actor_name == "manon" and "projector broken" in entry.summary
    assert entry.cinema_id == cinema.pk


def test_new_holds_are_refused_right_after_the_cancel(cinema, cancel):
    screening = big_screening(cinema, seats=20)
    paid_orders(screening, 3)

    cancel(screening)

    with pytest.raises(errors.ScreeningNotOnSale):
        factories.held(screening, "A10", buyer_key="late")


def test_running_the_task_again_or_cancelling_twice_refunds_and_emails_no_one_twice(
    cinema, cancel, mailoutbox
):
    screening = big_screening(cinema, seats=20)
    orders = paid_orders(screening, 10)
    result = cancel(screening)

    again = cancel(screening)
    cancellation_refunds(result.run_id)
    cancellation_refunds(result.run_id)

    assert again.already and again.run_id == result.run_id
    assert CancellationRun.objects.count() == 1 and CancellationItem.objects.count() == 10
    assert set(refunds_per_order(orders).values()) == {1}
    assert len(mailoutbox) == 10
    assert OutboxMessage.objects.filter(topic=SCREENING_CANCELLED_TOPIC).count() == 10


def test_a_run_stopped_halfway_resumes_where_it_stopped(
    cinema, settings, django_capture_on_commit_callbacks
):
    """The worker died after two batches: the rest is pending, the done ones are not redone."""
    settings.MARQUEE_CANCEL_BATCH_SIZE = 5
    screening = big_screening(cinema, seats=20)
    orders = paid_orders(screening, 17)
    result = screening_cancel(screening_id=screening.pk, actor="user:1")  # no task ran yet
    mass_refunds.batch_process(run_id=result.run_id)
    mass_refunds.batch_process(run_id=result.run_id)
    assert mass_refunds.run_progress(run_id=result.run_id).left == 7

    with django_capture_on_commit_callbacks(execute=True):
        cancellation_refunds(result.run_id)

    assert mass_refunds.run_progress(run_id=result.run_id).left == 0
    assert set(refunds_per_order(orders).values()) == {1} and len(refunds_per_order(orders)) == 17


def test_a_provider_outage_for_some_orders_finishes_the_rest_and_lists_the_failed(
    cinema, cancel, mailoutbox, monkeypatch
):
    screening = big_screening(cinema, seats=20)
    orders = paid_orders(screening, 12)
    refused = {orders[2].pk, orders[5].pk}  # the provider says no (a closed card)
    unreachable = {orders[8].pk}  # the provider does not answer

    def refund(self, payment, amount, *, idempotency_key):
        if payment.order_id in refused:
            raise RefundFailed("sbx_re_refused", "failed", "expired_or_canceled_card")
        if payment.order_id in unreachable:
            raise ConnectionError("sandbox down")
        return real_refund(self, payment, amount, idempotency_key=idempotency_key)

    monkeypatch.setattr(sandbox.SandboxProvider, "refund", refund)

    result = cancel(screening)

    progress = mass_refunds.run_progress(run_id=result.run_id)
    assert (progress.refunded, progress.failed, progress.left) == (9, 3, 0)
    failed = {i.order_id: i for i in mass_refunds.items_failed(run_id=result.run_id)}
    assert set(failed) == refused | unreachable
    assert "expired_or_canceled_card" in failed[orders[2].pk].failure_reason
    assert "sandbox down" in failed[orders[8].pk].failure_reason
    # A refusal is kept (the buyer is owed, the tickets void); an unanswered call changed nothing.
    assert failed[orders[2].pk].refund.status == RefundStatus.FAILED
    assert Order.objects.get(pk=orders[2].pk).status == OrderStatus.REFUNDED
    assert Order.objects.get(pk=orders[8].pk).status == OrderStatus.PAID
    assert not Refund.objects.filter(payment__order_id=orders[8].pk).exists()
    told = emails_to(mailoutbox)
    assert len(told) == 9 and orders[2].customer_email not in told  # told when paid back

    # The provider is back: staff retry one, then all the others.
    monkeypatch.setattr(sandbox.SandboxProvider, "refund", real_refund)
    staff = staff_member()
    assert (
        mass_refunds.item_retry(item_id=failed[orders[2].pk].pk, run_id=result.run_id, user=staff)
        == ItemStatus.REFUNDED
    )
    retried = mass_refunds.items_retry_failed(run_id=result.run_id, user=staff)
    cancellation_refunds(result.run_id)

    assert retried == 2
    progress = mass_refunds.run_progress(run_id=result.run_id)
    assert (progress.refunded, progress.failed, progress.left, progress.finished) == (
        12,
        0,
        0,
        True,
    )
    assert set(Order.objects.filter(screening=screening).values_list("status", flat=True)) == {
        OrderStatus.REFUNDED
    }
    ok = Refund.objects.exclude(status=RefundStatus.FAILED)
    assert Counter(ok.values_list("payment__order_id", flat=True)) == Counter(
        {o.pk: 1 for o in orders}
    )
    with pytest.raises(errors.RefundNotAllowed):
        mass_refunds.item_retry(item_id=failed[orders[2].pk].pk, run_id=result.run_id, user=staff)


def staff_member():
    from django.contrib.auth.models import User

    return User.objects.create_user("retrier", is_staff=True)


def test_checked_in_tickets_are_refunded_too_since_the_film_did_not_happen(cinema, cancel):
    screening = big_screening(cinema, seats=20)
    [order] = paid_orders(screening, 1)
    order.tickets.update(checked_in_at=timezone.now())

    cancel(screening)

    assert Order.objects.get(pk=order.pk).status == OrderStatus.REFUNDED
    assert Refund.objects.get(payment__order=order).amount == order.total


def test_partner_sold_orders_are_cancelled_and_the_partner_told(
    cinema, cancel, mailoutbox, partner_key, settings
):
    partner, _ = partner_key
    settings.MARQUEE_WEBHOOKS = {  # a local endpoint (nothing listens: the delivery is the log)
        **settings.MARQUEE_WEBHOOKS,
        "ALLOW_HTTP": True,
        "ALLOW_PRIVATE_ADDRESSES": True,
        "TIMEOUT_SECONDS": 1,
    }
    endpoint_create(
        partner=partner,
        url="http://127.0.0.1:9/hook",
        event_types=[events.ORDER_CANCELLED, events.ORDER_REFUNDED, events.SCREENING_CANCELLED],
    )
    screening = big_screening(cinema, seats=20, starts_in=timedelta(hours=-1))  # doors opened
    settled = paid_orders(screening, 2, paid_via=PaidVia.PARTNER, partner=partner)
    ours = paid_orders(screening, 1, partner=partner, offset=2)  # booked by it, paid to us

    cancel(screening)

    assert {o.status for o in Order.objects.filter(pk__in=[o.pk for o in settled])} == {
        OrderStatus.CANCELLED
    }
    assert not Refund.objects.filter(payment__order__in=settled).exists()
    assert Order.objects.get(pk=ours[0].pk).status == OrderStatus.REFUNDED
    told = Counter(WebhookDelivery.objects.values_list("event_type", flat=True))
    assert told == {
        events.ORDER_CANCELLED: 2,
        events.ORDER_REFUNDED: 1,
        events.SCREENING_CANCELLED: 1,
    }
    assert [m.to for m in mailoutbox] == [[ours[0].customer_email]]  # the partner tells its own
    items = CancellationItem.objects.values_list("status", flat=True)
    assert Counter(items) == {ItemStatus.CANCELLED: 2, ItemStatus.REFUNDED: 1}


def test_an_order_refunded_meanwhile_is_not_refunded_again(cinema, settings):
    from payments.refunds import refund_create

    screening = big_screening(cinema, seats=20)
    orders = paid_orders(screening, 3)
    result = screening_cancel(screening_id=screening.pk, actor="user:1")
    refund_create(order_id=orders[0].pk, actor="user:2", reason="asked at the desk")

    mass_refunds.batch_process(run_id=result.run_id)

    assert Counter(CancellationItem.objects.values_list("status", flat=True)) == {
        ItemStatus.REFUNDED: 2,
        ItemStatus.ALREADY: 1,
    }
    assert Refund.objects.filter(payment__order=orders[0]).count() == 1


def test_beat_resumes_a_run_left_with_orders_and_no_progress(
    cinema, django_capture_on_commit_callbacks
):
    """A worker killed mid-run and nobody cancelling again: beat's resume queues it."""
    from ticketing.flows.tasks import cancellation_refunds_resume

    screening = big_screening(cinema, seats=20)
    orders = paid_orders(screening, 5)
    result = screening_cancel(screening_id=screening.pk, actor="user:1")  # no task ran
    assert mass_refunds.runs_stalled() == []  # just started: not stalled yet
    later = timezone.now() + mass_refunds.STALLED_AFTER + timedelta(seconds=1)
    assert mass_refunds.runs_stalled(now=later) == [result.run_id]

    CancellationRun.objects.filter(pk=result.run_id).update(
        started_at=timezone.now() - timedelta(minutes=10)
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert cancellation_refunds_resume() == 1  # queued, run in-process here

    assert set(refunds_per_order(orders).values()) == {1}
    assert mass_refunds.runs_stalled(now=later) == []
