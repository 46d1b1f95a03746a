"""Partner webhooks for staff: each partner's endpoints (secrets never shown) and the delivery log,
with actions that call the services: redeliver, turn an endpoint back on.

Rows are read-only: endpoints are the partner's own (made and deleted through the API), and
deliveries are written only by the sender."""

from __future__ import annotations

from django.contrib import admin, messages

from ticketing import errors
from ticketing.admin_mixins import ReadOnlyAdmin

from . import services
from .models import DELIVERY_LOG_FIELDS, WebhookDelivery, WebhookEndpoint


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(ReadOnlyAdmin):
    list_display = ["url", "partner", "events", "is_active", "disabled_reason", "created_at"]
    list_filter = ["is_active", "partner"]
    search_fields = ["url", "partner__name"]
    ordering = ["partner__name", "created_at"]
    fields = [
        "id",
        "partner",
        "url",
        "description",
        "event_types",
        "is_active",
        "disabled_at",
        "disabled_reason",
        "deleted_at",
        "previous_secret_expires_at",
        "created_at",
    ]
    readonly_fields = fields
    actions = ["enable"]

    def has_enable_permission(self, request):
        return request.user.has_perm("webhooks.change_webhookendpoint")

    @admin.display(description="Events")
    def events(self, obj):
        return ", ".join(obj.event_types)

    @admin.action(description="Turn selected endpoints back on", permissions=["enable"])
    def enable(self, request, queryset):
        enabled = services.endpoints_enable(
            endpoint_ids=list(queryset.values_list("pk", flat=True))
        )
        self.message_user(
            request,
            f"{enabled} endpoint(s) turned back on. Deleted endpoints stay off; failed "
            "deliveries are sent again only when redelivered.",
            messages.SUCCESS,
        )


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = [
        "event_type",
        "event_id",
        "endpoint",
        "status",
        "attempts",
        "last_status_code",
        "next_attempt_at",
        "created_at",
    ]
    list_filter = ["status", "event_type", "endpoint__partner"]
    search_fields = ["event_id", "endpoint__url"]
    date_hierarchy = "created_at"
    ordering = ["-created_at"]
    list_select_related = ["endpoint", "endpoint__partner"]
    fields = [*DELIVERY_LOG_FIELDS, "claimed_at"]
    readonly_fields = fields
    actions = ["redeliver"]

    def has_redeliver_permission(self, request):
        return request.user.has_perm("webhooks.change_webhookdelivery")

    @admin.action(description="Redeliver selected deliveries now", permissions=["redeliver"])
    def redeliver(self, request, queryset):
        sent, refused = 0, []
        for delivery in queryset.select_related("endpoint"):
            try:
                services.delivery_redeliver(delivery=delivery)
            except errors.WebhookEndpointDisabled as exc:
                refused.append(
                    f"{delivery.event_id} to {delivery.endpoint.url} not sent: the endpoint is "
                    f"turned off ({exc.details.get('reason') or 'no reason recorded'})."
                )
            except errors.WebhookDeliveryInFlight:
                refused.append(
                    f"{delivery.event_id} to {delivery.endpoint.url} not sent again: it is "
                    "being sent right now."
                )
            else:
                sent += 1
        if sent:
            self.message_user(
                request,
                f"{sent} {'delivery' if sent == 1 else 'deliveries'} queued again.",
                messages.SUCCESS,
            )
        for reason in refused:
            self.message_user(request, reason, messages.WARNING)
