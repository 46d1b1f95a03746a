"""The events partners subscribe to are written where they happen (issue 10): an order of
theirs paid, cancelled or refunded; a screening they sell cancelled; an allocation released;
a campaign's budget nearly spent. Each is written in the change's transaction, once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from promotions.codes import code_create
from promotions.models import Campaign
from tests import factories
from tests.promotions.support import campaign, place
from ticketing.flows.cancellation import order_cancel_or_refund
from ticketing.flows.screenings import screening_cancel
from ticketing.flows.sweep import sweep
from ticketing.inventory.allocations import allocation_create
from ticketing.inventory.models import Allocation, SeatClaim
from ticketing.orders.services import order_mark_paid
from ticketing.webhooks import events
from ticketing.webhooks.models import WebhookDelivery
from ticketing.webhooks.services import endpoint_create

pytestmark = pytest.mark.django_db


def subscribe(partner, *types):
    endpoint_create(partner=partner, url="http://127.0.0.1:9/hook", event_types=list(types))


def told(kind: str) -> list[dict]:
    return [d.payload for d in WebhookDelivery.objects.filter(event_type=kind)]


def test_a_partner_is_told_its_order_was_paid_and_then_cancelled(screening, partner_key):
    partner, _ = partner_key
    subscribe(partner, events.ORDER_PAID, events.ORDER_CANCELLED)
    order = factories.pending_order(screening, "A1", partner=partner)

    order_mark_paid(order_id=order.pk, actor="test")
    order_mark_paid(order_id=order.pk, actor="test")  # paying twice tells once
    order_cancel_or_refund(order_id=order.pk, actor="test")

    assert len(told(events.ORDER_PAID)) == 1
    assert len(told(events.ORDER_CANCELLED)) == 1
    assert str(order.pk) in str(told(events.ORDER_PAID)[0])


def test_partners_selling_a_cancelled_screening_are_told(screening, partner_key):
    partner, _ = partner_key
    subscribe(partner, events.SCREENING_CANCELLED)
    factories.pending_order(screening, "A1", partner=partner)

    screening_cancel(screening_id=screening.pk, actor="test")

    assert len(told(events.SCREENING_CANCELLED)) == 1


def test_a_released_allocation_is_told_once_with_what_it_sold(screening, partner_key):
    partner, _ = partner_key
    subscribe(partner, events.ALLOCATION_RELEASED)
    allocation = allocation_create(
        screening_id=screening.pk,
        partner=partner,
        seat_ids=factories.seats(screening.auditorium, "B1", "B2"),
        release_at=timezone.now() + timedelta(hours=1),
    )
    past = timezone.now() - timedelta(seconds=1)
    Allocation.objects.filter(pk=allocation.pk).update(release_at=past)
    SeatClaim.objects.update(expires_at=past, allocated_until=past)

    sweep()
    sweep()

    [event] = told(events.ALLOCATION_RELEASED)
    assert "sold" in str(event)


def test_a_campaign_nearly_out_of_budget_tells_its_studio(screening):
    code_create(campaign=campaign(screening, budget=6500), code="MI5", kind="percent", value=50)
    subscribe(Campaign.objects.get().studio, events.CAMPAIGN_BUDGET_LOW)

    place(screening, "C1", promo="MI5", email="1@x.io")  # 600 of 6500: plenty left
    assert told(events.CAMPAIGN_BUDGET_LOW) == []
    for n, label in enumerate(["C2", "C3", "C4", "C5", "C6", "C7", "C8", "C9", "C10"]):
        place(screening, label, promo="MI5", email=f"{n + 2}@x.io")  # 6000 of 6500
    assert len(told(events.CAMPAIGN_BUDGET_LOW)) == 1
