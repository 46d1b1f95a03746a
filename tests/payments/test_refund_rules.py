"""Who may refund, and what cannot be refunded: a single ticket needs the same permissions as a
whole order, and a ticket already used at the door is not given back (issue 9, hole 8)."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.test import Client
from django.utils import timezone

from payments.models import Refund
from payments.refunds import refund_create
from tests.api.support import assert_error
from tests.staff.support import signed_in
from ticketing import errors
from ticketing.inventory.models import SeatClaim
from ticketing.orders.models import Order, OrderStatus, Ticket
from ticketing.staff.services import staff_cinemas_set

from . import flow

pytestmark = pytest.mark.django_db


def _staff(*perms: str) -> Client:
    """A staff member of every cinema holding exactly these permissions ("app.codename"),
    signed in with both factors."""
    name = f"clerk{get_user_model().objects.count()}"
    user = get_user_model().objects.create_user(name, f"{name}@example.com", "pw", is_staff=True)
    for perm in perms:
        app, codename = perm.split(".")
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app, codename=codename)
        )
    staff_cinemas_set(user=user, all_cinemas=True)
    return signed_in(Client(), user)


ORDER_ONLY = ("orders.view_order", "orders.view_ticket", "orders.change_order")
REFUNDER = (*ORDER_ONLY, "payments.change_payment")


@pytest.mark.parametrize(
    ("url", "action"),
    [("/admin/orders/order/", "refund_orders"), ("/admin/orders/ticket/", "refund_tickets")],
)
def test_refunding_from_the_admin_needs_the_payment_permission_for_tickets_as_for_orders(
    screening, url, action
):
    payment = flow.paid(screening, "A1", "A2")
    one = Ticket.objects.get(order_id=payment.order_id, seat_label="A1")
    selected = str(payment.order_id) if action == "refund_orders" else str(one.pk)

    clerk = _staff(*ORDER_ONLY)
    page = clerk.get(url)
    assert page.status_code == 200
    assert action not in page.content.decode()  # not even offered
    clerk.post(url, {"action": action, "_selected_action": [selected]}, follow=True)
    assert not Refund.objects.exists()
    assert Ticket.objects.get(pk=one.pk).refunded_at is None

    refunder = _staff(*REFUNDER)
    refunder.post(url, {"action": action, "_selected_action": [selected]}, follow=True)
    assert Refund.objects.count() == 1
    assert Ticket.objects.get(pk=one.pk).refunded_at is not None


# ---- a ticket used at the door ---------------------------------------------------------------
def _check_in(ticket: Ticket) -> None:
    Ticket.objects.filter(pk=ticket.pk).update(checked_in_at=timezone.now())


def test_a_checked_in_ticket_is_not_refunded(screening):
    payment = flow.paid(screening, "A1", "A2")
    used = Ticket.objects.get(order_id=payment.order_id, seat_label="A1")
    _check_in(used)

    with pytest.raises(errors.TicketCheckedIn) as caught:
        refund_create(order_id=payment.order_id, ticket_ids=[used.pk], actor="u", reason="x")
    assert caught.value.code == "ticket_checked_in"
    assert caught.value.details["tickets"] == [used.pk]
    assert not Refund.objects.exists()
    assert Ticket.objects.get(pk=used.pk).refunded_at is None
    assert SeatClaim.objects.filter(seat_id=used.seat_id, expires_at__isnull=True).exists()


def test_a_whole_order_with_a_checked_in_ticket_is_refused_but_its_other_tickets_can_go(
    screening,
):
    payment = flow.paid(screening, "A1", "A2")
    used = Ticket.objects.get(order_id=payment.order_id, seat_label="A1")
    unused = Ticket.objects.get(order_id=payment.order_id, seat_label="A2")
    _check_in(used)

    with pytest.raises(errors.TicketCheckedIn):
        refund_create(order_id=payment.order_id, actor="u", reason="x")
    assert Order.objects.get(pk=payment.order_id).status == OrderStatus.PAID

    refund = refund_create(order_id=payment.order_id, ticket_ids=[unused.pk], actor="u", reason="x")
    assert refund.amount == unused.price + unused.surcharge
    assert Order.objects.get(pk=payment.order_id).status == OrderStatus.PAID


def test_a_buyer_cancelling_an_order_already_used_at_the_door_is_told_why(api, screening):
    from tests.payments.test_refunds import _paid_via_api

    paid = _paid_via_api(api, screening, "A1")
    _check_in(paid.tickets.get())
    response = api.post(f"/api/v1/orders/{paid.pk}/cancel/", {}, format="json")
    assert_error(response, 409, "ticket_checked_in")
    assert Order.objects.get(pk=paid.pk).status == OrderStatus.PAID
