"""What a security review of issue 10 found, each closed: a partner cannot open a presale
itself, a banner it sets waits for staff, a used-up presale code opens nothing, the staff report
needs the campaign permission, and report dates at the calendar's edges are refused."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from promotions.codes import code_create
from promotions.models import Campaign, PromoCode
from tests import factories
from tests.promotions.support import campaign
from tests.staff.support import signed_in
from ticketing.partners.models import PartnerKind
from ticketing.partners.services import partner_create
from ticketing.screenings.models import Screening

pytestmark = pytest.mark.django_db
_n = itertools.count()


def partner_client(kind, *scopes):
    partner, raw = partner_create(name=f"{kind} {next(_n)}", kind=kind, scopes=list(scopes))
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    api.partner = partner
    return api


def not_on_sale_yet(screening):
    starts = timezone.now() + timedelta(days=3)
    Screening.objects.filter(pk=screening.pk).update(
        sales_open_at=timezone.now() + timedelta(days=1),
        starts_at=starts,
        ends_at=starts + timedelta(hours=2),
    )


def test_a_partner_cannot_open_a_presale_or_feature_a_banner_by_itself(screening):
    not_on_sale_yet(screening)
    studio, _ = partner_create(name="Unrelated Studio", kind=PartnerKind.STUDIO)
    platform = partner_client(PartnerKind.PLATFORM, "read", "book", "campaigns")
    now = timezone.now()
    campaign_json = {
        "name": "mine",
        "studio": studio.pk,
        "films": [screening.film_id],
        "starts_at": (now - timedelta(hours=1)).isoformat(),
        "ends_at": (now + timedelta(days=9)).isoformat(),
        "currency": screening.auditorium.cinema.currency,
        "budget": 0,
        "banner_title": "Free tickets!",
        "banner_link": "https://evil.example/login",
    }
    refused = platform.post(
        "/api/v1/campaigns/",
        {**campaign_json, "presale_opens_at": (now - timedelta(hours=1)).isoformat()},
        format="json",
    )
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "campaign_presale_staff_only"

    assert platform.post("/api/v1/campaigns/", campaign_json, format="json").status_code == 201
    seats = factories.seats(screening.auditorium, "A1")
    hold = platform.post(
        "/api/v1/holds/", {"screening": screening.pk, "seats": seats}, format="json"
    )
    assert hold.status_code == 409
    assert b"evil.example" not in APIClient().get("/").content
    assert Campaign.objects.get(name="mine").banner_approved is False


def test_a_used_up_presale_code_opens_no_presale(screening, client):
    not_on_sale_yet(screening)
    made = campaign(screening, presale_opens_at=timezone.now() - timedelta(hours=1))
    code_create(
        campaign=made, code="ONCE", kind="percent", value=10, opens_presale=True, max_uses=1
    )
    PromoCode.objects.filter(code="ONCE").update(uses=1)
    api = partner_client(PartnerKind.PLATFORM, "read", "book")
    seats = factories.seats(screening.auditorium, "A2")
    answer = api.post(
        "/api/v1/holds/",
        {"screening": screening.pk, "seats": seats, "promo_code": "ONCE"},
        format="json",
    )
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "promo_exhausted"
    client.post("/presale/", {"code": "ONCE", "next": f"/screenings/{screening.pk}/"})
    assert 'name="code"' in client.get(f"/screenings/{screening.pk}/").content.decode()


def test_the_staff_report_needs_the_campaign_permission(screening, client, django_user_model):
    made = campaign(screening)
    clerk = django_user_model.objects.create_user("clerk", password="pw", is_staff=True)
    client.force_login(clerk)  # a password alone: to the second factor first
    assert client.get(f"/staff/campaigns/{made.pk}/report/").status_code == 302
    signed_in(client, clerk)
    assert client.get(f"/staff/campaigns/{made.pk}/report/").status_code == 403


@pytest.mark.parametrize("query", ["?from=9999-12-01&to=9999-12-31", "?to=0001-01-01"])
def test_report_dates_at_the_calendars_edges_are_refused(query):
    api = partner_client(PartnerKind.PLATFORM, "read", "reports")
    for path in ("/api/v1/reports/sales/", "/api/v1/reports/settlement/"):
        answer = api.get(path + query)
        assert answer.status_code == 400
        assert answer.json()["error"]["code"] == "report_date_invalid"
