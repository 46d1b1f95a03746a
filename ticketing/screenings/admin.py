"""Staff pages for cinemas, auditoriums and their layouts, films, screenings and prices.

Layouts are edited as a text grid (see `layouts.py`), never seat by seat: the seat list is for
looking, blocking and unblocking. Screening times are entered and shown in the cinema's own time
zone, because that is the time on the poster.
"""

from __future__ import annotations

import zoneinfo
from datetime import UTC

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from ticketing import errors
from ticketing.flows import layouts as layout_flows
from ticketing.flows import screenings as screening_flows
from ticketing.money import format_money
from ticketing.orders import services as orders
from ticketing.staff import access
from ticketing.staff.admin_scope import CinemaScopedAdmin, ScopedChoices

from . import layouts, services
from .models import (
    Auditorium,
    Cinema,
    Film,
    Screening,
    ScreeningPrice,
    ScreeningStatus,
    Seat,
    SeatType,
    SeatTypeSurcharge,
    TicketType,
)

LOCAL_TIME_FIELDS = ("starts_at", "ends_at", "sales_open_at", "sales_close_at")


def _time_zone_choices() -> list[tuple[str, str]]:
    return [(name, name) for name in sorted(zoneinfo.available_timezones())]


class AuditoriumChoices(admin.RelatedFieldListFilter):
    """The auditorium filter, with its cinema fetched in the same query (its name is shown)."""

    def field_choices(self, field, request, model_admin):
        rooms = Auditorium.objects.select_related("cinema")
        rooms = access.narrow(rooms, request.user, "cinema_id")
        return [(room.pk, str(room)) for room in rooms]


# ---- cinemas -------------------------------------------------------------------------------
class CinemaForm(forms.ModelForm):
    time_zone = forms.ChoiceField(choices=_time_zone_choices, initial="UTC")

    class Meta:
        model = Cinema
        fields = [
            "name",
            "slug",
            "address",
            "city",
            "time_zone",
            "currency",
            "hold_minutes",
            "booking_fee",
            "booking_fee_cap",
        ]


class TicketTypeInline(ScopedChoices, admin.TabularInline):
    model = TicketType
    extra = 0
    fields = ["code", "name", "price", "sort_order", "is_active"]


class SeatTypeSurchargeInline(ScopedChoices, admin.TabularInline):
    model = SeatTypeSurcharge
    extra = 0
    fields = ["seat_type", "amount"]


class AuditoriumInline(ScopedChoices, admin.TabularInline):
    model = Auditorium
    extra = 0
    fields = ["name", "seat_count"]
    readonly_fields = ["seat_count"]
    show_change_link = True
    verbose_name_plural = "Auditoriums (open one to edit its seat layout)"

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(seat_total=Count("seats"))

    @admin.display(description="Seats")
    def seat_count(self, obj):
        return getattr(obj, "seat_total", 0)


@admin.register(Cinema)
class CinemaAdmin(CinemaScopedAdmin, admin.ModelAdmin):
    cinema_path = "pk"
    form = CinemaForm
    list_display = ["name", "city", "time_zone", "currency", "hold_minutes", "fee", "rooms"]
    list_filter = ["currency", "time_zone"]
    search_fields = ["name", "city", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [AuditoriumInline, TicketTypeInline, SeatTypeSurchargeInline]
    fieldsets = [
        (None, {"fields": ["name", "slug", "address", "city", "time_zone", "currency"]}),
        ("Sales", {"fields": ["hold_minutes", "booking_fee", "booking_fee_cap"]}),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(room_total=Count("auditoriums"))

    @admin.display(description="Booking fee")
    def fee(self, obj):
        fee = format_money(obj.booking_fee, obj.currency)
        if obj.booking_fee_cap is not None:
            return f"{fee} (cap {format_money(obj.booking_fee_cap, obj.currency)})"
        return fee

    @admin.display(description="Auditoriums", ordering="room_total")
    def rooms(self, obj):
        return obj.room_total

    def save_formset(self, request, form, formset, change):
        _save_formset(request, formset)


# ---- auditoriums and their layouts ---------------------------------------------------------
class LayoutField(forms.CharField):
    """The layout text. Line endings and trailing spaces do not count as a change."""

    widget = forms.Textarea(
        attrs={
            "rows": 24,
            "cols": 90,
            "wrap": "off",
            "spellcheck": "false",
            "style": "font-family: ui-monospace, Menlo, Consolas, monospace; white-space: pre;",
        }
    )

    def __init__(self, **kwargs):
        kwargs.setdefault("strip", False)  # leading spaces are gaps
        super().__init__(**kwargs)

    @staticmethod
    def normalise(text: str | None) -> str:
        lines = (text or "").replace("\r\n", "\n").replace("\r", "\n").split("\n")
        return "\n".join(line.rstrip() for line in lines).strip("\n")

    def has_changed(self, initial, data) -> bool:
        return self.normalise(initial) != self.normalise(data)


class AuditoriumForm(forms.ModelForm):
    layout_text = LayoutField(
        label="Layout text",
        required=False,
        help_text=layouts.NOTATION_HELP
        + " Seats that keep their label keep their tickets. A seat held or sold for a screening"
        " still to come keeps its label, place and type and cannot be blocked; a seat with"
        " tickets is never removed.",
    )

    class Meta:
        model = Auditorium
        fields = ["cinema", "name"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.layout = None
        if self.instance.pk:
            self.shown_text = layouts.layout_render(self.instance)
            self.fields["layout_text"].initial = self.shown_text
        else:
            self.shown_text = ""

    def clean_layout_text(self):
        text = LayoutField.normalise(self.cleaned_data.get("layout_text"))
        if text == LayoutField.normalise(self.shown_text):
            return text  # untouched: leave the seats alone
        if not text.strip():
            raise ValidationError(
                "A layout needs at least one seat. To take the auditorium out of use, "
                "delete it or block its seats."
            )
        # The parse and the check against tickets and holds; layout_replace repeats the check
        # under lock when saving.
        room = self.instance if self.instance.pk else Auditorium()
        self.layout = layout_flows.layout_check(auditorium=room, text=text)
        return text


@admin.register(Auditorium)
class AuditoriumAdmin(CinemaScopedAdmin, admin.ModelAdmin):
    cinema_path = "cinema_id"
    form = AuditoriumForm
    list_display = ["name", "cinema", "seat_count", "seat_list"]
    list_filter = ["cinema"]
    list_select_related = ["cinema"]
    search_fields = ["name", "cinema__name"]
    readonly_fields = ["seat_count", "seat_summary", "seat_list", "layout_note"]
    fieldsets = [
        (None, {"fields": ["cinema", "name"]}),
        (
            "Seat layout",
            {"fields": ["layout_text", "seat_count", "seat_summary", "seat_list", "layout_note"]},
        ),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(seat_total=Count("seats"))

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [(None, {"fields": ["cinema", "name", "layout_text"]})]
        return super().get_fieldsets(request, obj)

    @admin.display(description="Seats", ordering="seat_total")
    def seat_count(self, obj):
        return getattr(obj, "seat_total", None) if obj.pk else 0

    @admin.display(description="By type")
    def seat_summary(self, obj):
        if not obj.pk:
            return "-"
        counts = layouts.layout_of(obj).counts()
        text = ", ".join(
            f"{counts[kind]} {name.lower()}" for kind, name in SeatType.choices if kind in counts
        )
        if counts.get("blocked"):
            text += f"; {counts['blocked']} of them blocked"
        return text or "no seats"

    @admin.display(description="Seat list")
    def seat_list(self, obj):
        if not obj.pk:
            return "-"
        url = reverse("admin:screenings_seat_changelist") + f"?auditorium__id__exact={obj.pk}"
        return format_html('<a href="{}">Seats of {}</a>', url, obj.name)

    @admin.display(description="Note")
    def layout_note(self, obj):
        if obj.pk and not layouts.is_exact(layouts.layout_of(obj)):
            return (
                "Some seats were numbered or paired outside the layout text, so the text above "
                "approximates them; saving a changed text renumbers those rows."
            )
        return "-"

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if form.layout is None:
            return
        try:
            result = layout_flows.layout_replace(
                auditorium=obj, text=form.cleaned_data["layout_text"], user=request.user
            )
        except ValidationError as exc:
            # Someone sold a seat between the check and the save: the layout stays as it was.
            self.message_user(
                request, "Layout not changed: " + " ".join(exc.messages), messages.ERROR
            )
        else:
            self.message_user(request, f"Layout of {obj}: {result}.", messages.SUCCESS)


@admin.register(Seat)
class SeatAdmin(CinemaScopedAdmin, admin.ModelAdmin):
    """Seats are made by the auditorium's layout (its text here, or the staff layout editor at
    /staff/layouts/), which keeps every seat held or sold for a screening still to come: blocking
    or retyping a seat goes through it (`x` blocks), never straight to the row. Here staff look."""

    cinema_path = "auditorium__cinema_id"

    list_display = [
        "label",
        "auditorium",
        "row_label",
        "number",
        "seat_type",
        "is_sellable",
        "x",
        "y",
    ]
    list_filter = [("auditorium", AuditoriumChoices), "seat_type", "is_sellable"]
    list_select_related = ["auditorium__cinema"]
    search_fields = ["row_label"]
    fields = ["auditorium", "row_label", "number", "x", "y", "seat_type", "is_sellable", "pair"]
    readonly_fields = fields
    list_per_page = 200

    def has_add_permission(self, request):
        return False  # through the auditorium's layout text

    def has_delete_permission(self, request, obj=None):
        return False  # through the auditorium's layout text, which protects sold seats

    def get_search_results(self, request, queryset, search_term):
        # "search by row": an exact row label, or a seat label such as C12.
        term = search_term.strip().upper()
        if term and term.isalnum():
            row, digits = term.rstrip("0123456789"), term[len(term.rstrip("0123456789")) :]
            if row and digits:
                return queryset.filter(row_label__iexact=row, number=int(digits)), False
            return queryset.filter(row_label__iexact=term), False
        return super().get_search_results(request, queryset, search_term)

    @admin.display(description="Seat", ordering="row_label")
    def label(self, obj):
        return obj.label


# ---- films ---------------------------------------------------------------------------------
@admin.register(Film)
class FilmAdmin(admin.ModelAdmin):
    list_display = ["title", "runtime_minutes", "certificate", "release_date"]
    list_filter = ["certificate", "release_date"]
    search_fields = ["title"]
    prepopulated_fields = {"slug": ["title"]}


# ---- screenings ----------------------------------------------------------------------------
class ScreeningForm(forms.ModelForm):
    """Times are typed and shown in the cinema's own zone, whatever the server's."""

    class Meta:
        model = Screening
        fields = [
            "film",
            "auditorium",
            "starts_at",
            "ends_at",
            "status",
            "format",
            "audio_language",
            "subtitles",
            "sales_open_at",
            "sales_close_at",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        ends = self.fields.get("ends_at")
        if ends is not None:
            ends.required = False
            ends.help_text = (
                "Blank, or when start or film change: start + runtime + 15 min cleaning."
            )
        for name in LOCAL_TIME_FIELDS:
            field = self.fields.get(name)
            if field is not None:
                field.help_text = f"{field.help_text} Local time at the cinema.".strip()
        if self.instance.pk:
            tz = self.instance.auditorium.cinema.tz
            for name in LOCAL_TIME_FIELDS:
                value = getattr(self.instance, name)
                if value is not None:
                    self.initial[name] = timezone.localtime(value, tz).replace(tzinfo=None)

    def clean(self):
        data = super().clean()
        room = data.get("auditorium")
        if room is not None:
            server_tz, cinema_tz = timezone.get_current_timezone(), room.cinema.tz
            for name in LOCAL_TIME_FIELDS:
                value = data.get(name)
                if value is not None:
                    naive = timezone.make_naive(value, server_tz)
                    # Stored in UTC: arithmetic on it (ends = start + runtime) stays exact
                    # across a daylight-saving change.
                    data[name] = timezone.make_aware(naive, cinema_tz).astimezone(UTC)
        moved = {"starts_at", "film"} & set(self.changed_data)
        if "ends_at" not in self.changed_data and (moved or not self.instance.pk):
            data["ends_at"] = None  # the model computes it from the film's runtime
        return data

    def _post_clean(self):
        super()._post_clean()  # the model's clean(): an overlap it can see, named
        if self.errors:
            return
        # One it cannot see yet (saved a moment ago) the exclusion constraint still refuses:
        # asked now, its answer is a form error rather than a failed save.
        try:
            services.screening_check(screening=self.instance)
        except errors.ScreeningOverlap as refused:
            self.add_error(None, refused.message)
        except errors.AuditoriumLocked as refused:
            self.add_error("auditorium", refused.message)
        if self.cancelling and orders.paid_count(screening_id=self.instance.pk):
            paid = orders.paid_count(screening_id=self.instance.pk)
            self.add_error(
                "status",
                f"{paid} paid order(s): cancel this screening on the staff page "
                f"/staff/cancellations/new/{self.instance.pk}/, which refunds every buyer once "
                "and emails each (with a reason, a confirmation and its progress to watch).",
            )

    @property
    def cancelling(self) -> bool:
        """Cancelling goes through flows.screening_cancel (holds released, unpaid orders
        cancelled), never a bare status change."""
        return (
            bool(self.instance.pk)
            and "status" in self.changed_data
            and self.cleaned_data.get("status") == ScreeningStatus.CANCELLED
        )


class ScreeningPriceInline(ScopedChoices, admin.TabularInline):
    model = ScreeningPrice
    extra = 0
    fields = ["ticket_type", "price"]
    verbose_name_plural = "Prices for this screening (override the cinema's list prices)"

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "ticket_type":
            qs = TicketType.objects.select_related("cinema")
            screening_id = request.resolver_match.kwargs.get("object_id")
            if screening_id and str(screening_id).isdigit():
                cinema = Cinema.objects.filter(auditoriums__screenings=screening_id)
                qs = qs.filter(cinema__in=cinema)
            kwargs["queryset"] = qs
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(Screening)
class ScreeningAdmin(CinemaScopedAdmin, admin.ModelAdmin):
    cinema_path = "auditorium__cinema_id"
    form = ScreeningForm
    list_display = [
        "film",
        "cinema",
        "auditorium_name",
        "local_start",
        "format",
        "status",
        "on_sale",
    ]
    list_filter = ["status", "format", "auditorium__cinema", "film"]
    list_select_related = ["film", "auditorium__cinema"]
    date_hierarchy = "starts_at"
    search_fields = ["film__title"]
    inlines = [ScreeningPriceInline]
    fieldsets = [
        (None, {"fields": ["film", "auditorium", "starts_at", "ends_at", "status"]}),
        ("Presentation", {"fields": ["format", "audio_language", "subtitles"]}),
        ("Sales window", {"fields": ["sales_open_at", "sales_close_at"]}),
    ]

    def get_queryset(self, request):
        # The change form reads the cinema's zone. (A select_related here replaces
        # list_select_related on the changelist, so it names everything the list needs.)
        return super().get_queryset(request).select_related("film", "auditorium__cinema")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "auditorium":
            kwargs["queryset"] = Auditorium.objects.select_related("cinema")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description="Cinema", ordering="auditorium__cinema__name")
    def cinema(self, obj):
        return obj.auditorium.cinema.name

    @admin.display(description="Auditorium", ordering="auditorium__name")
    def auditorium_name(self, obj):
        return obj.auditorium.name

    @admin.display(description="Starts (cinema time)", ordering="starts_at")
    def local_start(self, obj):
        local = timezone.localtime(obj.starts_at, obj.auditorium.cinema.tz)
        return f"{local:%a %Y-%m-%d %H:%M} {local.tzname()}"

    @admin.display(description="On sale", boolean=True)
    def on_sale(self, obj):
        return obj.is_on_sale()

    def save_model(self, request, obj, form, change):
        if not form.cancelling:
            services.screening_save(screening=obj)
            return
        obj.status = form.initial.get("status", ScreeningStatus.SCHEDULED)
        services.screening_save(screening=obj)  # the other changes, then the cancellation
        try:
            done = screening_flows.screening_cancel(
                screening_id=obj.pk, actor=f"user:{request.user.pk}", reason="cancelled by staff"
            )
        except errors.ScreeningHasPaidOrders as refused:
            self.message_user(request, refused.message, messages.ERROR)
            return
        obj.status = ScreeningStatus.CANCELLED
        self.message_user(
            request,
            f"Screening cancelled: {done.holds_released} hold(s) released, "
            f"{done.orders_cancelled} unpaid order(s) cancelled.",
            messages.SUCCESS,
        )

    def save_formset(self, request, form, formset, change):
        _save_formset(request, formset)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except errors.ScreeningOverlap:
            # Refused at the save although the form's check passed an instant before: another
            # screening was saved in between. Nothing was kept (the view's transaction rolled
            # back); shown again, the form's own check now sees that screening and names it.
            return super().changeform_view(request, object_id, form_url, extra_context)


# ---- prices --------------------------------------------------------------------------------
@admin.register(TicketType)
class TicketTypeAdmin(CinemaScopedAdmin, admin.ModelAdmin):
    cinema_path = "cinema_id"
    list_display = ["name", "code", "cinema", "list_price", "sort_order", "is_active"]
    list_filter = ["cinema", "is_active"]
    list_select_related = ["cinema"]
    search_fields = ["name", "code", "cinema__name"]

    @admin.display(description="Price", ordering="price")
    def list_price(self, obj):
        return format_money(obj.price, obj.cinema.currency)

    # Prices are saved and deleted through the service that writes the audit log.
    def save_model(self, request, obj, form, change):
        services.price_save(price=obj, user=request.user)

    def delete_model(self, request, obj):
        services.price_delete(price=obj, user=request.user)

    def delete_queryset(self, request, queryset):
        for price in queryset:
            services.price_delete(price=price, user=request.user)


@admin.register(ScreeningPrice)
class ScreeningPriceAdmin(CinemaScopedAdmin, admin.ModelAdmin):
    cinema_path = "screening__auditorium__cinema_id"
    list_display = ["screening", "ticket_type", "amount"]
    list_filter = ["screening__auditorium__cinema", "ticket_type__code"]
    list_select_related = [
        "screening__film",
        "screening__auditorium__cinema",
        "ticket_type__cinema",
    ]
    search_fields = ["screening__film__title"]
    autocomplete_fields = ["screening", "ticket_type"]

    @admin.display(description="Price", ordering="price")
    def amount(self, obj):
        return format_money(obj.price, obj.ticket_type.cinema.currency)

    # Prices are saved and deleted through the service that writes the audit log.
    def save_model(self, request, obj, form, change):
        services.price_save(price=obj, user=request.user)

    def delete_model(self, request, obj):
        services.price_delete(price=obj, user=request.user)

    def delete_queryset(self, request, queryset):
        for price in queryset:
            services.price_delete(price=price, user=request.user)


def _save_formset(request, formset) -> None:
    """An inline's rows; prices (ticket types, a screening's prices, surcharges) through the
    service that writes the audit log, who changed what, before and after."""
    if formset.model not in (TicketType, ScreeningPrice, SeatTypeSurcharge):
        formset.save()
        return
    changed = formset.save(commit=False)
    for price in formset.deleted_objects:
        services.price_delete(price=price, user=request.user)
    for price in changed:
        services.price_save(price=price, user=request.user)
    formset.save_m2m()
