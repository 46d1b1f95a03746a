"""The API describes itself: a valid OpenAPI 3 document at /api/schema/, generated without a
warning, every status an operation can answer documented with the one error shape, its codes an
enum, examples, the committed docs/openapi.yaml the same as the live schema, and a browsable
page at /api/docs/."""

from __future__ import annotations

import ast
import difflib
import gc
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.core.management import call_command
from drf_spectacular.drainage import reset_generator_stats
from drf_spectacular.validation import validate_schema

from ticketing import errors
from ticketing.api.errors import error_codes

pytestmark = pytest.mark.django_db

COMMITTED = Path(settings.BASE_DIR) / "docs" / "openapi.yaml"

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


def _live_schema_text(tmp_path) -> str:
    reset_generator_stats()
    out = tmp_path / "openapi.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    return out.read_text()


def test_the_committed_docs_openapi_yaml_is_the_live_schema(tmp_path):
    """A change to the API shows in review as a change to docs/openapi.yaml."""
    live = _live_schema_text(tmp_path)
    committed = COMMITTED.read_text() if COMMITTED.exists() else ""
    if live != committed:
        diff = list(
            difflib.unified_diff(
                committed.splitlines(),
                live.splitlines(),
                "docs/openapi.yaml (committed)",
                "the live schema",
                lineterm="",
                n=1,
            )
        )
        shown = "\n".join(diff[:60]) + ("\n..." if len(diff) > 60 else "")
        pytest.fail(
            "docs/openapi.yaml is not the live schema: run `make schema` and commit it.\n" + shown,
            pytrace=False,
        )


def _operations(schema):
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            yield f"{method.upper()} {path}", operation


def test_every_operation_documents_the_statuses_it_can_answer(schema):
    # The answers schemathesis found undocumented before the schema said them.
    expect = {
        "GET /api/v1/films/": {"200", "400", "401", "404", "429"},  # ?status=, ?page=
        "GET /api/v1/cinemas/": {"200", "401", "404", "429"},  # ?page=
        "GET /api/v1/screenings/": {"200", "400", "401", "404", "429"},
        "GET /api/v1/films/{id}/": {"200", "401", "404", "429"},
        "POST /api/v1/holds/": {"201", "400", "401", "403", "404", "409", "413", "415", "422"},
        "POST /api/v1/orders/": {"201", "400", "401", "403", "404", "409", "410", "422", "429"},
        "POST /api/v1/orders/{id}/cancel/": {"200", "400", "401", "403", "404", "409", "422"},
        "POST /api/v1/orders/{id}/settle/": {"200", "400", "401", "403", "404", "409", "422"},
        "POST /api/v1/orders/{id}/payments/": {"201", "400", "401", "403", "404", "409", "422"},
        "DELETE /api/v1/holds/{id}/": {"204", "401", "403", "404", "409", "429"},
        "POST /api/v1/payments/webhooks/{provider}/": {"200", "400", "404"},
    }
    operations = dict(_operations(schema))
    for name, statuses in expect.items():
        assert statuses <= set(operations[name]["responses"]), (name, statuses)
    webhook = operations["POST /api/v1/payments/webhooks/{provider}/"]["responses"]
    assert not {"401", "403", "429"} & set(webhook)  # the signature is its authentication
    assert "Retry-After" in operations["GET /api/v1/films/"]["responses"]["429"]["headers"]


def test_every_error_answer_has_the_error_shape_and_examples_of_its_codes(schema):
    codes = error_codes()
    for name, operation in _operations(schema):
        for status, response in operation["responses"].items():
            if not status.startswith("4"):
                continue
            content = response["content"]["application/json"]
            assert content["schema"] == {"$ref": "#/components/schemas/Error"}, (name, status)
            examples = content["examples"].values()
            assert examples, (name, status)
            for example in examples:
                code = example["value"]["error"]["code"]
                assert int(status) in codes[code], (name, status, code)
                assert f"`{code}`" in response["description"], (name, status, code)


def test_the_error_code_is_an_enum_of_every_typed_error_and_every_other_code(schema):
    enum = schema["components"]["schemas"]["ErrorCode"]["enum"]
    body = schema["components"]["schemas"]["ErrorBody"]
    assert body["properties"]["code"] == {"$ref": "#/components/schemas/ErrorCode"}
    assert enum == sorted(error_codes())
    for code in ("seat_unavailable", "hold_expired", "invalid", "malformed_json", "throttled"):
        assert code in enum
    assert {"unauthenticated", "forbidden", "idempotency_key_reused", "signature_invalid"} <= set(
        enum
    )


def test_a_new_typed_error_joins_the_enum_by_itself():
    class SeatOnFire(errors.DomainError):
        code = "seat_on_fire"

    try:
        assert error_codes()["seat_on_fire"] == {400}
    finally:
        del SeatOnFire
        gc.collect()
    assert "seat_on_fire" not in error_codes()


def _literal_codes() -> set[str]:
    """Codes written as literals in our source: `error_body("x", ...)`,
    `WebhookRejected("x", ...)`, and `code = "x"` in classes of our errors."""
    found = set()
    root = Path(settings.BASE_DIR)
    for package in ("ticketing", "payments", "promotions"):
        for path in (root / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                if (
                    isinstance(node, ast.Call)
                    and getattr(node.func, "id", getattr(node.func, "attr", None))
                    in ("error_body", "WebhookRejected")
                    and node.args
                    and isinstance(node.args[0], ast.Constant)
                ):
                    found.add(node.args[0].value)
                if isinstance(node, ast.ClassDef) and any(
                    "Error" in ast.unparse(base) or "Signature" in ast.unparse(base)
                    for base in node.bases
                ):
                    for item in node.body:
                        if (
                            isinstance(item, ast.Assign)
                            and [getattr(t, "id", None) for t in item.targets] == ["code"]
                            and isinstance(item.value, ast.Constant)
                        ):
                            found.add(item.value.value)
    return found


def test_every_code_written_in_the_source_is_in_the_enum():
    """Codes that are not typed errors (idempotency.py's, the providers' webhook rejections)
    are listed in ticketing/api/errors.py OTHER_CODES; one forgotten there fails here."""
    literals = _literal_codes()
    assert {"idempotency_key_reused", "signature_missing", "malformed"} <= literals
    assert literals - set(error_codes()) == set()


def test_the_requests_carry_examples(schema):
    hold = schema["paths"]["/api/v1/holds/"]["post"]["requestBody"]["content"]
    assert {"NamedSeats", "BestAvailable"} <= set(hold["application/json"]["examples"])
    created = schema["paths"]["/api/v1/holds/"]["post"]["responses"]["201"]["content"]
    assert "Held" in created["application/json"]["examples"]
    order = schema["paths"]["/api/v1/orders/"]["post"]["requestBody"]["content"]
    assert order["application/json"]["examples"]


def test_the_docs_page_renders(anon_api):
    response = anon_api.get("/api/docs/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "swagger" in page.lower() and "/api/schema/" in page
