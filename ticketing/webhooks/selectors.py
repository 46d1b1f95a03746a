"""What a partner (or staff) reads of webhooks. A partner sees only its own endpoints and their
deliveries, and not those it deleted: anything else is not found, as if it did not exist."""

from __future__ import annotations

import uuid

from django.db.models import QuerySet

from ticketing import errors
from ticketing.partners.models import Partner

from .models import DeliveryStatus, WebhookDelivery, WebhookEndpoint


def _uuid(value) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def endpoints_of(*, partner: Partner) -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.filter(partner=partner, deleted_at__isnull=True).order_by(
        "created_at"
    )


def endpoint_get(*, partner: Partner, endpoint_id) -> WebhookEndpoint:
    pk = _uuid(endpoint_id)
    endpoint = endpoints_of(partner=partner).filter(pk=pk).first() if pk else None
    if endpoint is None:
        raise errors.WebhookEndpointNotFound(endpoint=str(endpoint_id))
    return endpoint


def deliveries_of(
    *, partner: Partner, endpoint_id=None, status: str | None = None
) -> QuerySet[WebhookDelivery]:
    """The partner's delivery log, newest first, of one endpoint and one status if asked."""
    deliveries = WebhookDelivery.objects.filter(
        endpoint__partner=partner, endpoint__deleted_at__isnull=True
    ).select_related("endpoint")
    if endpoint_id:
        deliveries = deliveries.filter(
            endpoint=endpoint_get(partner=partner, endpoint_id=endpoint_id)
        )
    if status:
        if status not in DeliveryStatus.values:
            raise errors.InvalidRequest(
                f"status is one of {', '.join(DeliveryStatus.values)}.", field="status"
            )
        deliveries = deliveries.filter(status=status)
    return deliveries.order_by("-created_at", "-pk")


def delivery_get(*, partner: Partner, delivery_id) -> WebhookDelivery:
    pk = _uuid(delivery_id)
    delivery = deliveries_of(partner=partner).filter(pk=pk).first() if pk else None
    if delivery is None:
        raise errors.WebhookDeliveryNotFound(delivery=str(delivery_id))
    return delivery
