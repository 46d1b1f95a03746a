"""Staff look at admissions, the doors' log and, first of all, tickets let in at two doors.

Read-only: only the door's scans write these (ticketing/checkin/services.py). Each list holds
the records of the member's cinemas alone."""

from __future__ import annotations

from django.contrib import admin

from ticketing.admin_mixins import ReadOnlyAdmin
from ticketing.staff.admin_scope import CinemaScopedAdmin

from .models import CheckIn, CheckInConflict, Scan


@admin.register(CheckInConflict)
class CheckInConflictAdmin(CinemaScopedAdmin, ReadOnlyAdmin):
    """A ticket admitted offline at one door and at another: a copied ticket, or a party that
    split up. The admission is the first scan by time; this row is the other."""

    cinema_path = "screening__auditorium__cinema_id"
    list_display = (
        "created_at",
        "screening",
        "seat",
        "admitted_door",
        "admitted_at",
        "door",
        "scanned_at",
    )
    list_select_related = ("ticket", "admission", "screening__film", "screening__auditorium")
    list_filter = ("screening__auditorium__cinema",)
    search_fields = ("ticket__code", "ticket__order__code", "door", "admission__door")
    date_hierarchy = "created_at"

    @admin.display(description="Seat")
    def seat(self, obj):
        return obj.ticket.seat_label

    @admin.display(description="Admitted at door")
    def admitted_door(self, obj):
        return obj.admission.door or "—"

    @admin.display(description="Admitted at")
    def admitted_at(self, obj):
        return obj.admission.admitted_at


@admin.register(CheckIn)
class CheckInAdmin(CinemaScopedAdmin, ReadOnlyAdmin):
    cinema_path = "screening__auditorium__cinema_id"
    list_display = ("admitted_at", "screening", "seat", "door", "device", "user", "offline")
    list_select_related = ("ticket", "screening__film", "screening__auditorium", "device", "user")
    list_filter = ("offline", "screening__auditorium__cinema")
    search_fields = ("ticket__code", "ticket__order__code", "door")
    date_hierarchy = "admitted_at"

    @admin.display(description="Seat")
    def seat(self, obj):
        return obj.ticket.seat_label


@admin.register(Scan)
class ScanAdmin(CinemaScopedAdmin, ReadOnlyAdmin):
    cinema_path = "cinema_id"
    list_display = ("recorded_at", "result", "door", "device", "user", "offline", "scanned_at")
    list_select_related = ("device", "user")
    list_filter = ("result", "offline", "cinema")
    search_fields = ("door", "nonce", "ticket__code")
    date_hierarchy = "recorded_at"
