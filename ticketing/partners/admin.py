"""Staff pages for partners and their API keys.

Keys are made only by `python manage.py create_partner NAME` (or `--new-key` for another key),
which prints the key once: the admin never sees a raw key, only its prefix. Revoking goes
through `api_key_revoke`.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import Count, Q
from django.urls import reverse
from django.utils.html import format_html

from .models import ApiKey, Partner
from .services import api_key_revoke, partner_deactivate

CREATE_HELP = (
    "API keys are created with `python manage.py create_partner NAME` (a new partner) or "
    "`python manage.py create_partner NAME --new-key` (another key), which print the key once. "
    "Revoke keys from the API keys list."
)


class ApiKeyInline(admin.TabularInline):
    model = ApiKey
    extra = 0
    can_delete = False
    fields = ["key_prefix", "scopes", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = fields
    verbose_name_plural = "API keys (create with manage.py create_partner NAME --new-key)"

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="Key")
    def key_prefix(self, obj):
        return f"mq_{obj.prefix}_…"


class RevokedFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("live", "Live"), ("revoked", "Revoked")]

    def queryset(self, request, queryset):
        if self.value() == "live":
            return queryset.filter(revoked_at__isnull=True)
        if self.value() == "revoked":
            return queryset.filter(revoked_at__isnull=False)
        return queryset


@admin.register(Partner)
class PartnerAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "commission_bps", "is_active", "live_keys", "created_at"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name"]
    fields = [
        "name",
        "kind",
        "commission_bps",
        "webhook_url",
        "webhook_secret_set",
        "is_active",
        "keys",
        "created_at",
    ]
    readonly_fields = ["webhook_secret_set", "keys", "created_at"]
    inlines = [ApiKeyInline]
    actions = ["revoke_all_keys", "deactivate_partners"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(live_key_count=Count("api_keys", filter=Q(api_keys__revoked_at__isnull=True)))
        )

    def has_add_permission(self, request):
        return False  # manage.py create_partner makes the partner with its first key

    def has_delete_permission(self, request, obj=None):
        return False  # its orders must stay attributable: deactivate instead

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    @admin.action(description="Deactivate selected partners (keys revoked)", permissions=["change"])
    def deactivate_partners(self, request, queryset):
        partners = list(queryset.filter(is_active=True))
        for partner in partners:
            partner_deactivate(partner=partner)
        self.message_user(
            request,
            f"{len(partners)} partner(s) deactivated; their keys no longer work. Their orders "
            "are kept.",
            messages.SUCCESS,
        )

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "subtitle": CREATE_HELP}
        return super().changelist_view(request, extra_context)

    @admin.action(description="Revoke all keys of selected partners", permissions=["change"])
    def revoke_all_keys(self, request, queryset):
        keys = list(ApiKey.objects.filter(partner__in=queryset, revoked_at__isnull=True))
        for key in keys:
            api_key_revoke(key=key)
        self.message_user(request, f"{len(keys)} key(s) revoked.", messages.SUCCESS)

    @admin.display(description="Live keys", ordering="live_key_count")
    def live_keys(self, obj):
        return obj.live_key_count

    @admin.display(description="Webhook signing secret")
    def webhook_secret_set(self, obj):
        return "set (not shown)" if obj.webhook_secret else "not set"

    @admin.display(description="Keys")
    def keys(self, obj):
        if not obj.pk:
            return CREATE_HELP
        url = reverse("admin:partners_apikey_changelist") + f"?partner__id__exact={obj.pk}"
        return format_html('<a href="{}">Manage this partner\'s keys</a>. {}', url, CREATE_HELP)


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Read-only, apart from revoking: keys are only ever shown once, when created."""

    list_display = ["key_prefix", "partner", "scopes", "created_at", "last_used_at", "revoked_at"]
    list_filter = [RevokedFilter, "partner"]
    list_select_related = ["partner"]
    search_fields = ["prefix", "partner__name"]
    fields = ["key_prefix", "partner", "scopes", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = fields
    actions = ["revoke_keys"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # revoked keys stay, for the record

    def has_revoke_permission(self, request):
        return request.user.has_perm("partners.change_apikey")

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "subtitle": CREATE_HELP}
        return super().changelist_view(request, extra_context)

    @admin.display(description="Key", ordering="prefix")
    def key_prefix(self, obj):
        return f"mq_{obj.prefix}_…"

    @admin.action(description="Revoke selected keys", permissions=["revoke"])
    def revoke_keys(self, request, queryset):
        live = list(queryset.filter(revoked_at__isnull=True))
        for key in live:
            api_key_revoke(key=key)
        skipped = queryset.count() - len(live)
        text = f"{len(live)} key(s) revoked."
        if skipped:
            text += f" {skipped} already revoked."
        self.message_user(request, text, messages.SUCCESS)
