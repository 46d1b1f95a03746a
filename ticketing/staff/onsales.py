"""Staff: watching an onsale live, `/staff/onsales/` and `/staff/onsales/<id>/`.

A member sees the onsales with a screening in their cinemas (another cinema's onsale answers
404). The page shows the queue length, buyers admitted a minute, purchases a minute and the
seats left, as a live uPlot chart (`static/marquee/staff-onsale.js`) polling the page's JSON
(`/staff/onsales/<id>/live.json`) every few seconds, with a table of the same figures for screen
readers and for reading exactly; without JavaScript the page is its table (refresh to update).

The queue's figures are the waiting room's, from Redis (`waiting.stats`: no database); the seats
left and the purchases are two cheap counts over the onsale's screenings (of the member's
cinemas). Both are cached a few seconds per onsale, so any number of staff watching costs the
database two queries every few seconds. Each answer adds a sample to a short history kept in the
cache (one every `SAMPLE_SECONDS`), which is what the chart draws and what the per-minute rates
are computed from.

Pausing, resuming and changing the rate are POSTs (CSRF) through the onsale's services, recorded
in the audit log in the same transaction; they need `staff.plan_schedule` (those who plan the
screenings plan their sale) and every screening of the onsale in the member's cinemas.
"""

from __future__ import annotations

import time

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, Q
from django.http import Http404, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from ticketing import cache
from ticketing.audit.services import audit_record
from ticketing.inventory.models import SeatClaim
from ticketing.onsale import services as onsale_services
from ticketing.onsale import waiting
from ticketing.onsale.models import Onsale
from ticketing.orders.models import Order, OrderStatus
from ticketing.screenings.models import Screening

from .access import ALL, cinema_ids_for, staff_page

FIGURES_SECONDS = 3  # how long one reading is shared by everyone watching
SAMPLE_SECONDS = 5  # one point of the chart's history every this many seconds
HISTORY = 120  # points kept: ten minutes
POLL_SECONDS = 5  # how often the page asks again


def _visible(user):
    """The onsales with a screening in the member's cinemas."""
    onsales = Onsale.objects.all()
    ids = cinema_ids_for(user)
    if ids is not ALL:
        onsales = onsales.filter(screenings__auditorium__cinema_id__in=ids).distinct()
    return onsales


def _onsale(user, onsale_id: int) -> Onsale:
    onsale = _visible(user).filter(pk=onsale_id).first()
    if onsale is None:
        raise Http404("No such onsale.")
    return onsale


def _screening_ids(onsale: Onsale, user) -> list[int]:
    screenings = Screening.objects.filter(onsales=onsale)
    ids = cinema_ids_for(user)
    if ids is not ALL:
        screenings = screenings.filter(auditorium__cinema_id__in=ids)
    return list(screenings.values_list("pk", flat=True))


def _may_change(onsale: Onsale, user) -> bool:
    """Pausing an onsale stops it in every cinema: only for a member of all of them."""
    if not user.has_perm("staff.plan_schedule"):
        return False
    ids = cinema_ids_for(user)
    if ids is ALL:
        return True
    return (
        not Screening.objects.filter(onsales=onsale).exclude(auditorium__cinema_id__in=ids).exists()
    )


def _seats(screening_ids: list[int], now) -> dict:
    """Capacity, sold, held and left over the screenings: two counts."""
    capacity = (
        Screening.objects.filter(pk__in=screening_ids)
        .aggregate(
            seats=Count(
                "auditorium__seats", filter=Q(auditorium__seats__is_sellable=True), distinct=False
            )
        )
        .get("seats")
        or 0
    )
    claims = SeatClaim.objects.filter(screening_id__in=screening_ids).aggregate(
        live=Count("pk", filter=Q(expires_at__isnull=True) | Q(expires_at__gt=now)),
        sold=Count("pk", filter=Q(expires_at__isnull=True, order__isnull=False)),
    )
    live, sold = claims["live"] or 0, claims["sold"] or 0
    # Held: by buyers choosing or paying, or set aside for a partner.
    return {
        "capacity": capacity,
        "sold": sold,
        "held": live - sold,
        "left": max(0, capacity - live),
    }


def _paid(screening_ids: list[int]) -> int:
    return Order.objects.filter(screening_id__in=screening_ids, status=OrderStatus.PAID).count()


def _scope(user) -> str:
    ids = cinema_ids_for(user)
    return "all" if ids is ALL else "-".join(str(i) for i in sorted(ids))


def _reading(onsale: Onsale, user) -> dict:
    """One reading of the figures, shared by everyone watching for `FIGURES_SECONDS`."""
    key = f"staff:onsale:{onsale.pk}:{_scope(user)}:reading"
    reading = cache.get(key)
    if reading is not None:
        return reading
    now = timezone.now()
    screening_ids = _screening_ids(onsale, user)
    seats = _seats(screening_ids, now)
    queue: dict = {"available": False}
    try:
        stats = waiting.stats(onsale)
    except waiting.WaitingRoomUnavailable:
        stats = None
    if stats is not None:
        queue = {
            "available": True,
            "opened": stats.opened,
            "waiting": max(0, stats.queued - stats.front) + (0 if stats.opened else stats.early),
            "admitted": stats.admitted,
            "live": stats.live,
            "exits": stats.exits,
        }
    reading = {
        "t": time.time(),
        "queue": queue,
        "seats": seats,
        "paid_orders": _paid(screening_ids),
        "screenings": len(screening_ids),
    }
    cache.set(key, reading, FIGURES_SECONDS)
    return reading


def _history(onsale: Onsale, user, reading: dict) -> list[list]:
    """The samples the chart draws: [t, waiting, admitted (total), paid orders (total), left]."""
    key = f"staff:onsale:{onsale.pk}:{_scope(user)}:history"
    history = cache.get(key) or []
    if not history or reading["t"] - history[-1][0] >= SAMPLE_SECONDS:
        queue = reading["queue"]
        history.append(
            [
                round(reading["t"], 1),
                queue.get("waiting"),
                queue.get("admitted"),
                reading["paid_orders"],
                reading["seats"]["left"],
            ]
        )
        history = history[-HISTORY:]
        cache.set(key, history, HISTORY * SAMPLE_SECONDS * 2)
    return history


def _per_minute(history: list[list], column: int, now: float) -> float | None:
    """The rate of a running total over the last minute (or what the history covers)."""
    points = [p for p in history if p[column] is not None]
    if len(points) < 2:
        return None
    recent = [p for p in points if now - p[0] <= 60] or points[-1:]
    first = recent[0] if len(recent) > 1 else points[-2]
    last = points[-1]
    seconds = last[0] - first[0]
    if seconds <= 0:
        return None
    return max(0.0, round((last[column] - first[column]) * 60 / seconds, 1))


def _series(history: list[list]) -> dict:
    """Per-sample series for the chart: rates a minute between consecutive samples."""
    times, waiting_, admitted, purchases, left = [], [], [], [], []
    for before, point in zip([None, *history[:-1]], history, strict=True):
        times.append(point[0])
        waiting_.append(point[1])
        left.append(point[4])
        if before is None or point[0] <= before[0]:
            admitted.append(None)
            purchases.append(None)
            continue
        scale = 60 / (point[0] - before[0])
        # A total that went down (orders cancelled, Redis' figures lost) reads as 0, not less.
        admitted.append(
            None
            if point[2] is None or before[2] is None
            else max(0.0, round((point[2] - before[2]) * scale, 1))
        )
        purchases.append(max(0.0, round((point[3] - before[3]) * scale, 1)))
    return {
        "t": times,
        "waiting": waiting_,
        "admitted_per_minute": admitted,
        "purchases_per_minute": purchases,
        "seats_left": left,
    }


def live_figures(onsale: Onsale, user) -> dict:
    """What the JSON endpoint answers (and the page shows at first)."""
    reading = _reading(onsale, user)
    history = _history(onsale, user, reading)
    now = reading["t"]
    return {
        "onsale": {
            "id": onsale.pk,
            "name": onsale.name,
            "opens_at": onsale.opens_at.isoformat(),
            "open": timezone.now() >= onsale.opens_at,
            "closes_at": onsale.closes_at.isoformat() if onsale.closes_at else None,
            "closed": onsale.closed(),
            "paused": onsale.paused,
            "admit_per_minute": onsale.admit_per_minute,
            "admission_minutes": onsale.admission_minutes,
            "ticket_limit": onsale.ticket_limit,
        },
        "now": {
            "waiting": reading["queue"].get("waiting"),
            "admitted": reading["queue"].get("admitted"),
            "live_admissions": reading["queue"].get("live"),
            "admitted_per_minute": _per_minute(history, 2, now),
            "purchases_per_minute": _per_minute(history, 3, now),
            "paid_orders": reading["paid_orders"],
            "seats": reading["seats"],
            "waiting_room": "up" if reading["queue"]["available"] else "unavailable",
        },
        "series": _series(history),
        "poll_seconds": POLL_SECONDS,
    }


class RateForm(forms.Form):
    admit_per_minute = forms.IntegerField(
        label="Buyers let in a minute",
        min_value=0,
        max_value=100_000,
        help_text="0 lets buyers in as fast as purchases complete.",
    )


# ---- pages -----------------------------------------------------------------------------------
@require_GET
@staff_page("view_dashboard")
def onsale_list(request):
    onsales = list(_visible(request.user).annotate(screening_count=Count("screenings")))
    now = timezone.now()
    rows = [
        {
            "onsale": onsale,
            "state": "closed"
            if onsale.closed(now)
            else "paused"
            if onsale.paused
            else ("open" if onsale.opens_at <= now else "not open yet"),
        }
        for onsale in onsales
    ]
    return render(request, "staff/onsales.html", {"title": "Onsales", "rows": rows})


@require_GET
@staff_page("view_dashboard")
def onsale_detail(request, pk: int):
    onsale = _onsale(request.user, pk)
    figures = live_figures(onsale, request.user)
    context = {
        "title": f"Onsale: {onsale.name}",
        "onsale": onsale,
        "figures": figures,
        "live_url": reverse("staff:onsale_live", args=[onsale.pk]),
        "may_change": _may_change(onsale, request.user),
        "rate_form": RateForm(initial={"admit_per_minute": onsale.admit_per_minute}),
    }
    return render(request, "staff/onsale_live.html", context)


@never_cache
@require_GET
@staff_page("view_dashboard")
def onsale_live(request, pk: int):
    onsale = _onsale(request.user, pk)
    return JsonResponse(live_figures(onsale, request.user))


def _changeable(request, pk: int) -> Onsale:
    onsale = _onsale(request.user, pk)
    if not _may_change(onsale, request.user):
        raise PermissionDenied
    return onsale


def _back(onsale: Onsale) -> HttpResponseRedirect:
    return HttpResponseRedirect(reverse("staff:onsale", args=[onsale.pk]))


def _cinema_of(onsale: Onsale) -> int | None:
    first = Screening.objects.filter(onsales=onsale).values_list("auditorium__cinema_id", flat=True)
    return first.first()


@require_POST
@staff_page("plan_schedule")
def onsale_pause(request, pk: int):
    onsale = _changeable(request, pk)
    paused = request.POST.get("paused") != "0"
    with transaction.atomic():
        changed = onsale_services.onsale_pause(onsale_id=onsale.pk, paused=paused)
        if changed:
            audit_record(
                action="onsale.pause" if paused else "onsale.resume",
                summary=f"{'Paused' if paused else 'Resumed'} admissions of onsale {onsale.name}",
                user=request.user,
                cinema_id=_cinema_of(onsale),
                obj=onsale,
                changes={"paused": [onsale.paused, paused]},
            )
    if changed:
        messages.success(request, "Admissions paused." if paused else "Admissions resumed.")
    else:
        messages.info(request, "Already paused." if paused else "Already admitting.")
    return _back(onsale)


@require_POST
@staff_page("plan_schedule")
def onsale_rate(request, pk: int):
    onsale = _changeable(request, pk)
    form = RateForm(request.POST)
    if not form.is_valid():
        figures = live_figures(onsale, request.user)
        context = {
            "title": f"Onsale: {onsale.name}",
            "onsale": onsale,
            "figures": figures,
            "live_url": reverse("staff:onsale_live", args=[onsale.pk]),
            "may_change": True,
            "rate_form": form,
        }
        return render(request, "staff/onsale_live.html", context, status=400)
    rate = form.cleaned_data["admit_per_minute"]
    with transaction.atomic():
        onsale_services.onsale_set_rate(onsale_id=onsale.pk, admit_per_minute=rate)
        audit_record(
            action="onsale.rate",
            summary=f"Admission rate of onsale {onsale.name}: {onsale.admit_per_minute} -> {rate} a minute",
            user=request.user,
            cinema_id=_cinema_of(onsale),
            obj=onsale,
            changes={"admit_per_minute": [onsale.admit_per_minute, rate]},
        )
    messages.success(
        request,
        f"Letting in {rate} buyers a minute." if rate else "Letting buyers in as fast as they buy.",
    )
    return _back(onsale)


urlpatterns = [
    path("", onsale_list, name="onsales"),
    path("<int:pk>/", onsale_detail, name="onsale"),
    path("<int:pk>/live.json", onsale_live, name="onsale_live"),
    path("<int:pk>/pause/", onsale_pause, name="onsale_pause"),
    path("<int:pk>/rate/", onsale_rate, name="onsale_rate"),
]
