"""Staff: the schedule (`/staff/schedule/`): a cinema's week, planning screenings from a pattern
with a preview of the clashes, copying a week to the next, moving a screening.

Every page needs `staff.plan_schedule` and shows only the member's cinemas: another cinema, its
auditoriums and its screenings answer 404. Writes go through `ticketing.screenings.scheduling`
(which audits them); refusals are shown on the page with their reason, never a 500.
"""

from __future__ import annotations

import re
from datetime import date, time, timedelta

from django import forms
from django.contrib import messages
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import path, reverse
from django.views.decorators.http import require_http_methods, require_POST

from ticketing import errors
from ticketing.inventory import seatmap
from ticketing.screenings import scheduling
from ticketing.screenings.models import Auditorium, Film, Screening, ScreeningFormat

from .access import cinemas_for, narrow, staff_page

WEEKDAYS = [(0, "Mon"), (1, "Tue"), (2, "Wed"), (3, "Thu"), (4, "Fri"), (5, "Sat"), (6, "Sun")]
TIME_RE = re.compile(r"^([01]?\d|2[0-3])[:.h]?([0-5]\d)$")


# ---- forms ------------------------------------------------------------------------------------
def parse_times(text: str) -> list[time]:
    """'13:00, 16:30 20:15' -> times; a ValidationError naming what is not a time."""
    found, bad = [], []
    for word in re.split(r"[,;\s]+", text.strip()):
        if not word:
            continue
        match = TIME_RE.match(word)
        if match:
            found.append(time(int(match[1]), int(match[2])))
        else:
            bad.append(word)
    if bad:
        raise forms.ValidationError(
            "Not a time of day (HH:MM, 24-hour clock): %(bad)s", params={"bad": ", ".join(bad)}
        )
    return found


class PlanForm(forms.Form):
    auditorium = forms.IntegerField(widget=forms.Select)
    film = forms.ModelChoiceField(queryset=Film.objects.order_by("title"), empty_label=None)
    weekdays = forms.TypedMultipleChoiceField(
        choices=WEEKDAYS,
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Days of the week",
    )
    times = forms.CharField(
        required=False,
        label="Start times",
        widget=forms.TextInput(
            attrs={"aria-describedby": "times-help", "placeholder": "13:00, 16:30, 20:15"}
        ),
        help_text="On the cinema's clock, 24-hour, separated by commas: 13:00, 16:30, 20:15",
    )
    first_day = forms.DateField(label="From", widget=forms.DateInput(attrs={"type": "date"}))
    last_day = forms.DateField(label="To", widget=forms.DateInput(attrs={"type": "date"}))
    gap_minutes = forms.IntegerField(
        label="Cleaning gap (minutes)",
        initial=scheduling.DEFAULT_GAP_MINUTES,
        min_value=0,
        max_value=scheduling.MAX_GAP_MINUTES,
        help_text="After each screening, before the next may start.",
    )
    format = forms.ChoiceField(choices=ScreeningFormat.choices, initial=ScreeningFormat.TWO_D)
    audio_language = forms.CharField(
        max_length=8, initial="en", label="Audio language", help_text="e.g. en, fr"
    )
    subtitles = forms.CharField(max_length=8, required=False, help_text="Blank: none.")

    def __init__(self, *args, auditoriums, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["auditorium"].widget.choices = [(a.pk, a.name) for a in auditoriums]

    def clean_times(self):
        return parse_times(self.cleaned_data.get("times") or "")


class MoveForm(forms.Form):
    day = forms.DateField(label="Day", widget=forms.DateInput(attrs={"type": "date"}))
    start = forms.TimeField(
        label="Start time", widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )
    auditorium = forms.IntegerField(widget=forms.Select)

    def __init__(self, *args, auditoriums, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["auditorium"].widget.choices = [(a.pk, a.name) for a in auditoriums]

    def clean_day(self):
        day = self.cleaned_data["day"]
        if abs(day - date.today()) > scheduling.MAX_AHEAD:
            raise forms.ValidationError("Choose a day within ten years of today.")
        return day


# ---- helpers ----------------------------------------------------------------------------------
def _cinema(request, cinema_id=None):
    """The cinema asked for (404 if it is not one of the member's), else their first."""
    cinemas = cinemas_for(request.user)
    if cinema_id in (None, ""):
        cinema = cinemas.first()
        if cinema is None:
            raise Http404("You work for no cinema yet.")
        return cinema
    try:
        return cinemas.get(pk=int(cinema_id))
    except (ValueError, TypeError, cinemas.model.DoesNotExist):
        raise Http404 from None


def _monday(request, cinema) -> date:
    raw = request.GET.get("week") or request.POST.get("week") or ""
    today = scheduling.local_today(cinema)
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        day = today
    if abs(day - today) > scheduling.MAX_AHEAD:  # far out of any schedule (and of datetime's range)
        day = today
    return scheduling.week_start(day)


def _auditorium(request, raw) -> Auditorium:
    try:
        pk = int(raw)
    except (TypeError, ValueError):
        raise Http404 from None
    rooms = narrow(Auditorium.objects.select_related("cinema"), request.user, "cinema_id")
    return get_object_or_404(rooms, pk=pk)


def _week_url(cinema, monday: date) -> str:
    return f"{reverse('staff:schedule')}?cinema={cinema.pk}&week={monday.isoformat()}"


def _week(cinema, monday: date) -> dict:
    """The grid: one row per auditorium, one cell per day, each with its screenings."""
    rooms = list(cinema.auditoriums.order_by("name"))
    days = [monday + timedelta(days=i) for i in range(7)]
    cells = {(room.pk, day): [] for room in rooms for day in days}
    for screening in scheduling.week_screenings(cinema=cinema, monday=monday):
        local = screening.starts_at.astimezone(cinema.tz)
        cell = cells.get((screening.auditorium_id, local.date()))
        if cell is not None:
            cell.append(
                {
                    "screening": screening,
                    "starts": local,
                    "ends": screening.ends_at.astimezone(cinema.tz),
                }
            )
    return {
        "days": days,
        "rows": [{"room": room, "cells": [cells[room.pk, day] for day in days]} for room in rooms],
        "count": sum(len(c) for c in cells.values()),
    }


def _page(
    request,
    cinema,
    monday,
    *,
    plan_form=None,
    preview=None,
    copy_preview=None,
    error="",
    copy_error="",
    status=200,
):
    today = scheduling.local_today(cinema)
    rooms = list(cinema.auditoriums.order_by("name"))
    if plan_form is None:
        first = max(monday, today)
        plan_form = PlanForm(
            auditoriums=rooms,
            initial={
                "first_day": first,
                "last_day": monday + timedelta(days=6),
                "weekdays": [d for d, _ in WEEKDAYS],
            },
        )
    context = {
        "title": "Schedule",
        "cinema": cinema,
        "cinemas": cinemas_for(request.user),
        "monday": monday,
        "sunday": monday + timedelta(days=6),
        "previous_week": monday - timedelta(days=7),
        "next_week": monday + timedelta(days=7),
        "today": today,
        "week": _week(cinema, monday),
        "form": plan_form,
        "preview": preview,
        "copy_preview": copy_preview,
        "error": error,
        "copy_error": copy_error,
        "time_zone": cinema.time_zone,
    }
    return render(request, "staff/schedule.html", context, status=status)


def _status(exc: errors.DomainError) -> int:
    return 400 if isinstance(exc, errors.InvalidRequest) else 409


# ---- pages ------------------------------------------------------------------------------------
@staff_page("plan_schedule")
def week(request):
    cinema = _cinema(request, request.GET.get("cinema"))
    return _page(request, cinema, _monday(request, cinema))


@require_POST
@staff_page("plan_schedule")
def plan(request):
    """Preview (action=preview) or save (action=save) the screenings of a pattern."""
    room = _auditorium(request, request.POST.get("auditorium"))
    cinema = room.cinema
    monday = _monday(request, cinema)
    form = PlanForm(request.POST, auditoriums=list(cinema.auditoriums.order_by("name")))
    if not form.is_valid():
        return _page(
            request,
            cinema,
            monday,
            plan_form=form,
            status=400,
            error="Some fields need fixing: see the message beside each.",
        )
    data = form.cleaned_data
    try:
        the_plan = scheduling.pattern_expand(
            film=data["film"],
            auditorium=room,
            weekdays=data["weekdays"],
            times=data["times"],
            first_day=data["first_day"],
            last_day=data["last_day"],
            gap_minutes=data["gap_minutes"],
            format=data["format"],
            audio_language=data["audio_language"],
            subtitles=data["subtitles"],
        )
        if request.POST.get("action") == "save":
            made = scheduling.plan_save(plan=the_plan, user=request.user)
            messages.success(
                request, f"{len(made)} screening(s) of {data['film'].title} saved in {room.name}."
            )
            return HttpResponseRedirect(
                _week_url(
                    cinema, scheduling.week_start(made[0].starts_at.astimezone(cinema.tz).date())
                )
            )
        scheduling.plan_check(the_plan)
    except errors.ScheduleConflict as exc:
        # Refused at save (perhaps a race): show the plan with its clashes as they are now.
        return _page(
            request, cinema, monday, plan_form=form, preview=the_plan, error=exc.message, status=409
        )
    except errors.DomainError as exc:
        return _page(
            request, cinema, monday, plan_form=form, error=exc.message, status=_status(exc)
        )
    return _page(request, cinema, monday, plan_form=form, preview=the_plan)


@require_POST
@staff_page("plan_schedule")
def copy_week(request):
    """Preview or save a copy of the week (`week`, its Monday) into the next one."""
    cinema = _cinema(request, request.POST.get("cinema"))
    monday = _monday(request, cinema)
    the_plan = None
    try:
        the_plan = scheduling.week_copy_plan(cinema=cinema, monday=monday)
        if request.POST.get("action") == "save":
            made = scheduling.plan_save(plan=the_plan, user=request.user, action="screening.copied")
            messages.success(request, f"{len(made)} screening(s) copied into the next week.")
            return HttpResponseRedirect(_week_url(cinema, monday + timedelta(days=7)))
        scheduling.plan_check(the_plan)
    except errors.ScheduleConflict as exc:
        return _page(
            request, cinema, monday, copy_preview=the_plan, copy_error=exc.message, status=409
        )
    except errors.DomainError as exc:
        return _page(request, cinema, monday, copy_error=exc.message, status=_status(exc))
    return _page(request, cinema, monday, copy_preview=the_plan)


@require_http_methods(["GET", "POST"])
@staff_page("plan_schedule")
def move(request, pk: int):
    screenings = narrow(
        Screening.objects.select_related("film", "auditorium__cinema"),
        request.user,
        "auditorium__cinema_id",
    )
    screening = get_object_or_404(screenings, pk=pk)
    cinema = screening.auditorium.cinema
    rooms = list(cinema.auditoriums.order_by("name"))
    local = screening.starts_at.astimezone(cinema.tz)
    error, status = "", 200
    if request.method == "POST":
        form = MoveForm(request.POST, auditoriums=rooms)
        if form.is_valid():
            room = _auditorium(request, form.cleaned_data["auditorium"])
            try:
                starts = scheduling.local_moment(
                    form.cleaned_data["day"], form.cleaned_data["start"], cinema.tz
                )
                moved = scheduling.screening_move(
                    screening_id=screening.pk, starts_at=starts, auditorium=room, user=request.user
                )
            except errors.DomainError as exc:
                error, status = exc.message, _status(exc)
            else:
                seatmap.invalidate(moved.pk)
                new_local = moved.starts_at.astimezone(cinema.tz)
                messages.success(
                    request,
                    f"{moved.film.title} moved to {new_local:%a %d %b %H:%M} in {room.name}.",
                )
                return HttpResponseRedirect(
                    _week_url(cinema, scheduling.week_start(new_local.date()))
                )
        else:
            error, status = "Some fields need fixing: see the message beside each.", 400
    else:
        form = MoveForm(
            auditoriums=rooms,
            initial={
                "day": local.date(),
                "start": local.time(),
                "auditorium": screening.auditorium_id,
            },
        )
    context = {
        "title": "Move a screening",
        "screening": screening,
        "cinema": cinema,
        "local_start": local,
        "local_end": screening.ends_at.astimezone(cinema.tz),
        "form": form,
        "error": error,
        "back": _week_url(cinema, scheduling.week_start(local.date())),
    }
    return render(request, "staff/schedule_move.html", context, status=status)


urlpatterns = [
    path("", week, name="schedule"),
    path("plan/", plan, name="schedule_plan"),
    path("copy/", copy_week, name="schedule_copy"),
    path("screenings/<int:pk>/move/", move, name="schedule_move"),
]
