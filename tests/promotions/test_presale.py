"""Presales (issue 10): a campaign opens its films' screenings before general sale to its
platform's keys and to holders of its presale codes; everyone else waits for general sale.
One rule decides, `Screening.is_on_sale(opens_at=...)`, and a buyer who held in the presale
orders and pays as anyone else."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from django.utils import timezone

from promotions.codes import code_create
from tests import factories
from tests.promotions.support import campaign
from ticketing.partners.models import PartnerKind
from ticketing.partners.services import partner_create
from ticketing.screenings.models import Screening

pytestmark = pytest.mark.django_db
_others = itertools.count()


@pytest.fixture
def presale(screening, api):
    """General sale opens tomorrow; the campaign's presale opened an hour ago, with the calling
    partner of `api` as its platform."""
    starts = timezone.now() + timedelta(days=3)
    Screening.objects.filter(pk=screening.pk).update(
        sales_open_at=timezone.now() + timedelta(days=1),
        starts_at=starts,
        ends_at=starts + timedelta(hours=2),
    )
    made = campaign(screening, presale_opens_at=timezone.now() - timedelta(hours=1))
    made.platform = api.partner
    made.save(update_fields=["platform"])
    code_create(campaign=made, code="EARLY", kind="percent", value=10, opens_presale=True)
    code_create(campaign=made, code="PLAIN", kind="percent", value=10)
    return made


def hold(client, screening, label: str, **extra):
    seats = factories.seats(screening.auditorium, label)
    return client.post(
        "/api/v1/holds/", {"screening": screening.pk, "seats": seats, **extra}, format="json"
    )


def other_partner_client():
    from rest_framework.test import APIClient

    _, raw = partner_create(name=f"Elsewhere {next(_others)}", kind=PartnerKind.PLATFORM)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def test_the_campaigns_platform_holds_during_the_presale(api, screening, presale):
    answer = hold(api, screening, "A1")
    assert answer.status_code == 201, answer.json()


def test_anyone_else_waits_for_general_sale(screening, presale):
    answer = hold(other_partner_client(), screening, "A1")
    assert answer.status_code == 409
    assert answer.json()["error"]["code"] == "screening_not_on_sale"


def test_a_presale_code_opens_the_presale_for_its_holder(screening, presale):
    answer = hold(other_partner_client(), screening, "A2", promo_code="early")
    assert answer.status_code == 201, answer.json()


def test_a_code_that_opens_no_presale_is_refused_with_its_reason(screening, presale):
    answer = hold(other_partner_client(), screening, "A3", promo_code="PLAIN")
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "promo_not_applicable"
    assert (
        hold(other_partner_client(), screening, "A3", promo_code="NOPE").json()["error"]["code"]
        == "promo_unknown"
    )


def test_a_presale_not_yet_open_lets_nobody_in(api, screening, presale):
    type(presale).objects.filter(pk=presale.pk).update(
        presale_opens_at=timezone.now() + timedelta(hours=2)
    )
    assert hold(api, screening, "A4").status_code == 409


def test_a_presale_hold_becomes_an_order(api, screening, presale):
    held = hold(api, screening, "A5").json()
    answer = api.post(
        "/api/v1/orders/",
        {
            "hold": held["id"],
            "customer": {"email": "fan@example.com", "name": "Fan"},
            "tickets": [{"seat": held["seats"][0]["id"], "ticket_type": "adult"}],
            "promo_code": "EARLY",
        },
        format="json",
    )
    assert answer.status_code == 201, answer.json()
    assert answer.json()["discount"] == 120
