"""Users in the admin, with where they work: their cinemas (or every cinema) beside their role;
and their second factors, which a manager removes when a phone is lost.

The role is the user's group (roles.py); the cinemas are their `StaffProfile`, written through
`services.staff_cinemas_set` (audited), never by the form itself. Someone who works for some
cinemas only offers and changes those: a colleague's other cinemas are kept as they were, and
only head office (every cinema) can give "every cinema".
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import UserChangeForm
from django_otp.plugins.otp_static.admin import StaticDeviceAdmin
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.admin import TOTPDeviceAdmin
from django_otp.plugins.otp_totp.models import TOTPDevice

from ticketing.screenings.models import Cinema

from . import access, devices, roles
from .services import staff_cinemas_set

User = get_user_model()


class StaffUserChangeForm(UserChangeForm):
    staff_all_cinemas = forms.BooleanField(
        label="Works for every cinema",
        required=False,
        help_text="Head office: every cinema, including ones opened later.",
    )
    staff_cinemas = forms.ModelMultipleChoiceField(
        label="Cinemas",
        queryset=Cinema.objects.order_by("name"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="The cinemas whose records this member sees and changes, as their role allows.",
    )


class StaffUserAdmin(UserAdmin):
    form = StaffUserChangeForm
    list_display = [*UserAdmin.list_display, "role", "works_for"]
    fieldsets = [
        *UserAdmin.fieldsets,
        ("Staff: where they work", {"fields": ["role", "staff_all_cinemas", "staff_cinemas"]}),
    ]
    readonly_fields = ["role"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("groups", "staff_profile__cinemas")

    @admin.display(description="Role")
    def role(self, obj):
        names = sorted(g.name for g in obj.groups.all())
        ours = [n for n in names if n in roles.ROLES]
        return ", ".join(ours or names) or "none"

    @admin.display(description="Cinemas")
    def works_for(self, obj):
        profile = getattr(obj, "staff_profile", None)
        if obj.is_superuser or (profile is not None and profile.all_cinemas):
            return "every cinema"
        if profile is None:
            return "none"
        return ", ".join(sorted(c.name for c in profile.cinemas.all())) or "none"

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        if obj is None or "staff_cinemas" not in form.base_fields:
            return form
        editor_sees_all = access.cinema_ids_for(request.user) is access.ALL
        profile = getattr(obj, "staff_profile", None)

        class Form(form):
            def __init__(self, *args, **kw):
                super().__init__(*args, **kw)
                cinemas = self.fields["staff_cinemas"]
                cinemas.queryset = access.cinemas_for(request.user)
                all_cinemas = self.fields["staff_all_cinemas"]
                if profile is not None:
                    all_cinemas.initial = profile.all_cinemas
                    cinemas.initial = [c.pk for c in profile.cinemas.all()]
                if not editor_sees_all:
                    all_cinemas.disabled = True

        return Form

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        if not change or "staff_cinemas" not in form.cleaned_data:
            return
        if not ({"staff_cinemas", "staff_all_cinemas"} & set(form.changed_data)):
            return
        user = form.instance
        mine = access.cinema_ids_for(request.user)
        chosen = {c.pk for c in form.cleaned_data["staff_cinemas"]}
        profile = getattr(user, "staff_profile", None)
        before = set(profile.cinemas.values_list("pk", flat=True)) if profile else set()
        if mine is not access.ALL:
            chosen = (chosen & mine) | (before - mine)
        all_cinemas = form.cleaned_data.get("staff_all_cinemas", False)
        if mine is not access.ALL:
            all_cinemas = bool(profile and profile.all_cinemas)
        staff_cinemas_set(
            user=user, cinemas=sorted(chosen), all_cinemas=all_cinemas, by=request.user
        )


admin.site.unregister(User)
admin.site.register(User, StaffUserAdmin)


class ColleaguesDevices:
    """Authenticators and backup codes, for removing a lost phone's. A member who works for some
    cinemas only sees the devices of colleagues who work within those cinemas (never a
    superuser's or head office's). Keys are never shown (OTP_ADMIN_HIDE_SENSITIVE_DATA)."""

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        mine = access.cinema_ids_for(request.user)
        if mine is access.ALL:
            return queryset
        return (
            queryset.exclude(user__is_superuser=True)
            .exclude(user__staff_profile__all_cinemas=True)
            .filter(user__staff_profile__cinemas__in=mine)
            .exclude(user__staff_profile__cinemas__in=Cinema.objects.exclude(pk__in=mine))
            .distinct()
        )

    def has_add_permission(self, request):
        return False  # a phone is set up by its owner, at sign-in

    def has_change_permission(self, request, obj=None):
        return False

    def delete_model(self, request, obj):
        devices.device_delete(device=obj, by=request.user)

    def delete_queryset(self, request, queryset):
        for device in queryset:
            devices.device_delete(device=device, by=request.user)


class StaffTOTPDeviceAdmin(ColleaguesDevices, TOTPDeviceAdmin):
    pass


class StaffStaticDeviceAdmin(ColleaguesDevices, StaticDeviceAdmin):
    pass


for _model, _admin in ((TOTPDevice, StaffTOTPDeviceAdmin), (StaticDevice, StaffStaticDeviceAdmin)):
    admin.site.unregister(_model)
    admin.site.register(_model, _admin)
