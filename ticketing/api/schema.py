"""OpenAPI extensions: how drf-spectacular should describe what it cannot infer by itself.

Imported by `ApiConfig.ready()` so the extensions are registered before any schema is built.
"""

from __future__ import annotations

from drf_spectacular.extensions import (
    OpenApiAuthenticationExtension,
    OpenApiSerializerFieldExtension,
)
from drf_spectacular.plumbing import ResolvedComponent

from ticketing.screenings.models import ScreeningStatus


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


class ScreeningStatusFieldSchema(OpenApiSerializerFieldExtension):
    """One named enum for a screening's status. The list and the detail of a screening both have
    it, and holds, orders and seats have other `status` sets: left to the automatic naming it
    would come out as a hash (`Status871Enum`) with a warning."""

    target_class = "ticketing.api.serializers.ScreeningStatusField"

    def map_serializer_field(self, auto_schema, direction):
        component = ResolvedComponent(
            name="ScreeningStatusEnum",
            type=ResolvedComponent.SCHEMA,
            object="ScreeningStatusEnum",
            schema={
                "type": "string",
                "enum": list(ScreeningStatus.values),
                "description": "\n".join(
                    f"* `{value}` - {label}" for value, label in ScreeningStatus.choices
                ),
            },
        )
        auto_schema.registry.register_on_missing(component)
        return component.ref
