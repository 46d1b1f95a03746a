"""Staff: seat layouts, drawn in the browser (`/staff/layouts/`).

- `GET  /staff/layouts/`: the auditoriums of the member's cinemas.
- `GET  /staff/layouts/<id>/`: the editor (static/marquee/staff-layout-editor.js): a grid of
  cells, the text grid beside it. Without JavaScript the text grid alone is a form that saves.
- `POST /staff/layouts/<id>/preview/`: what the grid posted as `text` would add, remove, retype
  and move, and which seats in use it would not keep (JSON); nothing is written.
- `POST /staff/layouts/<id>/`: save. The server parses the text (the notation of
  `ticketing.screenings.layouts`), checks and applies it under the auditorium's lock through
  `ticketing.flows.layouts.layout_replace`, which also writes the audit entry.

JSON answers: 200 `{"plan": ..., "change": ..., "text": ...}`; a text that does not parse, 400
`layout_invalid` with `details.errors` (each naming its line and column); a change that would
not keep a seat in use, 409 `layout_seats_in_use` with `details.refusals` (each seat, what
would happen to it, its screenings). Another cinema's auditorium is 404; a role without
`staff.edit_layouts` is 403.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_http_methods, require_POST

from ticketing.flows import layouts as layout_flows
from ticketing.screenings import layouts
from ticketing.screenings.models import Auditorium, SeatType

from .access import narrow, staff_page

MAX_TEXT = 40_000  # characters: 100 rows of 200 cells and their labels


def _auditoriums(user):
    return narrow(Auditorium.objects.select_related("cinema"), user, "cinema_id")


def _wants_json(request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _error(code: str, message: str, status: int, **details) -> JsonResponse:
    return JsonResponse(
        {"error": {"code": code, "message": message, "details": details}}, status=status
    )


def _text_of(request) -> str:
    text = request.POST.get("text", "")
    return text[: MAX_TEXT + 1]


def _too_long(text: str) -> bool:
    return len(text) > MAX_TEXT


def _invalid(exc: ValidationError) -> JsonResponse:
    return _error(
        "layout_invalid",
        "The layout text has mistakes: " + " ".join(exc.messages),
        400,
        errors=exc.messages,
    )


def _refused(exc: layout_flows.LayoutRefused) -> JsonResponse:
    return _error(
        "layout_seats_in_use",
        exc.messages[0],
        409,
        refusals=[r.as_dict() for r in exc.refusals],
        plan=exc.plan.as_dict(),
    )


@staff_page("edit_layouts")
def layout_list(request):
    rooms = (
        _auditoriums(request.user)
        .annotate(
            seat_total=Count("seats"),
            blocked=Count("seats", filter=Q(seats__is_sellable=False)),
        )
        .order_by("cinema__name", "name")
    )
    cinemas: dict = {}
    for room in rooms:
        cinemas.setdefault(room.cinema, []).append(room)
    return render(
        request,
        "staff/layouts.html",
        {"title": "Seat layouts", "cinemas": list(cinemas.items())},
    )


def _page(request, room, *, text: str | None = None, errors=(), refusals=(), status=200):
    current = layouts.layout_render(room)
    plan = layout_flows.layout_plan(auditorium=room, text=current) if current else None
    return render(
        request,
        "staff/layout_editor.html",
        {
            "title": f"Seat layout: {room.name}",
            "room": room,
            "text": current if text is None else text,
            "errors": errors,
            "refusals": refusals,
            "exact": layouts.is_exact(layouts.layout_of(room)),
            "notation": layouts.NOTATION_HELP,
            "config": {
                "auditorium": room.pk,
                "name": f"{room.cinema.name} {room.name}",
                "saveUrl": reverse("staff:layout", args=[room.pk]),
                "previewUrl": reverse("staff:layout_preview", args=[room.pk]),
                "inUse": _in_use_places(room, plan),
                "seatTypes": [{"value": v, "label": str(label)} for v, label in SeatType.choices],
                "maxRows": layouts.MAX_ROWS,
                "maxColumns": layouts.MAX_COLUMNS,
            },
        },
        status=status,
    )


def _in_use_places(room, plan) -> list[dict]:
    """The seats held or sold for screenings to come, where they are now: the editor marks them."""
    if plan is None or not plan.in_use:
        return []
    wanted = set(plan.in_use)
    return [
        {"label": spec.label, "x": spec.x, "y": spec.y}
        for spec in plan.layout.seats
        if spec.label in wanted
    ]


@staff_page("edit_layouts")
@require_http_methods(["GET", "POST"])
def layout_editor(request, auditorium_id: int):
    room = get_object_or_404(_auditoriums(request.user), pk=auditorium_id)
    if request.method == "GET":
        return _page(request, room)
    text = _text_of(request)
    as_json = _wants_json(request)
    if _too_long(text):
        message = f"The layout text is too long (at most {MAX_TEXT} characters)."
        if as_json:
            return _error("layout_invalid", message, 400, errors=[message])
        return _page(request, room, text=text[:MAX_TEXT], errors=[message], status=400)
    try:
        plan = layout_flows.layout_plan(auditorium=room, text=text)
        change = layout_flows.layout_replace(auditorium=room, text=text, user=request.user)
    except layout_flows.LayoutRefused as exc:
        if as_json:
            return _refused(exc)
        return _page(request, room, text=text, refusals=exc.refusals, status=409)
    except ValidationError as exc:
        if as_json:
            return _invalid(exc)
        return _page(request, room, text=text, errors=exc.messages, status=400)
    saved = layouts.layout_render(room)
    after = layout_flows.layout_plan(auditorium=room, text=saved)
    if as_json:
        return JsonResponse(
            {
                "change": {
                    "added": change.created,
                    "changed": change.updated,
                    "removed": change.deleted,
                    "summary": str(change),
                },
                "plan": plan.as_dict(),
                "text": saved,
                "inUse": _in_use_places(room, after),
            }
        )
    messages.success(request, f"Layout of {room.name} saved: {change}.")
    return redirect("staff:layout", room.pk)


@staff_page("edit_layouts")
@require_POST
def layout_preview(request, auditorium_id: int):
    room = get_object_or_404(_auditoriums(request.user), pk=auditorium_id)
    text = _text_of(request)
    if _too_long(text):
        message = f"The layout text is too long (at most {MAX_TEXT} characters)."
        return _error("layout_invalid", message, 400, errors=[message])
    try:
        plan = layout_flows.layout_plan(auditorium=room, text=text)
    except ValidationError as exc:
        return _invalid(exc)
    return JsonResponse({"plan": plan.as_dict()})


urlpatterns = [
    path("", layout_list, name="layouts"),
    path("<int:auditorium_id>/", layout_editor, name="layout"),
    path("<int:auditorium_id>/preview/", layout_preview, name="layout_preview"),
]
