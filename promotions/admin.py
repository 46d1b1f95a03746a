"""Staff pages for campaigns, their promo codes and what the codes gave.

Every write goes through the promotions services (`campaigns.campaign_create/_update`,
`codes.code_create/_update/codes_generate`): the same checks as the partner API, a campaign's
`spent` and a code's `uses` never written from a form (the redemptions move them, by
conditional statements). Nothing is deleted here: a campaign or a code is ended by its dates,
and redemptions are the record of what was given, read only.

A campaign's page links to *Generate codes*: N unique codes with the same terms, answered as a
CSV download; the codes of selected campaigns, or selected codes, download as CSV too.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from ticketing import errors
from ticketing.admin_mixins import ReadOnlyAdmin
from ticketing.money import format_money
from ticketing.partners.models import Partner, PartnerKind
from ticketing.staff.admin_scope import CinemaScopedAdmin

from . import campaigns, codes, exports
from .models import Campaign, PromoCode, Redemption

WEEKDAYS = [
    (1, "Monday"),
    (2, "Tuesday"),
    (3, "Wednesday"),
    (4, "Thursday"),
    (5, "Friday"),
    (6, "Saturday"),
    (7, "Sunday"),
]


def _refusal_to_form(form: forms.BaseForm, refusal: errors.DomainError) -> None:
    """A service's refusal shown beside the field it names (else above the form)."""
    field = refusal.details.get("field")
    form.add_error(field if field in form.fields else None, refusal.message)


def csv_download(rows_csv: str, filename: str) -> HttpResponse:
    response = HttpResponse(rows_csv, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"  # codes are worth money
    return response


# ---- campaigns -------------------------------------------------------------------------------
class CampaignForm(forms.ModelForm):
    class Meta:
        model = Campaign
        fields = [
            "name",
            "studio",
            "platform",
            "funder",
            "films",
            "starts_at",
            "ends_at",
            "presale_opens_at",
            "currency",
            "budget",
            "banner_title",
            "banner_text",
            "banner_image",
            "banner_link",
            "banner_approved",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        active = Partner.objects.filter(is_active=True)
        self.fields["studio"].queryset = active.filter(kind=PartnerKind.STUDIO)
        self.fields["platform"].queryset = active.filter(kind=PartnerKind.PLATFORM)
        if self.instance.pk:  # a partner deactivated since stays shown on its campaigns
            self.fields["studio"].queryset |= Partner.objects.filter(pk=self.instance.studio_id)
            if self.instance.platform_id:
                self.fields["platform"].queryset |= Partner.objects.filter(
                    pk=self.instance.platform_id
                )

    def _post_clean(self):
        super()._post_clean()
        if self.errors:
            return
        partners = not self.instance.pk or bool({"studio", "platform"} & set(self.changed_data))
        try:
            campaigns.campaign_check(self.instance, partners=partners)
        except errors.DomainError as refusal:
            _refusal_to_form(self, refusal)


class ServiceWrites:
    """`save_model` calls a service; a refusal it raises (a race the form could not see)
    comes back as a message on the form's page, with nothing saved."""

    def save_related(self, request, form, formsets, change):
        """Many-to-many fields are written by the service, with the rest."""

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except errors.DomainError as refusal:
            self.message_user(request, f"Not saved: {refusal.message}", messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def has_delete_permission(self, request, obj=None):
        return False

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions


def _changes(form: forms.ModelForm, change: bool) -> dict:
    data = form.cleaned_data
    names = form.changed_data if change else list(data)
    changes = {name: data[name] for name in names if name in data}
    if "banner_image" in changes and not changes["banner_image"]:  # none, or "clear" ticked
        changes["banner_image"] = ""
    return changes


@admin.register(Campaign)
class CampaignAdmin(ServiceWrites, admin.ModelAdmin):
    form = CampaignForm
    list_display = [
        "name",
        "studio",
        "platform",
        "starts_at",
        "ends_at",
        "budget_shown",
        "spent_shown",
        "left_shown",
        "code_count",
        "running",
        "report_link",
    ]
    list_filter = ["studio", "platform", "funder"]
    list_select_related = ["studio", "platform"]
    search_fields = ["name", "banner_title"]
    filter_horizontal = ["films"]
    readonly_fields = ["spent_shown", "left_shown", "banner_preview", "code_links", "created_at"]
    fieldsets = [
        (None, {"fields": ["name", "studio", "platform", "funder", "films"]}),
        ("Dates", {"fields": ["starts_at", "ends_at", "presale_opens_at"]}),
        (
            "Budget (minor units: 150000 is 1,500.00)",
            {"fields": ["currency", "budget", "spent_shown", "left_shown"]},
        ),
        (
            "Banner (home page and its films' pages, while it runs)",
            {
                "fields": [
                    "banner_title",
                    "banner_text",
                    "banner_image",
                    "banner_preview",
                    "banner_link",
                    "banner_approved",
                ]
            },
        ),
        ("Codes", {"fields": ["code_links", "created_at"]}),
    ]
    actions = ["download_codes"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(codes_made=Count("codes"))

    @admin.display(description="Report")
    def report_link(self, obj):
        return format_html(
            '<a href="{}">Sales report</a>', reverse("staff-campaign-report", args=[obj.pk])
        )

    def save_model(self, request, obj, form, change):
        changes = _changes(form, change)
        if change:
            saved = campaigns.campaign_update(campaign_id=obj.pk, **changes)
        else:
            saved = campaigns.campaign_create(**changes)
        obj.pk = saved.pk  # the admin logs and redirects with `obj`

    # -- what the lists and the page show
    @admin.display(description="Budget", ordering="budget")
    def budget_shown(self, obj):
        return format_money(obj.budget, obj.currency)

    @admin.display(description="Spent", ordering="spent")
    def spent_shown(self, obj):
        return format_money(obj.spent, obj.currency) if obj.pk else "-"

    @admin.display(description="Left")
    def left_shown(self, obj):
        return format_money(obj.budget_left, obj.currency) if obj.pk else "-"

    @admin.display(description="Codes", ordering="codes_made")
    def code_count(self, obj):
        return getattr(obj, "codes_made", None)

    @admin.display(description="Running", boolean=True)
    def running(self, obj):
        return obj.is_running()

    @admin.display(description="Image as uploaded")
    def banner_preview(self, obj):
        if not obj.banner_image:
            return "-"
        return format_html(
            '<img src="{}" alt="" height="120">',  # an attribute: the CSP refuses style=""
            obj.banner_image.url,
        )

    @admin.display(description="Its codes")
    def code_links(self, obj):
        if not obj.pk:
            return "Save the campaign first, then generate its codes."
        listing = (
            reverse("admin:promotions_promocode_changelist") + f"?campaign__id__exact={obj.pk}"
        )
        return format_html(
            '<a href="{}">Generate codes</a> (a CSV download) · '
            '<a href="{}">Its {} codes</a> · <a href="{}">Download them as CSV</a>',
            reverse("admin:promotions_campaign_generate", args=[obj.pk]),
            listing,
            obj.codes.count(),
            reverse("admin:promotions_campaign_codes_csv", args=[obj.pk]),
        )

    # -- generating codes, downloading them
    def get_urls(self):
        own = [
            path(
                "<int:pk>/generate/",
                self.admin_site.admin_view(self.generate_view),
                name="promotions_campaign_generate",
            ),
            path(
                "<int:pk>/codes.csv",
                self.admin_site.admin_view(self.codes_csv_view),
                name="promotions_campaign_codes_csv",
            ),
        ]
        return own + super().get_urls()

    def generate_view(self, request, pk: int):
        if not request.user.has_perm("promotions.add_promocode"):
            raise PermissionDenied
        campaign = get_object_or_404(Campaign, pk=pk)
        form = GenerateCodesForm(request.POST or None, campaign=campaign)
        if request.method == "POST" and form.is_valid():
            try:
                made = codes.codes_generate(campaign=campaign, **form.service_terms())
            except errors.DomainError as refusal:
                _refusal_to_form(form, refusal)
            else:
                self.log_change(request, campaign, f"Generated {len(made)} codes.")
                return csv_download(
                    exports.codes_csv(made), f"campaign-{campaign.pk}-new-codes.csv"
                )
        context = {
            **self.admin_site.each_context(request),
            "title": f"Generate codes for {campaign}",
            "opts": self.opts,
            "campaign": campaign,
            "form": form,
            "change_url": reverse("admin:promotions_campaign_change", args=[campaign.pk]),
        }
        return TemplateResponse(request, "admin/promotions/campaign/generate.html", context)

    def codes_csv_view(self, request, pk: int):
        if not request.user.has_perm("promotions.view_promocode"):
            raise PermissionDenied
        campaign = get_object_or_404(Campaign, pk=pk)
        return csv_download(
            exports.codes_csv(campaign.codes.order_by("created_at", "pk")),
            f"campaign-{campaign.pk}-codes.csv",
        )

    @admin.action(description="Download the codes of selected campaigns as CSV")
    def download_codes(self, request, queryset):
        chosen = PromoCode.objects.filter(campaign__in=queryset).order_by("campaign", "pk")
        return csv_download(exports.codes_csv(chosen), "codes.csv")


# ---- codes -----------------------------------------------------------------------------------
class CodeTermsForm(forms.ModelForm):
    """A code's terms, as staff type them: weekdays ticked, ticket types as a list of codes."""

    weekdays = forms.TypedMultipleChoiceField(
        choices=WEEKDAYS,
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Empty: any day. In the cinema's own time zone.",
    )
    ticket_types = forms.CharField(
        required=False,
        help_text="Ticket type codes separated by commas (adult, student); empty: any.",
    )

    class Meta:
        model = PromoCode
        fields = list(codes.EDITABLE)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["ticket_types"] = ", ".join(self.instance.ticket_types or [])

    def _post_clean(self):
        super()._post_clean()
        if {"kind", "value", "max_uses"} & set(self.errors):
            return
        code = self.instance
        try:
            codes.terms_check(code.kind, code.value, code.max_uses, code.uses)
        except errors.DomainError as refusal:
            _refusal_to_form(self, refusal)

    def clean_ticket_types(self):
        raw = self.cleaned_data.get("ticket_types") or ""
        return [part.strip() for part in raw.split(",") if part.strip()]

    def clean(self):
        data = super().clean()
        starts, ends = data.get("valid_from"), data.get("valid_until")
        if starts and ends and ends <= starts:
            self.add_error("valid_until", "Ends after it starts.")
        return data


class PromoCodeForm(CodeTermsForm):
    class Meta(CodeTermsForm.Meta):
        fields = ["campaign", "code", *CodeTermsForm.Meta.fields]

    def clean_code(self):
        text = codes.normalise(self.cleaned_data.get("code", ""))
        if not text.isalnum():
            raise ValidationError("A code is letters and digits (spaces and dashes are dropped).")
        if self.instance.pk is None and PromoCode.objects.filter(code=text).exists():
            raise ValidationError("That code exists already.")
        return text


class GenerateCodesForm(CodeTermsForm):
    count = forms.IntegerField(min_value=1, max_value=codes.MAX_BATCH)
    prefix = forms.CharField(
        max_length=codes.MAX_PREFIX,
        required=False,
        help_text="Letters and digits before the random part, e.g. MI5.",
    )

    class Meta(CodeTermsForm.Meta):
        fields = CodeTermsForm.Meta.fields

    def __init__(self, *args, campaign: Campaign, **kwargs):
        super().__init__(*args, instance=PromoCode(campaign=campaign), **kwargs)
        self.order_fields(["count", "prefix"])
        self.fields["max_uses"].initial = 1  # single-use, unless said otherwise
        own = campaign.films.all()
        if own:
            self.fields["films"].queryset = own
        self.fields["screenings"].queryset = self.fields["screenings"].queryset.filter(film__in=own)

    def service_terms(self) -> dict:
        return {
            name: value
            for name, value in self.cleaned_data.items()
            if name in {"count", "prefix", *codes.EDITABLE}
        }


class UsedFilter(admin.SimpleListFilter):
    title = "uses"
    parameter_name = "used"

    def lookups(self, request, model_admin):
        return [("yes", "Used"), ("no", "Never used")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(uses__gt=0)
        if self.value() == "no":
            return queryset.filter(uses=0)
        return queryset


@admin.register(PromoCode)
class PromoCodeAdmin(ServiceWrites, admin.ModelAdmin):
    form = PromoCodeForm
    list_display = [
        "code",
        "campaign",
        "kind",
        "value",
        "uses",
        "max_uses",
        "valid_until",
        "opens_presale",
    ]
    list_filter = ["campaign", "kind", UsedFilter, "opens_presale"]
    list_select_related = ["campaign"]
    search_fields = ["code"]
    filter_horizontal = ["films", "cinemas"]
    raw_id_fields = ["screenings"]
    actions = ["download_codes"]
    list_per_page = 100

    def get_readonly_fields(self, request, obj=None):
        shown = ["uses", "redemption_count", "created_at"]
        return ["campaign", "code", *shown] if obj else shown

    def get_search_results(self, request, queryset, search_term):
        """A code is found however it was typed: "mi5-abcd" finds MI5ABCD."""
        return super().get_search_results(request, queryset, codes.normalise(search_term))

    def save_model(self, request, obj, form, change):
        changes = _changes(form, change)
        if change:
            saved = codes.code_update(code_id=obj.pk, **changes)
        else:
            saved = codes.code_create(**changes)
        obj.pk = saved.pk

    @admin.display(description="Orders that used it")
    def redemption_count(self, obj):
        if not obj.pk:
            return "-"
        listing = reverse("admin:promotions_redemption_changelist") + f"?code__id__exact={obj.pk}"
        live = obj.redemptions.filter(released_at__isnull=True).count()
        return format_html('<a href="{}">{} standing</a>', listing, live)

    @admin.action(description="Download selected codes as CSV")
    def download_codes(self, request, queryset):
        return csv_download(exports.codes_csv(queryset.order_by("pk")), "codes.csv")


# ---- redemptions -----------------------------------------------------------------------------
class ReleasedFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("standing", "Standing"), ("given_back", "Given back")]

    def queryset(self, request, queryset):
        if self.value() == "standing":
            return queryset.filter(released_at__isnull=True)
        if self.value() == "given_back":
            return queryset.filter(released_at__isnull=False)
        return queryset


@admin.register(Redemption)
class RedemptionAdmin(CinemaScopedAdmin, ReadOnlyAdmin):
    """What each order took off, and who funds it: the record settlement reads."""

    cinema_path = "order__screening__auditorium__cinema_id"

    list_display = [
        "code",
        "campaign",
        "order",
        "partner",
        "email",
        "discount_shown",
        "funder",
        "created_at",
        "released_at",
    ]
    list_filter = [ReleasedFilter, "funder", "campaign"]
    list_select_related = ["code", "campaign", "order", "partner"]
    search_fields = ["code__code", "order__code", "email"]
    date_hierarchy = "created_at"

    @admin.display(description="Discount", ordering="discount")
    def discount_shown(self, obj):
        return format_money(obj.discount, obj.campaign.currency)
