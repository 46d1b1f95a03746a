"""Webhook endpoints of the partner API (scope `webhooks`): a partner's endpoints, their secret,
a test event, and the delivery log with redelivery. Thin: parse, call a service or selector,
serialise. Every id is looked up among the caller's own: another partner's is a 404."""

from __future__ import annotations

from datetime import timedelta

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from ticketing import errors
from ticketing.api.common import IDEMPOTENCY, refusals
from ticketing.api.idempotency import idempotent
from ticketing.api.permissions import RequiresScope
from ticketing.partners.models import Scope

from . import events, selectors, services
from .models import DELIVERY_LOG_FIELDS, DeliveryStatus, WebhookDelivery, WebhookEndpoint

EXAMPLE_ID = "5d7c1a2b-3e4f-4a5b-8c6d-7e8f9a0b1c2d"
NOT_FOUND = errors.WebhookEndpointNotFound(endpoint=EXAMPLE_ID)
DELIVERY_NOT_FOUND = errors.WebhookDeliveryNotFound(delivery=EXAMPLE_ID)
DISABLED = errors.WebhookEndpointDisabled(
    endpoint=EXAMPLE_ID, reason="Answered 410 Gone to delivery ... at 2026-11-26T18:10:00+00:00."
)


class EndpointInput(serializers.Serializer):
    url = serializers.URLField(
        max_length=500,
        help_text="Where to POST events: https (http only where the operator allows it), on a "
        "public address.",
    )
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=events.SUBSCRIBABLE),
        min_length=1,
        help_text="The event types this endpoint wants.",
    )
    description = serializers.CharField(max_length=200, required=False, default="")


class EndpointOutput(serializers.ModelSerializer):
    events = serializers.ListField(child=serializers.CharField(), source="event_types")

    class Meta:
        model = WebhookEndpoint
        fields = [
            "id",
            "url",
            "description",
            "events",
            "is_active",
            "disabled_at",
            "disabled_reason",
            "previous_secret_expires_at",
            "created_at",
        ]


class EndpointWithSecret(EndpointOutput):
    secret = serializers.SerializerMethodField(
        help_text="The signing secret (`whsec_...`), shown in this answer only: store it now."
    )

    class Meta(EndpointOutput.Meta):
        fields = [*EndpointOutput.Meta.fields, "secret"]

    def get_secret(self, obj) -> str:
        return self.context["secret"]


class RotateInput(serializers.Serializer):
    overlap_hours = serializers.IntegerField(
        min_value=0,
        max_value=168,
        required=False,
        help_text="How long the previous secret keeps signing beside the new one (default: "
        "24). 0 drops it at once, for a secret that leaked.",
    )


class DeliveryOutput(serializers.ModelSerializer):
    endpoint = serializers.UUIDField(source="endpoint_id")

    class Meta:
        model = WebhookDelivery
        fields = DELIVERY_LOG_FIELDS


def _with_secret(endpoint: WebhookEndpoint, secret: str, code: int) -> Response:
    return Response(EndpointWithSecret(endpoint, context={"secret": secret}).data, status=code)


@extend_schema(tags=["webhooks"])
class EndpointList(generics.GenericAPIView):
    permission_classes = [RequiresScope(Scope.WEBHOOKS)]
    serializer_class = EndpointOutput

    def get_queryset(self):
        return selectors.endpoints_of(partner=self.request.user.partner)

    @extend_schema(responses={200: EndpointOutput(many=True)})
    def get(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(EndpointOutput(page, many=True).data)

    @extend_schema(
        request=EndpointInput,
        parameters=[IDEMPOTENCY],
        responses={
            201: EndpointWithSecret,
            **refusals(
                errors.WebhookUrlNotAllowed(
                    "Webhooks go to public addresses only, not to loopback or private networks.",
                    url="https://10.0.0.5/hooks",
                )
            ),
        },
        description="Subscribe a URL to events. The answer carries the endpoint's signing "
        "secret, once: it is never shown again (rotate it to get a new one).",
    )
    @idempotent
    def post(self, request):
        data = EndpointInput(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        endpoint, secret = services.endpoint_create(
            partner=request.user.partner,
            url=v["url"],
            event_types=v["events"],
            description=v["description"],
        )
        return _with_secret(endpoint, secret, status.HTTP_201_CREATED)


@extend_schema(tags=["webhooks"])
class EndpointDetail(APIView):
    permission_classes = [RequiresScope(Scope.WEBHOOKS)]

    @extend_schema(responses={200: EndpointOutput, **refusals(NOT_FOUND)})
    def get(self, request, pk):
        endpoint = selectors.endpoint_get(partner=request.user.partner, endpoint_id=pk)
        return Response(EndpointOutput(endpoint).data)

    @extend_schema(
        responses={204: None, **refusals(NOT_FOUND)},
        description="Stop sending to this endpoint; deliveries still waiting for it fail.",
    )
    def delete(self, request, pk):
        endpoint = selectors.endpoint_get(partner=request.user.partner, endpoint_id=pk)
        services.endpoint_delete(endpoint=endpoint)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["webhooks"])
class EndpointTest(APIView):
    permission_classes = [RequiresScope(Scope.WEBHOOKS)]

    @extend_schema(
        request=None,
        parameters=[IDEMPOTENCY],
        responses={202: DeliveryOutput, **refusals(NOT_FOUND, DISABLED)},
        description="Send a signed `webhook.test` event to this endpoint now, the way every "
        "event goes (after commit, by the worker, with retries). Follow it in the delivery "
        "log.",
    )
    @idempotent
    def post(self, request, pk):
        endpoint = selectors.endpoint_get(partner=request.user.partner, endpoint_id=pk)
        delivery = services.endpoint_test(endpoint=endpoint)
        return Response(DeliveryOutput(delivery).data, status=status.HTTP_202_ACCEPTED)


@extend_schema(tags=["webhooks"])
class EndpointSecretRotate(APIView):
    permission_classes = [RequiresScope(Scope.WEBHOOKS)]

    @extend_schema(
        request=RotateInput,
        parameters=[IDEMPOTENCY],
        responses={200: EndpointWithSecret, **refusals(NOT_FOUND)},
        description="A new signing secret, shown once. Until `previous_secret_expires_at` "
        "every delivery carries two signatures, one per secret, so either verifies.",
    )
    @idempotent
    def post(self, request, pk):
        data = RotateInput(data=request.data or {})
        data.is_valid(raise_exception=True)
        hours = data.validated_data.get("overlap_hours")
        endpoint = selectors.endpoint_get(partner=request.user.partner, endpoint_id=pk)
        endpoint, secret = services.endpoint_secret_rotate(
            endpoint=endpoint, overlap=None if hours is None else timedelta(hours=hours)
        )
        return _with_secret(endpoint, secret, status.HTTP_200_OK)


@extend_schema(
    tags=["webhooks"],
    parameters=[
        OpenApiParameter("endpoint", OpenApiTypes.UUID, description="One endpoint's only."),
        OpenApiParameter("status", OpenApiTypes.STR, enum=DeliveryStatus.values),
    ],
    responses={
        200: DeliveryOutput(many=True),
        **refusals(
            NOT_FOUND,
            errors.InvalidRequest(
                f"status is one of {', '.join(DeliveryStatus.values)}.", field="status"
            ),
        ),
    },
)
class DeliveryList(generics.ListAPIView):
    """The delivery log, newest first: each event sent to each endpoint, its status, attempts,
    next attempt and the last answer."""

    permission_classes = [RequiresScope(Scope.WEBHOOKS)]
    serializer_class = DeliveryOutput

    def get_queryset(self):
        params = self.request.query_params
        return selectors.deliveries_of(
            partner=self.request.user.partner,
            endpoint_id=params.get("endpoint"),
            status=params.get("status"),
        )


@extend_schema(tags=["webhooks"])
class DeliveryRedeliver(APIView):
    permission_classes = [RequiresScope(Scope.WEBHOOKS)]

    @extend_schema(
        request=None,
        parameters=[IDEMPOTENCY],
        responses={
            202: DeliveryOutput,
            **refusals(
                DELIVERY_NOT_FOUND,
                DISABLED,
                errors.WebhookDeliveryInFlight(delivery=EXAMPLE_ID),
            ),
        },
        description="Send this delivery again now, with the same `webhook-id` and a fresh "
        "round of retries.",
    )
    @idempotent
    def post(self, request, pk):
        delivery = selectors.delivery_get(partner=request.user.partner, delivery_id=pk)
        delivery = services.delivery_redeliver(delivery=delivery)
        return Response(DeliveryOutput(delivery).data, status=status.HTTP_202_ACCEPTED)
