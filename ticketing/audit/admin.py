from django.contrib import admin

from ticketing.admin_mixins import ReadOnlyAdmin
from ticketing.staff.admin_scope import CinemaScopedAdmin

from .models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(CinemaScopedAdmin, ReadOnlyAdmin):
    cinema_path = "cinema_id"
    list_display = ("at", "actor_name", "action", "cinema", "summary")
    list_filter = ("action", "cinema")
    search_fields = ("summary", "actor_name", "object_id", "action")
    date_hierarchy = "at"
