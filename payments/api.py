"""Payment endpoints of the partner API: start a payment, settle a partner-paid order, and the
provider webhooks. Thin: parse, call a service, serialise."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.parsers import BaseParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from ticketing import errors
from ticketing.api import serializers as s
from ticketing.api.common import IDEMPOTENCY, actor, owner, refusals
from ticketing.api.idempotency import idempotent
from ticketing.api.permissions import RequiresScope
from ticketing.orders import services as orders
from ticketing.partners.models import Scope

from . import services


class PaymentInput(serializers.Serializer):
    provider = serializers.CharField(
        max_length=20, required=False, help_text="Default: the first enabled provider."
    )
    return_url = serializers.URLField(
        max_length=500,
        required=False,
        help_text="Where the provider sends the buyer back: on this site or a host the operator "
        "listed (MARQUEE_PAYMENT_RETURN_HOSTS), else 400 `return_url_not_allowed`.",
    )


class PaymentOutput(serializers.Serializer):
    id = serializers.UUIDField()
    provider = serializers.CharField()
    status = serializers.CharField()
    redirect_url = serializers.CharField()
    amount = serializers.IntegerField()
    currency = serializers.CharField()


class SettleInput(serializers.Serializer):
    reference = serializers.CharField(max_length=120, help_text="Your own id for this sale.")


class SettleOutput(s.OrderOutput):
    # Plain text here: a second component with the order status enum would rename it.
    status = serializers.CharField(source="effective_status", help_text="`paid` once settled.")

    class Meta(s.OrderOutput.Meta):
        fields = [*s.OrderOutput.Meta.fields, "partner_reference", "commission"]


@extend_schema(tags=["payments"])
class PaymentStart(APIView):
    permission_classes = [RequiresScope(Scope.BOOK)]

    @extend_schema(
        request=PaymentInput,
        parameters=[IDEMPOTENCY],
        responses={
            201: PaymentOutput,
            **refusals(
                errors.UnknownProvider(provider="paypal"),
                errors.ReturnUrlNotAllowed(field="return_url", allowed_hosts=["marquee.example"]),
                errors.OrderNotFound(order="0b7d2c4e-5f6a-4b8c-9d0e-1f2a3b4c5d6e"),
                errors.PaymentNotAllowed(
                    "An order that is paid cannot be paid.",
                    order="0b7d2c4e-5f6a-4b8c-9d0e-1f2a3b4c5d6e",
                    status="paid",
                ),
                errors.ScreeningNotOnSale(screening=42, reason="sales_closed"),
            ),
        },
        description="Start paying a pending order: send the buyer to `redirect_url`. The order "
        "becomes paid only when the provider's signed webhook confirms the payment. 409 "
        "`payment_not_allowed` if the order is not pending payment.",
    )
    @idempotent
    def post(self, request, pk):
        data = PaymentInput(data=request.data or {})
        data.is_valid(raise_exception=True)
        v = data.validated_data
        order = orders.order_get(order_id=pk, **owner(request))
        site = settings.MARQUEE_PAYMENTS["SITE_URL"].rstrip("/")
        payment = services.payment_start(
            order_id=order.pk,
            provider_name=v.get("provider"),
            return_url=services.return_url_check(v["return_url"])
            if v.get("return_url")
            else f"{site}/",
            actor=actor(request),
        )
        return Response(PaymentOutput(payment).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["payments"])
class OrderSettle(APIView):
    permission_classes = [RequiresScope(Scope.BOOK, Scope.SETTLE)]

    @extend_schema(
        request=SettleInput,
        parameters=[IDEMPOTENCY],
        responses={
            200: SettleOutput,
            **refusals(
                errors.OrderNotFound(order="0b7d2c4e-5f6a-4b8c-9d0e-1f2a3b4c5d6e"),
                errors.OrderStateConflict(
                    "This order is already paid.",
                    status="paid",
                    order="0b7d2c4e-5f6a-4b8c-9d0e-1f2a3b4c5d6e",
                ),
                errors.SeatsLost(order="0b7d2c4e-5f6a-4b8c-9d0e-1f2a3b4c5d6e"),
            ),
        },
        description="For platform partners that took the money themselves (keys with the "
        "`settle` scope): the order becomes paid, with your reference and your commission. "
        "Settling again with the same reference is a no-op. 409 `seats_lost` if the order's "
        "seats are gone (its hold died and they were sold): refund your customer.",
    )
    @idempotent
    def post(self, request, pk):
        data = SettleInput(data=request.data or {})
        data.is_valid(raise_exception=True)
        partner = request.user.partner
        order = services.order_settle(
            order_id=pk,
            partner=partner,
            partner_reference=data.validated_data["reference"],
            actor=actor(request),
        )
        return Response(SettleOutput(orders.order_get(order_id=order.pk, staff=True)).data)


class RawBody(BaseParser):
    """Leave the body alone: the signature is over its exact bytes."""

    media_type = "*/*"

    def parse(self, stream, media_type=None, parser_context=None):
        return {}


WEBHOOK_ANSWER = inline_serializer(
    "WebhookAnswer",
    {
        "received": serializers.BooleanField(),
        "duplicate": serializers.BooleanField(),
        "outcome": serializers.CharField(required=False),
    },
)


# The providers' reasons for refusing a delivery (payments/signing.py, providers/), for the schema.
WEBHOOK_REJECTIONS = [
    ("signature_missing", "No Marquee-Signature header."),
    ("signature_malformed", "Marquee-Signature is not t=...,v1=..."),
    ("signature_invalid", "The signature does not match."),
    ("signature_expired", "The signature's timestamp is outside the tolerance."),
    ("malformed", "The body is not JSON."),
]


@extend_schema(tags=["payments"])
class ProviderWebhook(APIView):
    """Events from a payment provider, verified with its signature scheme. No API key, no CSRF,
    no throttle: the signature is the authentication."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes: list = []
    parser_classes = [RawBody]

    @extend_schema(
        request={"application/json": OpenApiTypes.OBJECT},
        responses={
            200: WEBHOOK_ANSWER,
            **refusals(
                *(
                    errors.WebhookInvalid(message, code=code, provider="sandbox")
                    for code, message in WEBHOOK_REJECTIONS
                ),
                errors.UnknownPayment(provider="sandbox", payment="pay_3f9a1c"),
                errors.AmountMismatch(provider="sandbox", payment="pay_3f9a1c"),
                errors.ProviderNotFound(provider="paypal"),
            ),
        },
        auth=[],
        description="Each event is processed once per event id; a repeat answers 200 with "
        "`duplicate: true`.",
    )
    def post(self, request, provider):
        result = services.webhook_receive(
            provider_name=provider, body=request.body, headers=request.headers
        )
        return Response(result.body, status=result.status)
