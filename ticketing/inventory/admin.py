"""Read-only staff views of holds and seat claims, for answering "why is this seat taken?".

Nothing here writes: holds and claims change only through the inventory services. A hold's
browser session key is never shown, since it is the buyer's session id.
"""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone

from ticketing.admin_mixins import ReadOnlyAdmin

from .models import Hold, SeatClaim


class HoldLiveFilter(admin.SimpleListFilter):
    title = "live now"
    parameter_name = "live"

    def lookups(self, request, model_admin):
        return [("yes", "Live"), ("no", "Dead")]

    def queryset(self, request, queryset):
        live = Q(status="active", expires_at__gt=timezone.now())
        if self.value() == "yes":
            return queryset.filter(live)
        if self.value() == "no":
            return queryset.exclude(live)
        return queryset


class ClaimStateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("sold", "Sold"), ("held", "Held (live)"), ("dead", "Dead, awaiting sweep")]

    def queryset(self, request, queryset):
        now = timezone.now()
        if self.value() == "sold":
            return queryset.filter(expires_at__isnull=True)
        if self.value() == "held":
            return queryset.filter(expires_at__gt=now)
        if self.value() == "dead":
            return queryset.filter(expires_at__lte=now)
        return queryset


@admin.register(Hold)
class HoldAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "screening",
        "owner",
        "status",
        "live",
        "seat_count",
        "created_at",
        "expires_at",
    ]
    list_filter = ["status", HoldLiveFilter, "partner", "screening__auditorium__cinema"]
    list_select_related = ["screening__film", "screening__auditorium__cinema", "partner"]
    date_hierarchy = "created_at"
    search_fields = ["id"]
    fields = [
        "id",
        "screening",
        "owner",
        "status",
        "live",
        "seat_ids",
        "created_at",
        "expires_at",
        "extended_at",
    ]
    readonly_fields = fields
    ordering = ["-created_at"]

    def get_search_results(self, request, queryset, search_term):
        # Holds are found by their full id (a UUID), as partners quote it.
        term = search_term.strip()
        if not term:
            return queryset, False
        try:
            return queryset.filter(pk=term), False
        except (ValidationError, ValueError):  # not a UUID
            return queryset.none(), False

    @admin.display(description="Held by")
    def owner(self, obj):
        return f"partner {obj.partner}" if obj.partner_id else "storefront session"

    @admin.display(description="Live", boolean=True)
    def live(self, obj):
        return obj.is_live()

    @admin.display(description="Seats")
    def seat_count(self, obj):
        return len(obj.seat_ids or [])


@admin.register(SeatClaim)
class SeatClaimAdmin(ReadOnlyAdmin):
    list_display = ["seat", "screening", "state", "hold_id", "order", "expires_at", "created_at"]
    list_filter = [ClaimStateFilter, "screening__auditorium__cinema"]
    list_select_related = ["seat", "screening__film", "screening__auditorium__cinema", "order"]
    search_fields = ["order__code"]
    fields = ["screening", "seat", "state", "hold", "order", "expires_at", "created_at"]
    readonly_fields = fields
    ordering = ["-created_at"]

    @admin.display(description="State")
    def state(self, obj):
        if obj.expires_at is None:
            return "sold"
        return "held" if obj.expires_at > timezone.now() else "dead (awaiting sweep)"
