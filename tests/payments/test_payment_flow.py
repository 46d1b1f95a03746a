"""Paying an order through a provider: start, the signed webhook that makes it paid, and the
late payments of invariant 4 (re-claim the seats, or refund automatically)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from payments import services
from payments.models import Payment, PaymentStatus, ProviderEvent, Refund, RefundStatus
from tests import factories
from tests.api.support import assert_error, hold, order
from ticketing import errors
from ticketing.inventory.models import SeatClaim
from ticketing.orders.models import Order, OrderStatus
from ticketing.orders.services import orders_expire_due
from ticketing.outbox.models import OutboxMessage

from . import flow

pytestmark = pytest.mark.django_db


def _expire(order_obj) -> None:
    """The order's time ran out and the sweep ran: its seats are free again."""
    past = timezone.now() - timedelta(seconds=1)
    Order.objects.filter(pk=order_obj.pk).update(expires_at=past)
    SeatClaim.objects.filter(order_id=order_obj.pk).update(expires_at=past)
    orders_expire_due()


def _api_order(api, screening, *labels):
    seat_ids = factories.seats(screening.auditorium, *labels)
    held = hold(api, screening, *seat_ids).json()
    return order(api, held["id"], [(s, "adult") for s in seat_ids]).json()


def test_a_partner_starts_a_payment_and_the_signed_webhook_makes_the_order_paid(
    api, screening, settings
):
    settings.MARQUEE_PAYMENTS = {**settings.MARQUEE_PAYMENTS, "RETURN_HOSTS": ["partner.example"]}
    created = _api_order(api, screening, "C1", "C2")
    response = api.post(
        f"/api/v1/orders/{created['id']}/payments/",
        {"provider": "sandbox", "return_url": "https://partner.example/back"},
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {"id", "provider", "status", "redirect_url", "amount", "currency"}
    assert body["provider"] == "sandbox"
    assert body["status"] == "requires_action"
    assert body["amount"] == created["total"] and body["currency"] == "EUR"
    assert "/payments/sandbox/" in body["redirect_url"]

    payment = Payment.objects.get(pk=body["id"])
    assert flow.post(api, flow.event(payment)).json() == {
        "received": True,
        "duplicate": False,
        "outcome": "order_paid",
    }
    paid = Order.objects.get(pk=created["id"])
    assert paid.status == OrderStatus.PAID
    assert paid.history.last().actor == "provider:sandbox"
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.SUCCEEDED
    assert SeatClaim.objects.filter(order_id=paid.pk, expires_at__isnull=True).count() == 2
    assert OutboxMessage.objects.filter(topic="order.confirmation").count() == 1
    assert api.get(f"/api/v1/orders/{paid.pk}/").json()["status"] == "paid"


def test_the_default_provider_is_the_first_enabled_one(api, screening):
    created = _api_order(api, screening, "A1")
    response = api.post(f"/api/v1/orders/{created['id']}/payments/", {}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["provider"] == "sandbox"


def test_starting_a_payment_is_idempotent_with_a_key(api, screening):
    created = _api_order(api, screening, "A1")
    url = f"/api/v1/orders/{created['id']}/payments/"
    first = api.post(url, {}, format="json", HTTP_IDEMPOTENCY_KEY="pay-1")
    again = api.post(url, {}, format="json", HTTP_IDEMPOTENCY_KEY="pay-1")
    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert first.json() == again.json()
    assert Payment.objects.count() == 1


def test_another_partner_cannot_pay_for_an_order(api, screening):
    from rest_framework.test import APIClient

    _, raw = factories.partner_with_key()
    other_api = APIClient()
    other_api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    created = _api_order(api, screening, "A1")
    response = other_api.post(f"/api/v1/orders/{created['id']}/payments/", {}, format="json")
    assert_error(response, 404, "order_not_found")
    assert not Payment.objects.exists()


def test_an_unknown_provider_is_refused(api, screening):
    created = _api_order(api, screening, "A1")
    response = api.post(
        f"/api/v1/orders/{created['id']}/payments/", {"provider": "paypal"}, format="json"
    )
    assert_error(response, 400, "unknown_provider")


def test_only_a_pending_order_can_start_a_payment(api, screening):
    created = _api_order(api, screening, "A1")
    url = f"/api/v1/orders/{created['id']}/payments/"
    flow.receive(flow.event(Payment.objects.get(pk=api.post(url, {}, format="json").json()["id"])))
    assert_error(api.post(url, {}, format="json"), 409, "payment_not_allowed")

    expired = _api_order(api, screening, "B1")
    Order.objects.filter(pk=expired["id"]).update(expires_at=timezone.now())
    details = assert_error(
        api.post(f"/api/v1/orders/{expired['id']}/payments/", {}, format="json"),
        409,
        "payment_not_allowed",
    )
    assert details["status"] == "expired"


def test_a_failed_payment_leaves_the_order_pending_for_another_try(screening):
    payment = flow.started(screening, "A1")
    assert flow.receive(flow.event(payment, "payment.failed")).body["outcome"] == "payment_failed"
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.FAILED
    assert payment.order.status == OrderStatus.PENDING_PAYMENT

    retry = services.payment_start(
        order_id=payment.order_id, provider_name="sandbox", return_url="http://t/", actor="test"
    )
    assert flow.receive(flow.event(retry)).body["outcome"] == "order_paid"
    assert Order.objects.get(pk=payment.order_id).status == OrderStatus.PAID


def test_a_second_payment_succeeding_after_the_order_was_paid_is_refunded(screening):
    first = flow.started(screening, "A1")
    second = services.payment_start(
        order_id=first.order_id, provider_name="sandbox", return_url="http://t/", actor="test"
    )
    flow.receive(flow.event(first))
    result = flow.receive(flow.event(second))
    assert result.status == 200 and result.body["outcome"] == "refunded: already_paid"
    second.refresh_from_db()
    assert second.status == PaymentStatus.REFUNDED
    assert Refund.objects.get(payment=second).amount == second.amount
    assert Order.objects.get(pk=first.order_id).status == OrderStatus.PAID
    assert OutboxMessage.objects.filter(topic="order.confirmation").count() == 1
    # The buyer is told the extra payment came back, not that "no tickets were issued".
    told = OutboxMessage.objects.exclude(topic="order.confirmation").values_list("topic", flat=True)
    assert list(told) == ["payment.refunded_duplicate"]


def test_a_payment_after_the_hold_died_re_claims_its_seats_if_still_free(screening):
    payment = flow.started(screening, "A1", "A2")
    _expire(payment.order)
    assert Order.objects.get(pk=payment.order_id).status == OrderStatus.EXPIRED
    assert not SeatClaim.objects.filter(order_id=payment.order_id).exists()

    assert flow.receive(flow.event(payment)).body["outcome"] == "order_paid"
    assert Order.objects.get(pk=payment.order_id).status == OrderStatus.PAID
    assert SeatClaim.objects.filter(order_id=payment.order_id, expires_at__isnull=True).count() == 2
    assert not Refund.objects.exists()


def test_a_payment_after_the_seats_were_sold_to_someone_else_is_refunded_automatically(
    screening,
):
    payment = flow.started(screening, "A1", "A2")
    _expire(payment.order)
    flow.paid(screening, "A2", "A3")  # somebody else bought A2 meanwhile

    result = flow.receive(flow.event(payment))
    assert result.status == 200
    assert result.body["outcome"] == "refunded: seats_lost"

    late = Order.objects.get(pk=payment.order_id)
    assert late.status == OrderStatus.EXPIRED  # never paid
    assert late.history.last().reason == "payment refunded automatically: seats_lost"
    assert not SeatClaim.objects.filter(order_id=late.pk).exists()
    refund = Refund.objects.get(payment=payment)
    assert (refund.amount, refund.reason, refund.status) == (
        payment.amount,
        "seats_lost",
        RefundStatus.SUCCEEDED,
    )
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.REFUNDED
    told = OutboxMessage.objects.get(topic="payment.refunded_seats_lost")
    assert told.payload["order_id"] == str(late.pk)
    assert told.payload["amount"] == payment.amount
    assert OutboxMessage.objects.filter(topic="order.confirmation").count() == 1  # the other's
    assert ProviderEvent.objects.get(event_id__startswith="evt_", outcome__startswith="refunded")


def test_a_payment_for_a_screening_cancelled_meanwhile_is_refunded(screening):
    from ticketing.screenings.models import ScreeningStatus

    payment = flow.started(screening, "A1")
    type(screening).objects.filter(pk=screening.pk).update(status=ScreeningStatus.CANCELLED)
    assert flow.receive(flow.event(payment)).body["outcome"] == "refunded: seats_lost"
    order_ = Order.objects.get(pk=payment.order_id)
    assert order_.status == OrderStatus.CANCELLED
    assert Refund.objects.get(payment=payment).reason == "seats_lost"


def test_a_screening_off_sale_cannot_start_a_payment(screening):
    order_ = factories.pending_order(screening, "A1")
    type(screening).objects.filter(pk=screening.pk).update(
        sales_close_at=timezone.now() - timedelta(seconds=1)
    )
    with pytest.raises(errors.ScreeningNotOnSale):
        services.payment_start(
            order_id=order_.pk, provider_name="sandbox", return_url="http://t/", actor="test"
        )
