"""Refunds: whole orders and single tickets through the payment's provider, never more than was
paid, never a ticket twice; seats back on sale at once; buyer cancellations per cinema policy."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.admin.sites import site

from payments.models import PaymentStatus, Refund, RefundStatus
from payments.refunds import refund_create
from tests import factories
from tests.api.support import assert_error, hold, order, seat_statuses
from ticketing import errors
from ticketing.inventory.holds import hold_create
from ticketing.inventory.models import SeatClaim
from ticketing.orders import services as orders_services
from ticketing.orders.models import Order, OrderStatus, Ticket
from ticketing.outbox.models import OutboxMessage
from ticketing.screenings.models import Cinema

from . import flow

pytestmark = pytest.mark.django_db


def _tickets(payment):
    return list(Ticket.objects.filter(order_id=payment.order_id).order_by("seat_label"))


def test_a_whole_order_refund_gives_everything_back_and_frees_the_seats(screening):
    payment = flow.paid(screening, "A1", "A2")
    order_ = Order.objects.get(pk=payment.order_id)
    assert order_.booking_fee > 0

    refund = refund_create(order_id=order_.pk, actor="user:1", reason="screen broken")
    assert (refund.amount, refund.currency, refund.status) == (
        order_.total,
        "EUR",
        RefundStatus.SUCCEEDED,
    )
    assert refund.provider_ref.startswith("sbx_re_")
    assert set(refund.tickets.values_list("pk", flat=True)) == {t.pk for t in _tickets(payment)}
    order_.refresh_from_db()
    assert order_.status == OrderStatus.REFUNDED
    assert order_.history.last().actor == "user:1"
    assert all(t.refunded_at for t in _tickets(payment))
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.REFUNDED
    assert not SeatClaim.objects.filter(order_id=order_.pk).exists()
    message = OutboxMessage.objects.get(topic="order.refunded")
    assert message.payload["amount"] == order_.total and message.payload["ticket_ids"] is None

    # Back on sale at once: somebody else can hold them now.
    again = hold_create(
        screening_id=screening.pk,
        seat_ids=factories.seats(screening.auditorium, "A1", "A2"),
        buyer_key="next-buyer",
    )
    assert sorted(again.seat_ids) == sorted(factories.seats(screening.auditorium, "A1", "A2"))


def test_a_single_ticket_refund_gives_its_price_back_and_its_seat_only(screening):
    payment = flow.paid(screening, "A1", "A2")
    first, second = _tickets(payment)
    refund = refund_create(order_id=payment.order_id, ticket_ids=[first.pk], actor="u", reason="x")
    assert refund.amount == first.price + first.surcharge
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PARTIALLY_REFUNDED
    assert Order.objects.get(pk=payment.order_id).status == OrderStatus.PAID
    claimed = set(
        SeatClaim.objects.filter(order_id=payment.order_id).values_list("seat_id", flat=True)
    )
    assert claimed == {second.seat_id}
    assert OutboxMessage.objects.get(topic="order.refunded").payload["ticket_ids"] == [first.pk]

    # The rest of the order: what is left, booking fee included; the order is then refunded.
    rest = refund_create(order_id=payment.order_id, actor="u", reason="x")
    assert rest.amount == payment.amount - refund.amount
    assert Order.objects.get(pk=payment.order_id).status == OrderStatus.REFUNDED
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.REFUNDED


def test_the_seat_map_shows_a_refunded_seat_available_at_once(
    api, screening, django_capture_on_commit_callbacks
):
    seat_ids = factories.seats(screening.auditorium, "B1", "B2")
    held = hold(api, screening, *seat_ids).json()
    created = order(api, held["id"], [(s, "adult") for s in seat_ids]).json()
    started = api.post(f"/api/v1/orders/{created['id']}/payments/", {}, format="json").json()
    from payments.models import Payment

    flow.receive(flow.event(Payment.objects.get(pk=started["id"])))
    assert seat_statuses(api, screening)[seat_ids[0]] == "sold"
    ticket = Ticket.objects.get(order_id=created["id"], seat_id=seat_ids[0])
    with django_capture_on_commit_callbacks(execute=True):  # the cached map is dropped on commit
        refund_create(order_id=created["id"], ticket_ids=[ticket.pk], actor="u", reason="x")
    statuses = seat_statuses(api, screening)
    assert statuses[seat_ids[0]] == "available"
    assert statuses[seat_ids[1]] == "sold"


def test_a_ticket_cannot_be_refunded_twice(screening):
    payment = flow.paid(screening, "A1", "A2")
    first, _ = _tickets(payment)
    refund_create(order_id=payment.order_id, ticket_ids=[first.pk], actor="u", reason="x")
    with pytest.raises(errors.TicketAlreadyRefunded) as caught:
        refund_create(order_id=payment.order_id, ticket_ids=[first.pk], actor="u", reason="x")
    assert caught.value.details["tickets"] == [first.pk]
    assert Refund.objects.count() == 1


def test_a_refunded_order_cannot_be_refunded_again(screening):
    payment = flow.paid(screening, "A1")
    refund_create(order_id=payment.order_id, actor="u", reason="x")
    with pytest.raises(errors.RefundNotAllowed):
        refund_create(order_id=payment.order_id, actor="u", reason="x")
    assert Refund.objects.count() == 1


def test_a_refund_larger_than_what_is_left_is_refused(screening):
    payment = flow.paid(screening, "A1", "A2")
    first, second = _tickets(payment)
    with pytest.raises(errors.RefundTooLarge) as caught:
        refund_create(
            order_id=payment.order_id, ticket_ids=[first.pk], amount=payment.amount + 1,
            actor="u", reason="x",
        )  # fmt: skip
    assert caught.value.details["refundable"] == payment.amount
    refund_create(
        order_id=payment.order_id, ticket_ids=[first.pk], amount=payment.amount - 100,
        actor="u", reason="goodwill",
    )  # fmt: skip
    # The last ticket gives back only what is left of the payment, never more.
    last = refund_create(order_id=payment.order_id, ticket_ids=[second.pk], actor="u", reason="x")
    assert last.amount <= 100
    assert sum(r.amount for r in Refund.objects.all()) <= payment.amount
    assert Ticket.objects.get(pk=second.pk).refunded_at is not None


def test_tickets_of_another_order_are_refused(screening):
    payment = flow.paid(screening, "A1")
    other = flow.paid(screening, "A2")
    with pytest.raises(errors.InvalidRequest):
        refund_create(
            order_id=payment.order_id, ticket_ids=[_tickets(other)[0].pk], actor="u", reason="x"
        )


def test_an_unpaid_order_has_nothing_to_refund(screening):
    pending = factories.pending_order(screening, "A1")
    with pytest.raises(errors.RefundNotAllowed):
        refund_create(order_id=pending.pk, actor="u", reason="x")


# ---- buyer cancellation ----------------------------------------------------------------------
def _cinema(auditorium, **fields):
    Cinema.objects.filter(pk=auditorium.cinema_id).update(**fields)


def _paid_via_api(api, screening, *labels):
    from payments.models import Payment

    seat_ids = factories.seats(screening.auditorium, *labels)
    held = hold(api, screening, *seat_ids).json()
    created = order(api, held["id"], [(s, "adult") for s in seat_ids]).json()
    started = api.post(f"/api/v1/orders/{created['id']}/payments/", {}, format="json").json()
    flow.receive(flow.event(Payment.objects.get(pk=started["id"])))
    return Order.objects.get(pk=created["id"])


def test_a_buyer_cancelling_before_the_cutoff_is_refunded_without_the_booking_fee(api, screening):
    paid = _paid_via_api(api, screening, "A1", "A2")
    response = api.post(f"/api/v1/orders/{paid.pk}/cancel/", {"reason": "ill"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "refunded"
    refund = Refund.objects.get(payment__order=paid)
    assert refund.amount == paid.total - paid.booking_fee
    assert refund.reason == "ill"
    assert not SeatClaim.objects.filter(order_id=paid.pk).exists()


def test_a_cinema_that_refunds_the_booking_fee_gives_it_back(api, screening):
    _cinema(screening.auditorium, refund_booking_fee=True)
    paid = _paid_via_api(api, screening, "A1", "A2")
    assert api.post(f"/api/v1/orders/{paid.pk}/cancel/", {}, format="json").status_code == 200
    assert Refund.objects.get(payment__order=paid).amount == paid.total


def test_a_buyer_cannot_cancel_after_the_cutoff(api, auditorium):
    screening = factories.screening(auditorium, starts_in=timedelta(minutes=90))
    paid = _paid_via_api(api, screening, "A1")  # default cutoff: 120 minutes before
    details = assert_error(
        api.post(f"/api/v1/orders/{paid.pk}/cancel/", {}, format="json"), 409, "cancellation_closed"
    )
    assert details["cutoff_minutes"] == 120
    assert Order.objects.get(pk=paid.pk).status == OrderStatus.PAID
    assert not Refund.objects.exists()
    assert SeatClaim.objects.filter(order_id=paid.pk, expires_at__isnull=True).count() == 1


def test_the_cutoff_is_per_cinema(api, auditorium):
    _cinema(auditorium, cancellation_cutoff_minutes=30)
    screening = factories.screening(auditorium, starts_in=timedelta(minutes=90))
    paid = _paid_via_api(api, screening, "A1")
    assert api.post(f"/api/v1/orders/{paid.pk}/cancel/", {}, format="json").status_code == 200
    assert Order.objects.get(pk=paid.pk).status == OrderStatus.REFUNDED


def test_a_pending_order_is_still_simply_cancelled(api, screening):
    seat_ids = factories.seats(screening.auditorium, "A1")
    held = hold(api, screening, *seat_ids).json()
    created = order(api, held["id"], [(seat_ids[0], "adult")]).json()
    response = api.post(f"/api/v1/orders/{created['id']}/cancel/", {}, format="json")
    assert response.json()["status"] == "cancelled"
    assert not Refund.objects.exists()


# ---- staff -----------------------------------------------------------------------------------
def test_staff_refund_selected_orders_from_the_admin(admin_client, screening):
    paid = flow.paid(screening, "A1", "A2")
    pending = factories.pending_order(screening, "B1")
    response = admin_client.post(
        "/admin/orders/order/",
        {"action": "refund_orders", "_selected_action": [str(paid.order_id), str(pending.pk)]},
        follow=True,
    )
    assert response.status_code == 200
    text = response.content.decode()
    assert "Refunded 1 order(s)" in text
    assert "Not refunded:" in text
    assert Order.objects.get(pk=paid.order_id).status == OrderStatus.REFUNDED
    assert Refund.objects.get().actor.startswith("user:")
    assert site.is_registered(Refund)


def test_a_refund_waits_for_the_provider_when_it_answers_pending(screening, monkeypatch):
    from payments.providers import sandbox
    from payments.providers.base import Refunded

    payment = flow.paid(screening, "A1")
    monkeypatch.setattr(
        sandbox.SandboxProvider,
        "refund",
        lambda self, payment, amount, *, idempotency_key: Refunded("sbx_re_pending", False),
    )
    refund = refund_create(order_id=payment.order_id, actor="u", reason="x")
    assert refund.status == RefundStatus.PENDING
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.REFUNDED  # on its way: nothing more can be refunded
    assert Order.objects.get(pk=payment.order_id).status == OrderStatus.REFUNDED


@pytest.mark.django_db(transaction=True)
def test_staff_refunding_one_order_at_the_same_moment_refund_it_once(screening):
    from tests.concurrency import run_concurrently, unexpected

    payment = flow.paid(screening, "A1", "A2")
    outcomes = run_concurrently(
        [lambda: refund_create(order_id=payment.order_id, actor="u", reason="x")] * 4
    )
    assert unexpected(outcomes, errors.RefundNotAllowed) == []
    assert len([o for o in outcomes if o.ok]) == 1
    assert Refund.objects.count() == 1
    assert OutboxMessage.objects.filter(topic="order.refunded").count() == 1
    assert Order.objects.get(pk=payment.order_id).status == OrderStatus.REFUNDED


def test_staff_refund_a_single_ticket_from_the_admin_and_its_seat_is_back_on_sale(
    admin_client, screening
):
    payment = flow.paid(screening, "A1", "A2")
    one = Ticket.objects.get(order_id=payment.order_id, seat_label="A1")

    response = admin_client.post(
        "/admin/orders/ticket/",
        {"action": "refund_tickets", "_selected_action": [str(one.pk)]},
        follow=True,
    )

    assert response.status_code == 200
    assert "1 ticket(s) refunded" in response.content.decode()
    one.refresh_from_db()
    assert one.refunded_at is not None
    assert Ticket.objects.get(order_id=payment.order_id, seat_label="A2").refunded_at is None
    assert Order.objects.get(pk=payment.order_id).status == OrderStatus.PAID
    assert not SeatClaim.objects.filter(seat_id=one.seat_id).exists()
    assert Refund.objects.get().amount == one.price + one.surcharge


def test_a_ticket_refund_takes_off_its_share_of_the_orders_discount(screening):
    payment = flow.paid(screening, "A1", "A2")
    order = Order.objects.get(pk=payment.order_id)
    first, _second = _tickets(payment)
    # A discount of half the tickets' value (as a promo code would give), paid accordingly.
    Order.objects.filter(pk=order.pk).update(
        discount=order.subtotal // 2, total=order.total - order.subtotal // 2
    )
    type(payment).objects.filter(pk=payment.pk).update(amount=order.total - order.subtotal // 2)

    refund = refund_create(order_id=order.pk, ticket_ids=[first.pk], actor="u", reason="x")

    assert refund.amount == (first.price + first.surcharge) - (first.price + first.surcharge) // 2


def test_the_orders_service_will_not_cancel_an_order_paid_through_a_provider(screening):
    """A cancel that raced the payment's webhook must refund, never keep the money."""
    payment = flow.paid(screening, "A1")
    with pytest.raises(errors.OrderStateConflict):
        orders_services.order_cancel(order_id=payment.order_id, actor="u", reason="x")
    assert Order.objects.get(pk=payment.order_id).status == OrderStatus.PAID


def test_a_buyer_cancel_decides_under_the_lock_and_refunds_a_paid_order(screening):
    from ticketing.flows.cancellation import order_cancel_or_refund

    payment = flow.paid(screening, "A1")
    order = order_cancel_or_refund(order_id=payment.order_id, actor="buyer", reason="x")
    assert order.status == OrderStatus.REFUNDED
    assert Refund.objects.filter(payment=payment).exists()


def test_the_sandbox_in_a_production_configuration_is_flagged_by_the_deploy_checks(settings):
    from payments.checks import sandbox_in_production

    settings.DEBUG = False
    settings.MARQUEE_PAYMENTS = {**settings.MARQUEE_PAYMENTS, "PROVIDERS": ["stripe", "sandbox"]}
    assert {w.id for w in sandbox_in_production(None)} >= {"payments.W001"}
    settings.MARQUEE_PAYMENTS = {**settings.MARQUEE_PAYMENTS, "PROVIDERS": ["stripe"]}
    assert sandbox_in_production(None) == []
