"""The onsale's gate on the storefront, and the waiting room's pages.

`guarded` (the seat map page and the hold POST, whose `pk` is the screening) and `refusal`
(checkout, once the hold says which screening) let a browser through to a screening of an
onsale only with a valid admission token for it, bound to this browser's waiter cookie; any
other browser is sent to the waiting page (`/wait/<onsale>/?s=<screening>`), told why when its
token was refused. Checking a token needs no Redis and no database (the onsale is found by the
cached selector), so admitted buyers carry on while Redis is down.

The waiting page and its JSON status touch Redis only: no session, no database (the onsale's
settings live in Redis; the selector is asked only when Redis has lost them). With Redis down
they answer 503 with Retry-After: nobody is let through unqueued.
"""

from __future__ import annotations

import contextlib
import time
from functools import lru_cache, wraps
from urllib.parse import urlencode

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from ticketing.onsale import selectors, tokens, waiting

from . import formats
from .shaped import ShapedTemplate

RETRY_AFTER = 15  # seconds, when the waiting room is unavailable
WAITER_COOKIE_AGE = 24 * 3600
POLL_SECONDS = 5

REASONS = {
    "forged": lambda: _("Your admission could not be verified. Please wait for your turn here."),
    "expired": lambda: _("Your admission time is over. You are back in the queue."),
    "other_onsale": lambda: _("Your admission is for another sale. Please wait for your turn."),
    "other_browser": lambda: _(
        "Your admission belongs to another browser. Please wait for your turn here."
    ),
}

# The waiting page, rendered once per shape (onsale, language, state...) and filled per waiter
# with what is its own (shaped.py says what a slot may be used for in the template).
WAITING_PAGE_SLOTS = (
    "status.serverTime",
    "status.position",
    "status.positionText",
    "status.estimateText",
    "status.perMinute",
    "status.waitMinutes",
    "opens_in",
    "page_url",
    "csrf_token",
)
WAITING_PAGE = ShapedTemplate("storefront/waiting.html", slots=WAITING_PAGE_SLOTS)


@lru_cache(maxsize=1024)
def _opening_words(opens_at, zone: str, language: str) -> str:
    """The opening time in words, once per onsale and language (every waiting page shows it)."""
    return formats.datetime_long(opens_at, zone, language)


def _wait_url(onsale_id: int, screening_id: int | None, why: str = "") -> str:
    query = {k: v for k, v in (("s", screening_id), ("why", why)) if v}
    url = reverse("storefront:wait", args=[onsale_id])
    return f"{url}?{urlencode(query)}" if query else url


def refusal(request: HttpRequest, screening_id: int, *, since=None) -> HttpResponse | None:
    """None if the browser may open this screening now; else the way to the waiting page.

    `since` (checkout: when the hold was made): the admission must have been good then, so a
    buyer who held seats in time finishes paying on the hold's own clock."""
    onsale = selectors.onsale_for_screening(screening_id)
    if onsale is None:
        return None
    try:
        tokens.check(
            request.COOKIES.get(tokens.admission_cookie(onsale.id)),
            onsale_id=onsale.id,
            waiter_id=tokens.waiter_of(request),
            now=since.timestamp() if since is not None else None,
        )
    except tokens.Refused as refused:
        why = "" if refused.reason == "missing" else refused.reason
        # 303: a refused POST (hold, checkout) is followed by a GET of the waiting page.
        response = redirect(_wait_url(onsale.id, screening_id, why))
        response.status_code = 303
        return response
    return None


def guarded(view):
    """For views whose `pk` is a screening's id (the seat map page, the hold)."""

    @wraps(view)
    def inner(request, pk, *args, **kwargs):
        return refusal(request, pk) or view(request, pk, *args, **kwargs)

    return inner


def purchase_done(request: HttpRequest, screening_id: int) -> None:
    """An admitted buyer placed their order: their admission stops counting as live (at rate
    0 the next buyer comes in). The token stays good until it ends; Redis away changes nothing."""
    onsale = selectors.onsale_for_screening(screening_id)
    waiter = tokens.waiter_of(request) if onsale else None
    if onsale and waiter:
        with contextlib.suppress(waiting.WaitingRoomUnavailable):
            waiting.admission_done(onsale.id, waiter)


# ---- the waiting room ------------------------------------------------------------------------
def _unavailable(request: HttpRequest, onsale_id: int, *, json: bool) -> HttpResponse:
    message = _("The waiting room is unavailable. Please try again in a moment.")
    if json:
        response = JsonResponse(
            {
                "error": {
                    "code": "waiting_room_unavailable",
                    "message": message,
                    "details": {"retry_after": RETRY_AFTER},
                }
            },
            status=503,
        )
    else:
        context = {
            "retry": RETRY_AFTER,
            "refresh": RETRY_AFTER,
            "wait_url": request.get_full_path(),
        }
        response = render(request, "storefront/waiting_unavailable.html", context, status=503)
    response["Retry-After"] = str(RETRY_AFTER)
    return response


def _screening_param(request: HttpRequest) -> int | None:
    try:
        value = int(request.GET.get("s", ""))
    except ValueError:
        return None
    return value if value > 0 else None


def _minutes_text(minutes: float | None) -> str:
    if minutes is None:
        return _("Estimating your wait…")
    if minutes < 1:
        return _("Less than a minute to go.")
    rounded = int(minutes + 0.999)
    if rounded >= 120:
        hours = int(minutes / 60 + 0.5)
        return ngettext("About %(n)s hour to go.", "About %(n)s hours to go.", hours) % {"n": hours}
    return ngettext("About %(n)s minute to go.", "About %(n)s minutes to go.", rounded) % {
        "n": rounded
    }


def _clock(seconds: float) -> str:
    """h:mm:ss (or m:ss) until opening, as the script shows it."""
    whole = max(0, int(seconds + 0.999))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _status(visit: waiting.Visit) -> dict:
    """The waiter's position in words and figures, for the page and its poll alike."""
    body = {
        "state": visit.state,
        "serverTime": int(visit.server_time * 1000),
        "opensAt": int(visit.opens_at * 1000) if visit.opens_at else None,
        "position": visit.position if visit.state in ("waiting", "admitted") else None,
        "perMinute": round(visit.per_minute, 1),
        "waitMinutes": None if visit.wait_minutes is None else round(visit.wait_minutes, 1),
        "paused": visit.paused,
        "admitted": visit.state == "admitted",
    }
    if visit.state == "early":
        body["positionText"] = _("The sale has not opened yet. Your place is saved.")
        body["estimateText"] = _(
            "When it opens, everyone waiting now is put in a random order: arriving early "
            "gives no advantage, so there is no need to refresh."
        )
    elif visit.state == "opening":
        body["positionText"] = _("The sale is opening…")
        body["estimateText"] = ""
    elif visit.state == "admitted":
        body["positionText"] = _("It's your turn!")
        body["estimateText"] = _("Taking you to the seats…")
    else:
        ahead = max(0, visit.position - 1)
        body["positionText"] = (
            ngettext(
                "You are number %(n)s in the queue.",
                "You are number %(n)s in the queue.",
                visit.position,
            )
            % {"n": visit.position}
            + " "
            + ngettext("%(n)s person ahead of you.", "%(n)s people ahead of you.", ahead)
            % {"n": ahead}
        )
        body["estimateText"] = (
            _("Admissions are paused for a moment. You keep your place.")
            if visit.paused
            else _minutes_text(visit.wait_minutes)
        )
    return body


@require_GET
@never_cache
def wait(request: HttpRequest, onsale_id: int) -> HttpResponse:
    return wait_page(request, onsale_id)


def wait_page(request: HttpRequest, onsale_id: int, *, cached_only: bool = False) -> HttpResponse:
    """The waiting page (or the way to the seats once admitted). `cached_only` (the fast path,
    `waiting_fast`): raise `selectors.NotCached` before anything is written rather than ask the
    database."""
    onsale = selectors.onsale_get(onsale_id, cached_only=cached_only)
    if onsale is None:
        raise Http404("No such onsale.")
    screening_id = _screening_param(request)
    # where a buyer goes once the queue is behind them: the screening they came for, if it is
    # (or was) in this onsale
    if screening_id and selectors.screening_in_onsale(
        screening_id, onsale.id, cached_only=cached_only
    ):
        onward = reverse("storefront:screening", args=[screening_id])
    else:
        onward = reverse("storefront:home")
    if onsale.closed():  # the rush is over: no queue, the screening as any other
        return redirect(onward)
    waiter = tokens.waiter_of(request)
    new_waiter = waiter is None
    if new_waiter:
        waiter = waiting.new_waiter_id()
    try:
        visit = waiting.visit(onsale.id, waiter, load=lambda: onsale)
    except waiting.WaitingRoomUnavailable:
        return _unavailable(request, onsale.id, json=False)

    if visit.state == "admitted":
        response = redirect(onward)
        token = tokens.issue(onsale_id=onsale.id, waiter_id=waiter, ends_at=visit.admission_ends)
        response.set_cookie(
            tokens.admission_cookie(onsale.id),
            token,
            max_age=max(1, int(visit.admission_ends - time.time())),
            httponly=True,
            samesite="Lax",
            secure=request.is_secure(),
        )
    else:
        language = translation.get_language()
        opens_local = _opening_words(onsale.opens_at, onsale.zone, language)
        status = _status(visit)
        why = request.GET.get("why", "")
        refresh = POLL_SECONDS * 2
        if visit.state == "early":
            # without JavaScript: back by the opening, never after it, in a few steps (each
            # interval is another shape of the page)
            left = visit.opens_at - visit.server_time
            refresh = max(step for step in (2, 5, 10, 30) if step <= max(left, 2))
        elif visit.state == "opening":
            refresh = 2
        context = {
            "onsale": onsale,
            "status": status,
            "opens_local": opens_local,
            "refresh": refresh,
            "reason": REASONS[why]() if why in REASONS else "",
            "requeued": visit.requeued,
            "status_url": reverse("storefront:wait-status", args=[onsale.id]),
            "page_url": _wait_url(onsale.id, screening_id),
            "poll_ms": POLL_SECONDS * 1000,
            "opens_in": _clock(visit.opens_at - visit.server_time)
            if visit.state == "early"
            else "",
            "csrf_token": get_token(request),  # the language switch's form
        }
        response = HttpResponse(WAITING_PAGE.render(request, context))
    if new_waiter:
        response.set_signed_cookie(
            tokens.WAITER_COOKIE,
            waiter,
            salt=tokens.WAITER_SALT,
            max_age=WAITER_COOKIE_AGE,
            httponly=True,
            samesite="Lax",
            secure=request.is_secure(),
        )
    return response


def unknown_answer() -> JsonResponse:
    """The poll's answer to a browser with no place yet: the page makes one."""
    return JsonResponse({"state": "unknown", "reload": True})


def poll_answer(visit: waiting.Visit) -> JsonResponse:
    """The poll's answer to a waiter: their status, and whether to reload (their turn came)."""
    body = _status(visit)
    body["reload"] = visit.state == "admitted"
    return JsonResponse(body)


def closed_answer(onsale_id: int, *, cached_only: bool) -> JsonResponse | None:
    """The poll's answer once the onsale has closed (the page, reloaded, goes to the seats);
    None while it has not. `cached_only`: raises `selectors.NotCached` when memory and Redis do
    not know the onsale (every staff change drops it), so that Django answers, and caches it."""
    onsale = selectors.onsale_get(onsale_id, cached_only=cached_only)
    if onsale is None or not onsale.closed():
        return None
    return JsonResponse({"state": "closed", "reload": True})


@require_GET
@never_cache
def wait_status(request: HttpRequest, onsale_id: int) -> HttpResponse:
    """The poll: Redis only (one script), no session, no database."""
    waiter = tokens.waiter_of(request)
    if waiter is None:
        return unknown_answer()
    if closed := closed_answer(onsale_id, cached_only=False):
        return closed
    try:
        visit = waiting.visit(onsale_id, waiter, load=lambda: selectors.onsale_get(onsale_id))
    except waiting.NoSuchOnsale:
        return JsonResponse(
            {"error": {"code": "not_found", "message": "No such onsale.", "details": {}}},
            status=404,
        )
    except waiting.WaitingRoomUnavailable:
        return _unavailable(request, onsale_id, json=True)
    return poll_answer(visit)
