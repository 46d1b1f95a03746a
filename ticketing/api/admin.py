"""Read-only view of stored idempotent responses, for answering "did my retry book twice?"."""

from __future__ import annotations

from django.contrib import admin

from ticketing.admin_mixins import ReadOnlyAdmin

from .models import IdempotencyRecord


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(ReadOnlyAdmin):
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
