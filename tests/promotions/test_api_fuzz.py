"""Schemathesis over the campaign operations of the live schema, with a key that has the
`campaigns` scope and a real campaign: generated requests (valid and odd) never answer a 5xx
nor anything the schema does not document. The suite-wide run (tests/api/test_schemathesis.py)
uses a key without that scope, which stops every campaign request at 403."""

from __future__ import annotations

from datetime import timedelta

import pytest
import schemathesis
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings

from promotions.campaigns import campaign_create
from promotions.codes import code_create
from tests.api.test_schemathesis import CHECKS, _sometimes, app  # noqa: F401 (app: a fixture)
from ticketing.partners.models import PartnerKind
from ticketing.partners.services import partner_create

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

MAX_EXAMPLES = 10

schema = schemathesis.openapi.from_dict(
    SchemaGenerator().get_schema(request=None, public=True)
).include(path_regex="^/api/v1/campaigns/")


@pytest.fixture
def world(screening):
    studio, key = partner_create(
        name="Fuzz studio", kind=PartnerKind.STUDIO, scopes=["read", "campaigns"]
    )
    platform, _ = partner_create(name="Fuzz platform", kind=PartnerKind.PLATFORM)
    now = timezone.now()
    made = campaign_create(
        name="Fuzzed",
        studio=studio,
        platform=platform,
        starts_at=now - timedelta(days=1),
        ends_at=now + timedelta(days=9),
        currency="EUR",
        budget=10_000,
        films=[screening.film],
    )
    code_create(campaign=made, code="FUZZ", kind="percent", value=10)
    return {
        "key": key,
        "campaign": made.pk,
        "fields": {
            "films": [screening.film_id],
            "screenings": [screening.pk],
            "cinemas": [screening.auditorium.cinema_id],
            "platform": platform.pk,
        },
    }


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_the_campaign_operations_answer_only_what_the_schema_documents(case, world, app):  # noqa: F811
    for name in list(case.path_parameters or {}):  # unknown ids are tested elsewhere: aim
        case.path_parameters[name] = world["campaign"]
    if isinstance(case.body, dict):
        for name, real in world["fields"].items():
            if name in case.body and _sometimes(case.body[name]):
                case.body[name] = real
    response = case.call(headers={"Authorization": f"Bearer {world['key']}"}, app=app)
    case.validate_response(response, checks=CHECKS, transport_kwargs={"app": app})
