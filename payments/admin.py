"""Staff view of payments, refunds and provider events: read-only. Money moves only through the
payment services (refunds: the "Refund selected orders" action on orders; a refund the provider
failed: "Retry selected failed refunds" here, listed under "Needs attention")."""

from __future__ import annotations

from django.contrib import admin, messages

from ticketing import errors
from ticketing.admin_mixins import ReadOnlyAdmin
from ticketing.money import format_money
from ticketing.staff.admin_scope import CinemaScopedAdmin

from .models import Payment, ProviderEvent, Refund, RefundStatus

REFUND_PERMISSIONS = ("orders.change_order", "payments.change_payment")


def may_refund(request) -> bool:
    """One rule for every admin action that gives money back (whole orders, single tickets,
    a failed refund tried again): a ticket's money is money too."""
    return request.user.has_perms(REFUND_PERMISSIONS)


REFUND_COLUMNS = ["amount", "currency", "status", "failure_reason", "reason", "actor", "retry_of"]


class RefundInline(admin.TabularInline):
    model = Refund
    extra = 0
    can_delete = False
    fields = ["created_at", *REFUND_COLUMNS, "provider_ref"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Payment)
class PaymentAdmin(CinemaScopedAdmin, ReadOnlyAdmin):
    cinema_path = "order__screening__auditorium__cinema_id"
    list_display = [
        "order",
        "provider",
        "provider_ref",
        "status",
        "amount",
        "currency",
        "captured",
        "failure_reason",
        "created_at",
    ]
    list_filter = ["status", "provider"]
    list_select_related = ["order"]
    search_fields = ["provider_ref", "order__code", "order__customer_email"]
    date_hierarchy = "created_at"
    inlines = [RefundInline]

    @admin.display(description="Captured")
    def captured(self, obj):
        """What the provider says it took (differs from the amount on an `amount_mismatch`)."""
        if obj.captured_amount is None:
            return "-"
        return format_money(obj.captured_amount, obj.captured_currency or obj.currency)


class NeedsAttention(admin.SimpleListFilter):
    """Refunds the provider failed that nobody has retried yet: money a buyer is still owed."""

    title = "attention"
    parameter_name = "attention"

    def lookups(self, request, model_admin):
        return [("needed", "Needs attention (failed, not retried)")]

    def queryset(self, request, queryset):
        if self.value() == "needed":
            return queryset.filter(status=RefundStatus.FAILED, retries__isnull=True)
        return queryset


@admin.register(Refund)
class RefundAdmin(CinemaScopedAdmin, ReadOnlyAdmin):
    cinema_path = "payment__order__screening__auditorium__cinema_id"
    list_display = ["order_code", "payment", *REFUND_COLUMNS, "created_at"]
    list_filter = [NeedsAttention, "status"]
    list_select_related = ["payment__order", "retry_of"]
    search_fields = ["provider_ref", "payment__order__code", "reason", "failure_reason"]
    date_hierarchy = "created_at"
    actions = ["retry_refunds"]

    @admin.display(description="Order", ordering="payment__order__code")
    def order_code(self, obj):
        return obj.payment.order.code

    def has_retry_permission(self, request):
        return may_refund(request)

    @admin.action(description="Retry selected failed refunds", permissions=["retry"])
    def retry_refunds(self, request, queryset):
        """Ask the provider again, each with a fresh idempotency key (payments.refund_retry)."""
        from .refunds import refund_retry

        actor = f"user:{request.user.pk}"
        asked, still_failed, refused = [], [], []
        for refund_id, code in queryset.values_list("pk", "payment__order__code"):
            try:
                retry = refund_retry(refund_id=refund_id, actor=actor)
            except errors.DomainError as exc:
                refused.append(f"{code}: {exc.message}")
                continue
            money = format_money(retry.amount, retry.currency)
            if retry.status == RefundStatus.FAILED:
                still_failed.append(f"{code} ({money}): {retry.failure_reason}")
            else:
                asked.append(f"{code} ({money}, {retry.status})")
        if asked:
            self.message_user(
                request,
                f"{len(asked)} refund(s) asked again: " + ", ".join(asked),
                messages.SUCCESS,
            )
        if still_failed:
            self.message_user(
                request,
                "The provider refused again: " + "; ".join(still_failed),
                messages.ERROR,
            )
        if refused:
            self.message_user(request, "Not retried: " + "; ".join(refused), messages.WARNING)


@admin.register(ProviderEvent)
class ProviderEventAdmin(ReadOnlyAdmin):
    list_display = ["received_at", "provider", "type", "event_id", "outcome"]
    list_filter = ["provider", "type"]
    search_fields = ["event_id", "outcome"]
    date_hierarchy = "received_at"
