"""Campaigns with sales for the report tests: orders placed with the campaign's code through the
flow and paid through the orders service, and partners' clients with the `reports` scope."""

from __future__ import annotations

import itertools
from datetime import datetime

from rest_framework.test import APIClient

from promotions.codes import code_create
from tests import factories
from tests.promotions.support import campaign, place
from ticketing.orders.models import Order, PaidVia
from ticketing.orders.services import order_mark_paid
from ticketing.partners.models import PartnerKind
from ticketing.partners.services import api_key_create, partner_create

_names = itertools.count(1)
_buyers = itertools.count(1)


def client_for(partner_or_kind, scopes=("read", "book", "reports")) -> APIClient:
    """An API client for a new partner of that kind, or a new key of that partner."""
    if isinstance(partner_or_kind, str):
        partner, raw = partner_create(
            name=f"{partner_or_kind} {next(_names)}", kind=partner_or_kind, scopes=list(scopes)
        )
    else:
        partner = partner_or_kind
        _, raw = api_key_create(partner=partner, name="reports", scopes=list(scopes))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    client.partner = partner
    return client


def buyer_email() -> str:
    return f"buyer-{next(_buyers)}@example.org"


def paid(order, via=PaidVia.OTHER):
    return order_mark_paid(order_id=order.pk, actor="test", via=via)


def sold(screening, *labels, promo="MI5", email=None):
    """An order of these seats with the code, paid."""
    return paid(place(screening, *labels, promo=promo, email=email or buyer_email()))


def paid_on(order, moment: datetime) -> None:
    """Move an order's payment (and placing) to another moment, to spread sales over days."""
    Order.objects.filter(pk=order.pk).update(paid_at=moment, created_at=moment)


def campaign_world(screening) -> dict:
    """A campaign for the screening's film (code MI5: half off, the studio funds it) with a
    platform, the screening's cinema in Paris, and a second cinema in Lyon showing the film."""
    made = campaign(screening, budget=50_000)
    platform, _ = partner_create(name=f"Platform {next(_names)}", kind=PartnerKind.PLATFORM)
    made.platform = platform
    made.save(update_fields=["platform"])
    code_create(campaign=made, code="MI5", kind="percent", value=50)
    lyon = factories.cinema(city="Lyon", name="Lyon Part-Dieu")
    elsewhere = factories.screening(factories.auditorium(lyon), film=screening.film)
    screening.auditorium.cinema.city = "Paris"
    screening.auditorium.cinema.save(update_fields=["city"])
    return {"campaign": made, "paris": screening, "lyon": elsewhere}
