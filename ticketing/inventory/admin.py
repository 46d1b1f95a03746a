"""Read-only staff views of holds and seat claims, for answering "why is this seat taken?".

Nothing here writes: holds and claims change only through the inventory services. A hold's
browser session key is never shown, since it is the buyer's session id.
"""

from __future__ import annotations

import re

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import HttpResponseRedirect
from django.utils import timezone

from ticketing import errors
from ticketing.admin_mixins import ReadOnlyAdmin
from ticketing.screenings.models import Seat
from ticketing.staff.admin_scope import CinemaScopedAdmin

from .allocations import allocation_create
from .models import Allocation, Hold, SeatClaim


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
class HoldAdmin(CinemaScopedAdmin, ReadOnlyAdmin):
    cinema_path = "screening__auditorium__cinema_id"
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
class SeatClaimAdmin(CinemaScopedAdmin, ReadOnlyAdmin):
    cinema_path = "screening__auditorium__cinema_id"
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


class AllocationForm(forms.ModelForm):
    """Set seats aside: name them by label ("C1 C2 C3", in the screening's auditorium), or ask
    for the best N together. The service decides (all or nothing, only free seats)."""

    labels = forms.CharField(
        required=False, help_text="Seat labels separated by spaces or commas, e.g. C1 C2 C3."
    )
    quantity = forms.IntegerField(required=False, min_value=1, max_value=500)

    class Meta:
        model = Allocation
        fields = ["screening", "partner", "release_at"]

    def clean(self):
        data = super().clean()
        screening = data.get("screening")
        labels = [x for x in re.split(r"[\s,]+", data.get("labels") or "") if x]
        if bool(labels) == bool(data.get("quantity")):
            raise ValidationError("Give seat labels or a quantity (one of them).")
        if screening and labels:
            by_label = {
                f"{row}{number}".upper(): pk
                for pk, row, number in Seat.objects.filter(
                    auditorium_id=screening.auditorium_id
                ).values_list("pk", "row_label", "number")
            }
            unknown = [x for x in labels if x.upper() not in by_label]
            if unknown:
                raise ValidationError(f"Not seats of this auditorium: {', '.join(unknown)}.")
            data["seat_ids"] = [by_label[x.upper()] for x in labels]
        return data


@admin.register(Allocation)
class AllocationAdmin(CinemaScopedAdmin, admin.ModelAdmin):
    """Seats set aside for partners. Made through `allocations.allocation_create`; never edited
    afterwards (its seats are claims: a new allocation, or its release time, decides)."""

    cinema_path = "screening__auditorium__cinema_id"

    form = AllocationForm
    list_display = ["screening", "partner", "seat_count", "release_at", "released_notified_at"]
    list_filter = ["partner"]
    list_select_related = ["screening__film", "partner"]
    date_hierarchy = "release_at"

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="Seats")
    def seat_count(self, obj):
        return len(obj.seat_ids)

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        try:
            made = allocation_create(
                screening_id=data["screening"].pk,
                partner=data["partner"],
                release_at=data["release_at"],
                seat_ids=data.get("seat_ids"),
                quantity=data.get("quantity"),
            )
        except errors.DomainError as refused:
            self.message_user(request, f"Not set aside: {refused.message}", messages.ERROR)
            raise _Refused from refused
        obj.pk = made.pk

    def add_view(self, request, form_url="", extra_context=None):
        try:
            return super().add_view(request, form_url, extra_context)
        except _Refused:
            return HttpResponseRedirect(request.path)


class _Refused(Exception):
    """The service refused the allocation: nothing was kept, the page is shown again."""
