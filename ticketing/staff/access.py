"""Who may open a staff page, and for which cinemas.

A staff member works for the cinemas of their `StaffProfile` (or all of them: superusers and
head-office profiles). Every staff page, export and admin list narrows what it reads to
`cinema_ids_for(user)`; a record of another cinema answers 404, as if it did not exist.

Signing in takes a password and a second factor (TOTP, django-otp); `@staff_page` sends a
member who has not passed both to the sign-in, and answers 403 when the role lacks the
permission. `MARQUEE_STAFF_OTP=off` (refused in production, see ticketing/security.py) turns the
second factor off for local development only.
"""

from __future__ import annotations

from functools import wraps
from urllib.parse import urlencode

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpResponseRedirect
from django.urls import reverse

from ticketing.screenings.models import Cinema

ALL = None  # cinema_ids_for's answer for "every cinema"


def otp_required() -> bool:
    return getattr(settings, "MARQUEE_STAFF_OTP", True)


def is_signed_in(user) -> bool:
    """A staff member who passed the password and (unless it is off) the second factor."""
    if not (user.is_authenticated and user.is_active and user.is_staff):
        return False
    if not otp_required():
        return True
    return bool(getattr(user, "is_verified", lambda: False)())


def cinema_ids_for(user) -> frozenset[int] | None:
    """The ids of the cinemas `user` works for, or ALL (None) for every cinema."""
    if user.is_superuser:
        return ALL
    cached = getattr(user, "_marquee_cinema_ids", False)
    if cached is not False:
        return cached
    profile = getattr(user, "staff_profile", None) if user.is_authenticated else None
    if profile is None:
        ids: frozenset[int] | None = frozenset()
    elif profile.all_cinemas:
        ids = ALL
    else:
        ids = frozenset(profile.cinemas.values_list("pk", flat=True))
    user._marquee_cinema_ids = ids
    return ids


def cinemas_for(user) -> QuerySet[Cinema]:
    ids = cinema_ids_for(user)
    cinemas = Cinema.objects.order_by("name")
    return cinemas if ids is ALL else cinemas.filter(pk__in=ids)


def narrow(queryset: QuerySet, user, cinema_path: str) -> QuerySet:
    """`queryset` limited to the user's cinemas; `cinema_path` leads from its model to the
    cinema's id (`"auditorium__cinema_id"` for screenings, `"screening__auditorium__cinema_id"`
    for orders)."""
    ids = cinema_ids_for(user)
    if ids is ALL:
        return queryset
    return queryset.filter(**{f"{cinema_path}__in": ids})


def may_see_cinema(user, cinema_id: int | None) -> bool:
    ids = cinema_ids_for(user)
    return ids is ALL or cinema_id in ids


def require_cinema(user, cinema_id: int | None) -> None:
    """404 when `cinema_id` is not one of the user's: another cinema's records do not exist."""
    if not may_see_cinema(user, cinema_id):
        raise Http404


def staff_page(permission: str | None = None):
    """A staff page: signed in with both factors (else to the sign-in), holding `permission`
    (a codename of the staff app, or "app.codename"; else 403)."""
    perm = (
        None if permission is None else (permission if "." in permission else f"staff.{permission}")
    )

    def decorate(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not is_signed_in(request.user):
                target = reverse("staff:login")
                return HttpResponseRedirect(
                    f"{target}?{urlencode({'next': request.get_full_path()})}"
                )
            if perm is not None and not request.user.has_perm(perm):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        wrapper.staff_permission = perm
        return wrapper

    return decorate
