"""Staff view of orders: read-only, with cancelling done by `order_cancel`, like everywhere else.

Orders are never added, edited or deleted here: their status, tickets and history change only
through the order services, which record who did what and put seats back on sale.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import Count

from payments.admin import may_refund
from ticketing import errors
from ticketing.admin_mixins import ReadOnlyAdmin
from ticketing.money import format_money
from ticketing.staff.admin_scope import CinemaScopedAdmin

from .models import Order, OrderStatus, OrderStatusChange, Ticket
from .services import order_cancel


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False


class TicketInline(ReadOnlyInline):
    model = Ticket
    fields = [
        "seat_label",
        "seat_type",
        "ticket_type_name",
        "price",
        "surcharge",
        "code_hint",
        "checked_in_at",
    ]
    readonly_fields = fields

    @admin.display(description="Ticket code")
    def code_hint(self, obj):
        # The code is the ticket itself (it is in the QR): staff see enough to match it.
        return f"{obj.code[:4]}…" if obj.code else ""


class OrderStatusChangeInline(ReadOnlyInline):
    model = OrderStatusChange
    fields = ["at", "from_status", "to_status", "actor", "reason"]
    readonly_fields = fields
    verbose_name_plural = "Status history"


@admin.register(Order)
class OrderAdmin(CinemaScopedAdmin, ReadOnlyAdmin):
    cinema_path = "screening__auditorium__cinema_id"
    list_display = [
        "code",
        "status",
        "screening",
        "cinema",
        "partner",
        "customer_email",
        "ticket_count",
        "amount",
        "created_at",
        "paid_at",
    ]
    list_filter = ["status", "screening__auditorium__cinema", "partner"]
    list_select_related = ["screening__film", "screening__auditorium__cinema", "partner"]
    search_fields = ["code", "customer_email"]
    date_hierarchy = "created_at"
    inlines = [TicketInline, OrderStatusChangeInline]
    actions = ["cancel_orders", "refund_orders"]
    fieldsets = [
        (None, {"fields": ["code", "status", "screening", "partner", "hold", "promo_code"]}),
        ("Customer", {"fields": ["customer_name", "customer_email", "language"]}),
        ("Money", {"fields": ["currency", "subtotal", "booking_fee", "discount", "total"]}),
        ("Settled by the partner", {"fields": ["partner_reference", "commission"]}),
        ("Times", {"fields": ["created_at", "expires_at", "paid_at"]}),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(tickets_total=Count("tickets"))

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in Order._meta.fields]

    def has_cancel_permission(self, request):
        return request.user.has_perm("orders.change_order")

    def has_refund_permission(self, request):
        return may_refund(request)

    @admin.display(description="Cinema", ordering="screening__auditorium__cinema__name")
    def cinema(self, obj):
        return obj.screening.auditorium.cinema.name

    @admin.display(description="Tickets", ordering="tickets_total")
    def ticket_count(self, obj):
        return obj.tickets_total

    @admin.display(description="Total", ordering="total")
    def amount(self, obj):
        return format_money(obj.total, obj.currency)

    @admin.action(description="Cancel selected orders", permissions=["cancel"])
    def cancel_orders(self, request, queryset):
        actor = f"user:{request.user.pk}"
        cancelled, paid, already, failed = 0, 0, 0, []
        for order_id, code, status in queryset.values_list("pk", "code", "status"):
            if status == OrderStatus.CANCELLED:
                already += 1
                continue
            try:
                order_cancel(order_id=order_id, actor=actor, reason="cancelled by staff (admin)")
            except errors.DomainError as exc:
                failed.append(f"{code}: {exc.message}")
                continue
            cancelled += 1
            paid += status == OrderStatus.PAID
        if cancelled:
            text = f"{cancelled} order(s) cancelled; their seats are back on sale."
            if paid:
                text += f" {paid} of them were paid: check that their payments are refunded."
            self.message_user(request, text, messages.SUCCESS)
        if already:
            self.message_user(request, f"{already} order(s) were already cancelled.", messages.INFO)
        if failed:
            self.message_user(request, "Not cancelled: " + "; ".join(failed), messages.ERROR)

    @admin.action(description="Refund selected orders", permissions=["refund"])
    def refund_orders(self, request, queryset):
        """Whole orders, through their payment's provider; seats go back on sale at once."""
        from payments.refunds import refund_create

        actor = f"user:{request.user.pk}"
        refunded, failed = [], []
        for order_id, code in queryset.values_list("pk", "code"):
            try:
                refund = refund_create(
                    order_id=order_id, actor=actor, reason="refunded by staff (admin)"
                )
            except errors.DomainError as exc:
                failed.append(f"{code}: {exc.message}")
                continue
            refunded.append(f"{code} ({format_money(refund.amount, refund.currency)})")
        if refunded:
            self.message_user(
                request,
                f"Refunded {len(refunded)} order(s); their seats are back on sale: "
                + ", ".join(refunded),
                messages.SUCCESS,
            )
        if failed:
            self.message_user(request, "Not refunded: " + "; ".join(failed), messages.ERROR)


@admin.register(Ticket)
class TicketAdmin(CinemaScopedAdmin, ReadOnlyAdmin):
    """Single tickets, for refunding one seat of an order and checking what was sold."""

    cinema_path = "order__screening__auditorium__cinema_id"

    list_display = [
        "order",
        "seat_label",
        "ticket_type_name",
        "price_shown",
        "screening",
        "refunded_at",
        "checked_in_at",
    ]
    list_filter = [
        "order__screening__auditorium__cinema",
        ("refunded_at", admin.EmptyFieldListFilter),
    ]
    search_fields = ["order__code", "order__customer_email", "seat_label"]
    list_select_related = ["order__screening__film"]
    actions = ["refund_tickets"]

    @admin.display(description="Price")
    def price_shown(self, obj):
        return format_money(obj.price + obj.surcharge, obj.order.currency)

    @admin.display(description="Screening")
    def screening(self, obj):
        return obj.order.screening.film.title

    def has_refund_permission(self, request):
        return may_refund(request)  # the same as refunding the whole order

    @admin.action(description="Refund selected tickets", permissions=["refund"])
    def refund_tickets(self, request, queryset):
        """One refund per order for the tickets chosen from it; their seats go back on sale."""
        from payments.refunds import refund_create

        by_order: dict = {}
        for ticket_id, order_id, code in queryset.values_list("pk", "order_id", "order__code"):
            by_order.setdefault((order_id, code), []).append(ticket_id)
        actor = f"user:{request.user.pk}"
        for (order_id, code), ticket_ids in by_order.items():
            try:
                refund = refund_create(
                    order_id=order_id,
                    ticket_ids=ticket_ids,
                    actor=actor,
                    reason="refunded by staff (admin)",
                )
            except errors.DomainError as exc:
                self.message_user(request, f"{code}: not refunded: {exc.message}", messages.ERROR)
                continue
            self.message_user(
                request,
                f"{code}: {len(ticket_ids)} ticket(s) refunded ({format_money(refund.amount, refund.currency)}); "
                "their seats are back on sale.",
                messages.SUCCESS,
            )
