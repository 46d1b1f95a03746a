"""The API describes itself: a valid OpenAPI 3 document at /api/schema/, generated without a
warning, and a browsable page at /api/docs/."""

from __future__ import annotations

import pytest
import yaml
from django.core.management import call_command
from drf_spectacular.drainage import reset_generator_stats
from drf_spectacular.validation import validate_schema

pytestmark = pytest.mark.django_db

PARTNER_PATHS = {
    "/api/v1/films/": {"get"},
    "/api/v1/films/{id}/": {"get"},
    "/api/v1/cinemas/": {"get"},
    "/api/v1/screenings/": {"get"},
    "/api/v1/screenings/{id}/": {"get"},
    "/api/v1/screenings/{id}/seats/": {"get"},
    "/api/v1/holds/": {"post"},
    "/api/v1/holds/{id}/": {"get", "delete"},
    "/api/v1/orders/": {"post"},
    "/api/v1/orders/{id}/": {"get"},
    "/api/v1/orders/{id}/cancel/": {"post"},
}


@pytest.fixture
def schema(anon_api) -> dict:
    response = anon_api.get("/api/schema/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.oai.openapi")
    return yaml.safe_load(response.content)


def test_the_schema_is_valid_openapi_3(schema):
    assert schema["openapi"].startswith("3.")
    validate_schema(schema)  # raises on anything OpenAPI 3 does not allow


def test_the_schema_also_comes_as_json(anon_api, schema):
    response = anon_api.get("/api/schema/?format=json")
    assert response.status_code == 200
    assert response.json() == schema


def test_the_schema_has_every_path_partners_build_on(schema):
    for path, methods in PARTNER_PATHS.items():
        assert path in schema["paths"], path
        assert methods <= set(schema["paths"][path]), (path, set(schema["paths"][path]))


def test_the_schema_documents_the_errors_and_the_idempotency_key(schema):
    create_hold = schema["paths"]["/api/v1/holds/"]["post"]
    assert {"201", "400", "401", "404", "409"} <= set(create_hold["responses"])
    assert create_hold["responses"]["409"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Error"
    }
    assert "Idempotency-Key" in {
        p["name"] for p in create_hold["parameters"] if p["in"] == "header"
    }
    create_order = schema["paths"]["/api/v1/orders/"]["post"]
    assert "410" in create_order["responses"]
    error = schema["components"]["schemas"]["ErrorBody"]
    assert set(error["properties"]) == {"code", "message", "details"}


def test_the_schema_says_how_partners_authenticate(schema):
    scheme = schema["components"]["securitySchemes"]["PartnerApiKey"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    assert {"PartnerApiKey": []} in schema["paths"]["/api/v1/holds/"]["post"]["security"]
    # reads are open: anonymous is one of the ways to call them
    assert {} in schema["paths"]["/api/v1/films/"]["get"]["security"]


def test_the_seat_map_statuses_are_an_enum(schema):
    statuses = schema["components"]["schemas"]["SeatStatusStatusEnum"]["enum"]
    assert statuses == ["available", "held", "sold", "blocked"]
    assert schema["components"]["schemas"]["ScreeningStatusEnum"]["enum"] == [
        "scheduled",
        "cancelled",
    ]


def test_the_schema_generates_without_warnings_and_validates(tmp_path):
    reset_generator_stats()
    out = tmp_path / "schema.yaml"
    # Raises CommandError on any warning (--fail-on-warn) or invalid document (--validate).
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    assert yaml.safe_load(out.read_text())["info"]["title"] == "Marquee partner API"


def test_the_docs_page_renders(anon_api):
    response = anon_api.get("/api/docs/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "swagger" in page.lower() and "/api/schema/" in page
