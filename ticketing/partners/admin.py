"""Staff pages for partners and their API keys.

Staff add a key here (a name, its scopes, optionally its own rate limit): the raw key is shown
once, on the page that answers the form, and never again; only its prefix is visible after.
A live key's name, scopes and rate can be changed, and keys are revoked with an action. Every
write goes through the partners' services, so every server sees it at once. A partner is
created with `python manage.py create_partner NAME` and deactivated, never deleted.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, Q
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html

from .models import ApiKey, Partner, Scope
from .services import (
    api_key_create,
    api_key_revoke,
    api_key_update,
    partner_deactivate,
    partner_keys_invalidate,
)

CREATE_HELP = (
    "Partners are created with `python manage.py create_partner NAME`, which prints their first "
    "key once. Add more keys (one per integration) with “Add API key”: each is shown once. "
    "Revoke keys from the API keys list."
)


class ApiKeyForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        # `checkin` is a door scanner's alone, made by `create_scanner` with its cinema.
        choices=[choice for choice in Scope.choices if choice[0] != Scope.CHECKIN],
        widget=forms.CheckboxSelectMultiple,
        help_text="What the key may do. `read` and `book` suit a ticketing platform.",
    )

    class Meta:
        model = ApiKey
        fields = ["partner", "name", "scopes", "rate_per_minute"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "partner" in self.fields:
            self.fields["partner"].queryset = Partner.objects.filter(is_active=True)


class ApiKeyInline(admin.TabularInline):
    model = ApiKey
    extra = 0
    can_delete = False
    fields = [
        "name",
        "key_prefix",
        "scopes",
        "rate_per_minute",
        "created_at",
        "last_used_at",
        "revoked_at",
    ]
    readonly_fields = fields
    verbose_name_plural = "API keys"

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

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        partner_keys_invalidate(partner=obj)

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
        listing = reverse("admin:partners_apikey_changelist") + f"?partner__id__exact={obj.pk}"
        if not obj.is_active:
            return format_html('<a href="{}">This partner\'s keys</a> (deactivated).', listing)
        add = reverse("admin:partners_apikey_add") + f"?partner={obj.pk}"
        return format_html(
            '<a href="{}">Add a key for this partner</a> (shown once) · '
            '<a href="{}">Manage this partner\'s keys</a>',
            add,
            listing,
        )


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Added through `api_key_create` (the raw key shown once, on the answer to the form), changed
    through `api_key_update`, revoked through `api_key_revoke`; never deleted, for the record."""

    form = ApiKeyForm
    list_display = [
        "key_prefix",
        "name",
        "partner",
        "scopes",
        "rate_per_minute",
        "cinema",
        "created_at",
        "last_used_at",
        "revoked_at",
    ]
    list_filter = [RevokedFilter, "partner", "cinema"]
    list_select_related = ["partner", "cinema"]
    search_fields = ["prefix", "name", "partner__name"]
    actions = ["revoke_keys"]
    shown_once_template = "admin/partners/apikey/shown_once.html"

    def get_queryset(self, request):
        """Partners' keys are chain-wide; a door scanner's key belongs to its cinema: a member
        of other cinemas does not see (or revoke) it."""
        from django.db.models import Q

        from ticketing.staff import access

        keys = super().get_queryset(request)
        ids = access.cinema_ids_for(request.user)
        if ids is access.ALL:
            return keys
        return keys.filter(Q(cinema__isnull=True) | Q(cinema_id__in=ids))

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["partner", "name", "scopes", "rate_per_minute"]
        return [
            "key_prefix",
            "partner",
            "name",
            "scopes",
            "rate_per_minute",
            "created_at",
            "last_used_at",
            "revoked_at",
        ]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return ["key_prefix", "partner", "created_at", "last_used_at", "revoked_at"]

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.revoked_at is not None:
            return False  # a revoked key stays as it was revoked
        if obj is not None and obj.cinema_id is not None:
            return False  # a door scanner's key: revoke it and make another (create_scanner)
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False  # revoked keys stay, for the record

    def has_revoke_permission(self, request):
        return request.user.has_perm("partners.change_apikey")

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            api_key_update(
                key=obj,
                name=data["name"],
                scopes=data["scopes"],
                rate_per_minute=data.get("rate_per_minute"),
            )
            return
        key, raw = api_key_create(
            partner=data["partner"],
            name=data["name"],
            scopes=data["scopes"],
            rate_per_minute=data.get("rate_per_minute"),
        )
        for field in ("pk", "prefix", "scopes", "created_at"):  # the admin logs and shows `obj`
            setattr(obj, field, getattr(key, field))
        obj.raw_key = raw  # for response_add only; never stored

    def response_add(self, request, obj, post_url_continue=None):
        """The one page that shows the key: answered to the form's post, not redirected to,
        so the key is never in a URL, a session or a cache."""
        response = TemplateResponse(
            request,
            self.shown_once_template,
            {
                **self.admin_site.each_context(request),
                "title": "Copy the new API key now",
                "opts": self.opts,
                "key": obj,
                "raw_key": obj.raw_key,
                "partner_url": reverse("admin:partners_partner_change", args=[obj.partner_id]),
                "keys_url": reverse("admin:partners_apikey_changelist"),
            },
        )
        response["Cache-Control"] = "no-store"
        return response

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
        text = f"{len(live)} key(s) revoked; every server refuses them now."
        if skipped:
            text += f" {skipped} already revoked."
        self.message_user(request, text, messages.SUCCESS)
