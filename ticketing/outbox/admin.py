"""The outbox for staff: what is waiting, what was sent, what keeps failing, and a retry.

Rows are read-only. The one write is the retry action, a conditional update from `failed` back
to `pending` (attempts reset); the relay then delivers it like any other pending message, still
once, since delivery claims the row itself.
"""

from __future__ import annotations

from django.contrib import admin, messages

from ticketing.admin_mixins import ReadOnlyAdmin

from .models import OutboxMessage
from .services import messages_retry


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdmin):
    list_display = ["topic", "dedupe_key", "status", "attempts", "created_at", "sent_at", "error"]
    list_filter = ["status", "topic"]
    search_fields = ["dedupe_key"]
    date_hierarchy = "created_at"
    ordering = ["-created_at"]
    fields = [
        "topic",
        "dedupe_key",
        "status",
        "attempts",
        "payload",
        "last_error",
        "created_at",
        "claimed_at",
        "sent_at",
    ]
    readonly_fields = fields
    actions = ["retry_failed"]

    def has_retry_permission(self, request):
        return request.user.has_perm("outbox.change_outboxmessage")

    @admin.display(description="Last error")
    def error(self, obj):
        return (obj.last_error[:80] + "…") if len(obj.last_error) > 80 else obj.last_error

    @admin.action(description="Retry selected failed messages", permissions=["retry"])
    def retry_failed(self, request, queryset):
        retried = messages_retry(message_ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(
            request,
            f"{retried} failed message(s) queued again. Only failed messages are retried.",
            messages.SUCCESS,
        )
