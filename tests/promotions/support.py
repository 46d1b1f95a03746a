"""Campaigns and codes for the promotions tests, made the way staff and studios make them."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from promotions.codes import code_create
from promotions.models import Campaign
from tests import factories
from ticketing.flows.checkout import order_place
from ticketing.partners.models import PartnerKind
from ticketing.partners.services import partner_create


def campaign(screening, *, budget: int = 100_000, **kw) -> Campaign:
    studio, _ = partner_create(name=f"Studio {timezone.now().timestamp()}", kind=PartnerKind.STUDIO)
    now = timezone.now()
    made = Campaign.objects.create(
        name="Rogue Nation opening",
        studio=studio,
        starts_at=now - timedelta(days=1),
        ends_at=now + timedelta(days=30),
        currency=screening.auditorium.cinema.currency,
        budget=budget,
        **kw,
    )
    made.films.set([screening.film])
    return made


def code(screening, text: str = "MI5", *, campaign_kw=None, **terms):
    terms.setdefault("kind", "percent")
    terms.setdefault("value", 50)
    return code_create(campaign=campaign(screening, **(campaign_kw or {})), code=text, **terms)


def place(screening, *labels: str, promo: str, email: str = "b@example.com", buyer: str = ""):
    """Hold these seats and order them (adult tickets) with a promo code, through the flow."""
    buyer = buyer or f"buyer-{'-'.join(labels)}"
    the_hold = factories.hold(screening, *labels, session=buyer)
    return order_place(
        hold_id=the_hold.pk,
        customer_email=email,
        customer_name="Buyer",
        tickets=[(s, "adult") for s in factories.seats(screening.auditorium, *labels)],
        promo_code=promo,
        buyer_key=buyer,
        actor="test",
    )
