"""Admin building blocks shared by the apps."""

from django.contrib import admin


class ReadOnlyAdminMixin:
    """For records only the service layer writes (holds, claims, orders, outbox, idempotency):
    staff look, and act through admin actions that call services."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    pass
