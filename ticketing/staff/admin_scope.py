"""The admin, narrowed to the cinemas a staff member works for.

`CinemaScopedAdmin` goes first in a cinema-bound model's admin (`class ScreeningAdmin(
CinemaScopedAdmin, admin.ModelAdmin)`) with `cinema_path`, the lookup from the model to its
cinema's id. Then, for a member who works for some cinemas only (superusers and head-office
profiles see everything):

- the changelist, the change, delete and history pages, the actions and the autocomplete
  lists hold only the records of their cinemas (another cinema's record is "not found");
- a foreign-key or many-to-many choice of a cinema-bound model (an auditorium, a screening, a
  cinema, a ticket type...) offers only their cinemas', so a form naming another cinema's is
  refused as an invalid choice;
- and, as a last word, saving an object that belongs to another cinema is refused with 403.
  (An inline's rows belong to their parent; give the inline `ScopedChoices` for its own
  choices.)

Films, partners, their keys, campaigns and promo codes are chain-wide, not cinema-bound.
`ScopedChoices` alone narrows the choices of an inline or of a chain-wide admin.
"""

from __future__ import annotations

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied

from . import access

# How each cinema-bound table leads to its cinema: the choices of any form are narrowed with
# these, whichever admin shows the form.
CINEMA_PATHS: dict[str, str] = {
    "screenings.cinema": "pk",
    "screenings.auditorium": "cinema_id",
    "screenings.seat": "auditorium__cinema_id",
    "screenings.screening": "auditorium__cinema_id",
    "screenings.tickettype": "cinema_id",
    "screenings.screeningprice": "screening__auditorium__cinema_id",
    "screenings.seattypesurcharge": "cinema_id",
    "orders.order": "screening__auditorium__cinema_id",
    "orders.ticket": "order__screening__auditorium__cinema_id",
    "orders.orderstatuschange": "order__screening__auditorium__cinema_id",
    "inventory.hold": "screening__auditorium__cinema_id",
    "inventory.seatclaim": "screening__auditorium__cinema_id",
    "inventory.allocation": "screening__auditorium__cinema_id",
    "payments.payment": "order__screening__auditorium__cinema_id",
    "payments.refund": "payment__order__screening__auditorium__cinema_id",
    "promotions.redemption": "order__screening__auditorium__cinema_id",
    "audit.auditentry": "cinema_id",
    "checkin.checkin": "screening__auditorium__cinema_id",
    "checkin.checkinconflict": "screening__auditorium__cinema_id",
    "checkin.scan": "cinema_id",
}


def cinema_path_of(model) -> str | None:
    return CINEMA_PATHS.get(model._meta.label_lower)


def cinema_id_of(obj, cinema_path: str) -> int | None:
    """The cinema `obj` belongs to, following `cinema_path` through its attributes (unsaved
    objects too); None when it leads nowhere."""
    if cinema_path == "pk":
        return obj.pk
    *steps, last = cinema_path.split("__")
    try:
        for step in steps:
            obj = getattr(obj, step)
            if obj is None:
                return None
        return getattr(obj, last)
    except ObjectDoesNotExist:
        return None


def _narrow_choices(field, db_field, request):
    path = cinema_path_of(db_field.related_model)
    if field is not None and path is not None and hasattr(field, "queryset"):
        field.queryset = access.narrow(field.queryset, request.user, path)
    return field


class ScopedChoices:
    """Foreign-key and many-to-many choices of cinema-bound models: one's own cinemas' only.
    For inlines and for admins of chain-wide tables."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        return _narrow_choices(field, db_field, request)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        field = super().formfield_for_manytomany(db_field, request, **kwargs)
        return _narrow_choices(field, db_field, request)


class CinemaScopedAdmin(ScopedChoices):
    """A cinema-bound model's admin: its records, choices and saves within one's cinemas."""

    cinema_path: str = ""

    def get_queryset(self, request):
        path = self.cinema_path or cinema_path_of(self.model)
        return access.narrow(super().get_queryset(request), request.user, path)

    def save_form(self, request, form, change):
        obj = super().save_form(request, form, change)
        path = self.cinema_path or cinema_path_of(self.model)
        if not access.may_see_cinema(request.user, cinema_id_of(obj, path)):
            raise PermissionDenied("That belongs to a cinema you do not work for.")
        return obj
