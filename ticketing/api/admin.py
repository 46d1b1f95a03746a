"""Read-only view of stored idempotent responses, for answering "did my retry book twice?"."""

from __future__ import annotations

from django.contrib import admin

from .models import IdempotencyRecord


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(admin.ModelAdmin):
    list_display = ["key", "partner", "method", "path", "status_code", "created_at"]
    list_filter = ["method", "status_code", "partner"]
    list_select_related = ["partner"]
    search_fields = ["key", "path"]
    date_hierarchy = "created_at"
    ordering = ["-created_at"]
    fields = [
        "partner",
        "key",
        "method",
        "path",
        "request_hash",
        "status_code",
        "response_body",
        "created_at",
    ]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
