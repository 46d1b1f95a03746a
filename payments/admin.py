"""Staff view of payments, refunds and provider events: read-only. Money moves only through the
payment services (refunds: the "Refund selected orders" action on orders)."""

from __future__ import annotations

from django.contrib import admin

from ticketing.admin_mixins import ReadOnlyAdmin

from .models import Payment, ProviderEvent, Refund

REFUND_PERMISSIONS = ("orders.change_order", "payments.change_payment")


def may_refund(request) -> bool:
    """One rule for every admin action that gives money back (whole orders, single tickets,
    a failed refund tried again): a ticket's money is money too."""
    return request.user.has_perms(REFUND_PERMISSIONS)


class RefundInline(admin.TabularInline):
    model = Refund
    extra = 0
    can_delete = False
    fields = ["created_at", "amount", "currency", "status", "reason", "actor", "provider_ref"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = [
        "order",
        "provider",
        "provider_ref",
        "status",
        "amount",
        "currency",
        "created_at",
    ]
    list_filter = ["status", "provider"]
    list_select_related = ["order"]
    search_fields = ["provider_ref", "order__code", "order__customer_email"]
    date_hierarchy = "created_at"
    inlines = [RefundInline]


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdmin):
    list_display = ["payment", "amount", "currency", "status", "reason", "actor", "created_at"]
    list_filter = ["status"]
    list_select_related = ["payment"]
    search_fields = ["provider_ref", "payment__order__code", "reason"]
    date_hierarchy = "created_at"


@admin.register(ProviderEvent)
class ProviderEventAdmin(ReadOnlyAdmin):
    list_display = ["received_at", "provider", "type", "event_id", "outcome"]
    list_filter = ["provider", "type"]
    search_fields = ["event_id", "outcome"]
    date_hierarchy = "received_at"
