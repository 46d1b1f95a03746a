"""OpenAPI extensions: how drf-spectacular should describe what it cannot infer by itself.

Imported by `ApiConfig.ready()` so the extensions are registered before any schema is built;
`AutoSchema` is the API's DEFAULT_SCHEMA_CLASS.
"""

from __future__ import annotations

from types import SimpleNamespace

from drf_spectacular import openapi
from drf_spectacular.extensions import (
    OpenApiAuthenticationExtension,
    OpenApiSerializerFieldExtension,
)
from drf_spectacular.plumbing import ResolvedComponent, build_examples_list, force_instance
from drf_spectacular.utils import OpenApiExample
from rest_framework import exceptions, serializers
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import AllowAny

from ticketing import errors
from ticketing.api import errors as api_errors
from ticketing.screenings.models import ScreeningStatus

from .common import ERROR
from .common import refused_answer as _answer
from .errors import error_body
from .idempotency import MAX_KEY_LENGTH


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "ticketing.partners.authentication.ApiKeyAuthentication"
    name = "PartnerApiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "mq_<prefix>_<secret>",
            "description": "A partner API key: `Authorization: Bearer mq_...`. "
            "Holds and orders need a key with the `book` scope.",
        }


def _named_enum(auto_schema, name: str, choices: list[tuple[str, str]]) -> dict:
    """A string enum registered once as the component `name`, each value described."""
    component = ResolvedComponent(
        name=name,
        type=ResolvedComponent.SCHEMA,
        object=name,
        schema={
            "type": "string",
            "enum": [value for value, _ in choices],
            "description": "\n".join(f"* `{value}` - {label}" for value, label in choices),
        },
    )
    auto_schema.registry.register_on_missing(component)
    return component.ref


class ScreeningStatusFieldSchema(OpenApiSerializerFieldExtension):
    """One named enum for a screening's status. The list and the detail of a screening both have
    it, and holds, orders and seats have other `status` sets: left to the automatic naming it
    would come out as a hash (`Status871Enum`) with a warning."""

    target_class = "ticketing.api.serializers.ScreeningStatusField"

    def map_serializer_field(self, auto_schema, direction):
        return _named_enum(auto_schema, "ScreeningStatusEnum", ScreeningStatus.choices)


class ErrorCodeFieldSchema(OpenApiSerializerFieldExtension):
    """`error.code` as one named enum of every code the API answers, each with its statuses,
    built from the typed errors and the handler's tables (`errors.error_codes()`): a new error
    class shows up by itself."""

    target_class = "ticketing.api.common.ErrorCodeField"

    def map_serializer_field(self, auto_schema, direction):
        codes = api_errors.error_codes()
        return _named_enum(
            auto_schema,
            "ErrorCode",
            [(code, ", ".join(map(str, sorted(codes[code])))) for code in sorted(codes)],
        )


# What the generic refusals say, with the statuses' meaning for the responses' descriptions.
STATUS_MEANING = {
    400: "The request is not valid",
    401: "No API key or session, or an unknown or revoked key",
    403: "The key lacks a scope this needs, or a browser session may not do it",
    404: "No such thing, or not yours",
    409: "Conflicts with the current state",
    410: "Gone",
    413: "The body is too large",
    415: "The body is not JSON (or a form)",
    422: "The Idempotency-Key was used for a different request",
    429: "Too many requests: wait `Retry-After` seconds",
}
RETRY_AFTER = {
    "Retry-After": {
        "schema": {"type": "integer"},
        "description": "Seconds to wait before trying again.",
    }
}


def _literal(code: str, message: str, **details) -> tuple[int, dict]:
    return api_errors.OTHER_CODES[code], error_body(code, message, details)


class AutoSchema(openapi.AutoSchema):
    """drf-spectacular's AutoSchema, and every operation documents the errors it can answer,
    with the one Error component and an example of each: those its kind of operation answers
    (inferred from the view below) and those it names itself with `common.refusals(...)`.

    A request body: 400 `invalid` (what its serializer says of an empty body) and
    `malformed_json`, 413, 415. An `Idempotency-Key`: 400, 409 and 422 of idempotency.py. A path
    id, or a paginated list (`?page=`): 404. Authentication: 401; a permission or a session's
    CSRF check: 403; a throttle: 429 with `Retry-After`.
    """

    def get_operation(self, *args, **kwargs):
        operation = super().get_operation(*args, **kwargs)
        if operation:
            self._document_errors(operation)
        return operation

    def _document_errors(self, operation: dict) -> None:
        responses = operation["responses"]
        for status_code, body in self._generic_refusals(operation):
            key = str(status_code)
            if key not in responses:
                responses[key] = self._get_response_for_code(ERROR, key)
            content = responses[key]["content"]["application/json"]
            examples = content.setdefault("examples", {})
            known = {e["value"]["error"]["code"] for e in examples.values() if "value" in e}
            if body["error"]["code"] not in known:
                examples.update(build_examples_list([_example(body, status_code)]))
        for key, response in responses.items():
            if not key.startswith(("4", "5")):
                continue
            content = response.get("content", {}).get("application/json", {})
            codes = [e["value"]["error"]["code"] for e in content.get("examples", {}).values()]
            if not response.get("description"):
                meaning = STATUS_MEANING.get(int(key), "Refused")
                response["description"] = f"{meaning}: " + ", ".join(f"`{c}`" for c in codes)
            if key == "429":
                response.setdefault("headers", {}).update(RETRY_AFTER)
        operation["responses"] = dict(sorted(responses.items()))

    def _generic_refusals(self, operation: dict):
        """(status, body) of each refusal this kind of operation answers, whatever it does."""
        view, parameters = self.view, operation.get("parameters", [])
        if "requestBody" in operation:
            invalid = self._invalid_body_example()
            if invalid is not None:  # a body the view reads itself (webhooks) says its own
                yield invalid
            if not any(p.media_type == "*/*" for p in view.get_parsers()):
                yield _answer(exceptions.ParseError("JSON parse error - Expecting value: line 1"))
                yield _answer(exceptions.UnsupportedMediaType("text/plain"))
            yield _literal("request_too_large", "The request body is too large.")
        elif "query" in {p["in"] for p in parameters if p["name"] != "page"}:
            name = next(p["name"] for p in parameters if p["in"] == "query" and p["name"] != "page")
            yield _answer(exceptions.ValidationError({name: ["Enter a valid value."]}))
        if any(p["in"] == "header" and p["name"] == "Idempotency-Key" for p in parameters):
            yield _literal(
                "invalid_idempotency_key", f"Idempotency-Key is longer than {MAX_KEY_LENGTH}."
            )
            yield _literal(
                "idempotency_in_flight", "A request with this Idempotency-Key is still running."
            )
            yield _literal(
                "idempotency_key_reused",
                "This Idempotency-Key was used for a different request.",
                key="5f0c7c1e-hold-1",
            )
        if any(p["in"] == "path" for p in parameters):
            yield _answer(exceptions.NotFound())
        elif any(p["name"] == "page" for p in parameters):
            yield _answer(exceptions.NotFound("Invalid page."))
        authenticators = view.get_authenticators()
        if authenticators:
            yield _answer(exceptions.AuthenticationFailed("Unknown or revoked API key."))
        checks_csrf = self.method not in ("GET", "HEAD", "OPTIONS") and any(
            isinstance(a, SessionAuthentication) for a in authenticators
        )
        permissions = [p for p in view.get_permissions() if not isinstance(p, AllowAny)]
        if permissions or checks_csrf:
            yield _answer(_forbidden(permissions, view))
        if view.get_throttles():
            yield _answer(exceptions.Throttled(wait=11))

    def _invalid_body_example(self) -> tuple[int, dict] | None:
        """What the request serializer itself says of an empty body (or of a string, when
        nothing in it is required)."""
        serializer = force_instance(self.get_request_serializer())
        if not isinstance(serializer, serializers.Serializer):
            return None
        for data in ({}, "x"):
            refused = type(serializer)(data=data)
            if not refused.is_valid():
                return _answer(exceptions.ValidationError(refused.errors))
        return None


def _forbidden(permissions, view) -> errors.DomainError | exceptions.APIException:
    """What the view's permissions answer a signed-in key that has no scope at all."""
    keyless = SimpleNamespace(
        user=SimpleNamespace(is_authenticated=True, api_key=SimpleNamespace(scopes=())),
        method="POST",
    )
    for permission in permissions:
        try:
            if not permission.has_permission(keyless, view):
                return exceptions.PermissionDenied()
        except (errors.DomainError, exceptions.APIException) as refusal:
            return refusal
    return exceptions.PermissionDenied()


def _example(body: dict, status_code: int) -> OpenApiExample:
    return OpenApiExample(body["error"]["code"], value=body, status_codes=[str(status_code)])
