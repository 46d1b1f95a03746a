"""Staff declare an onsale: which screenings (or a film's screenings over some days), when it
opens and closes, the admission rate and time, the per-buyer limit; pause and resume admissions."""

from __future__ import annotations

import zoneinfo

from django import forms
from django.contrib import admin, messages

from ticketing.screenings.models import Film

from . import services, waiting
from .models import Onsale


class OnsaleForm(forms.ModelForm):
    film = forms.ModelChoiceField(
        queryset=Film.objects.order_by("title"),
        required=False,
        help_text="Add this film's screenings from the first to the last day below.",
    )
    first_day = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    last_day = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    days_zone = forms.CharField(
        initial="Europe/London",
        required=False,
        help_text="The time zone of those days (the cinemas').",
    )

    class Meta:
        model = Onsale
        fields = (
            "name",
            "opens_at",
            "closes_at",
            "admit_per_minute",
            "admission_minutes",
            "ticket_limit",
            "paused",
            "screenings",
        )

    def clean(self):
        data = super().clean()
        if data.get("film") and not (data.get("first_day") and data.get("last_day")):
            raise forms.ValidationError("Give the first and last day of the film's screenings.")
        if data.get("first_day") and data.get("last_day") and data["last_day"] < data["first_day"]:
            raise forms.ValidationError("The last day comes before the first.")
        try:
            data["zone"] = zoneinfo.ZoneInfo(data.get("days_zone") or "UTC")
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise forms.ValidationError("Unknown time zone.") from None
        return data


@admin.register(Onsale)
class OnsaleAdmin(admin.ModelAdmin):
    form = OnsaleForm
    list_display = (
        "name",
        "opens_at",
        "closes_at",
        "admit_per_minute",
        "admission_minutes",
        "ticket_limit",
        "paused",
        "queue",
    )
    list_filter = ("paused",)
    search_fields = ("name",)
    filter_horizontal = ("screenings",)
    actions = ("pause", "resume")
    fieldsets = (
        (None, {"fields": ("name", "opens_at", "closes_at", "paused")}),
        ("Admission", {"fields": ("admit_per_minute", "admission_minutes", "ticket_limit")}),
        ("Screenings", {"fields": ("screenings", "film", "first_day", "last_day", "days_zone")}),
    )

    @admin.display(description="waiting / admitted live")
    def queue(self, obj: Onsale) -> str:
        if obj.closed():
            return "closed"
        try:
            figures = waiting.stats(obj)
        except waiting.WaitingRoomUnavailable:
            return "Redis unavailable"
        if figures is None:
            return "-"
        if not figures.opened:
            return f"{figures.early} before opening"
        return f"{figures.queued - figures.front} / {figures.live}"

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        data = form.cleaned_data
        if data.get("film"):
            ids = services.screenings_of_film(
                film_id=data["film"].pk,
                first_day=data["first_day"],
                last_day=data["last_day"],
                zone=data["zone"],
            )
            added = services.onsale_add_screenings(onsale_id=form.instance.pk, screening_ids=ids)
            self.message_user(request, f"{added} screening(s) of {data['film']} added.")
        services.onsale_changed(onsale_id=form.instance.pk)

    @admin.action(description="Pause admissions")
    def pause(self, request, queryset):
        changed = sum(services.onsale_pause(onsale_id=o.pk, paused=True) for o in queryset)
        self.message_user(request, f"{changed} onsale(s) paused.", messages.SUCCESS)

    @admin.action(description="Resume admissions")
    def resume(self, request, queryset):
        changed = sum(services.onsale_pause(onsale_id=o.pk, paused=False) for o in queryset)
        self.message_user(request, f"{changed} onsale(s) resumed.", messages.SUCCESS)
