"""Staff: the door (`/staff/door/`), where tickets are checked in with a phone's camera.

The page is a shell for static/marquee/door.js: it lists today's screenings of the member's
cinemas (each as its cinema's clock reads "today") and picks the one whose doors are open now;
the script scans QR codes (the browser's BarcodeDetector, or the vendored barcode-detector
ponyfill with its WebAssembly reader from our static files), takes typed codes, and calls
`POST /api/v1/checkins/`. It keeps the public keys and the chosen screening's ticket list on
the device, so it can still admit signed tickets when the network fails, and sends those scans
to `POST /api/v1/checkins/sync/` when it returns.

`/staff/door/device/` is the same page for a scanner phone without a staff session: it holds no
data (the script reads the screenings of the key's cinema from the API with the scanner key the
device keeps), and does nothing until a key is set.

`/staff/door/sw.js` is the page's service worker (static/marquee/door-sw.js, served from here so
that its scope is /staff/door/): it keeps the page and its files so the door reloads offline.
"""

from __future__ import annotations

from datetime import timedelta
from itertools import groupby
from pathlib import Path

from csp.decorators import csp_update
from django.conf import settings
from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import path
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from ticketing.screenings.selectors import screenings_on_local_day, screenings_scheduled

from .access import cinemas_for, staff_page

# The ponyfill compiles its QR reader from WebAssembly: allowed on this page only.
WASM = {"script-src": ["'wasm-unsafe-eval'"]}
# Doors open before the film: until this long after a screening starts, it is still the one
# being checked in, unless a later one is starting.
LATE_ARRIVALS = timedelta(minutes=20)
SERVICE_WORKER = Path(settings.BASE_DIR) / "static" / "marquee" / "door-sw.js"


def todays_screenings(user, *, now=None):
    """Today's scheduled screenings at the member's cinemas, each cinema's "today" by its clock,
    with any whose doors are open now on another day (a late show after midnight, checked in
    before it; one that began just before midnight, for those arriving late)."""
    now = now or timezone.now()
    cinemas = sorted(cinemas_for(user), key=lambda c: timezone.localdate(now, c.tz))
    opens = getattr(settings, "MARQUEE_CHECKIN", {}).get("DOORS_OPEN_MINUTES", 60)
    window = Q(pk__in=[])
    for day, group in groupby(cinemas, key=lambda c: timezone.localdate(now, c.tz)):
        group = list(group)
        on_day = screenings_on_local_day(screenings_scheduled(), day=day, cinemas=group)
        window |= Q(pk__in=on_day.values("pk"))
        window |= Q(
            auditorium__cinema__in=[c.pk for c in group],
            starts_at__gt=now - LATE_ARRIVALS,
            starts_at__lte=now + timedelta(minutes=opens),
        )
    return list(screenings_scheduled().filter(window).order_by("starts_at", "pk"))


def screening_now(screenings, *, now=None):
    """The screening checked in now: the first that started less than LATE_ARRIVALS ago or has
    not started; after the last one has started, the last one."""
    now = now or timezone.now()
    for screening in screenings:
        if screening.starts_at > now - LATE_ARRIVALS:
            return screening
    return screenings[-1] if screenings else None


def _describe(screening) -> dict:
    cinema = screening.auditorium.cinema
    local = timezone.localtime(screening.starts_at, cinema.tz)
    opens = getattr(settings, "MARQUEE_CHECKIN", {}).get("DOORS_OPEN_MINUTES")
    return {
        "id": screening.pk,
        "film": screening.film.title,
        "starts_at": screening.starts_at.isoformat(),
        "time": f"{local:%H:%M}",
        "auditorium": screening.auditorium.name,
        "cinema": cinema.name,
        "time_zone": cinema.time_zone,
        # Offline, the page refuses a scan before the doors open, as the server does.
        "doors_open_at": (screening.starts_at - timedelta(minutes=opens)).isoformat()
        if opens
        else None,
    }


@staff_page("checkin_tickets")
@never_cache  # the member's own page: the service worker keeps it, browsers' caches do not
@csp_update(WASM)
@csp_update(WASM, REPORT_ONLY=True)
@require_GET
def door(request):
    screenings = todays_screenings(request.user)
    chosen = None
    asked = request.GET.get("screening", "")
    if asked.isascii() and asked.isdigit():  # "²" is a digit to str.isdigit, not to int()
        chosen = next((s for s in screenings if s.pk == int(asked)), None)
    chosen = chosen or screening_now(screenings)
    config = {
        "screenings": [_describe(s) for s in screenings],
        "screening": chosen.pk if chosen else None,
        "api": "/api/v1/checkins/",
        # The reader's file at our static URL (hashed in production), never a CDN's.
        "ponyfill": static("vendor/barcode-detector/barcode-detector-ponyfill.js"),
        "wasm": static("vendor/barcode-detector/zxing_reader.wasm"),
        "service_worker": "/staff/door/sw.js",
        "user": request.user.get_username(),
    }
    return render(
        request,
        "staff/door.html",
        {
            "title": "Door",
            "screenings": config["screenings"],
            "chosen": config["screening"],
            "several_cinemas": len({s.auditorium.cinema_id for s in screenings}) > 1,
            "door_config": config,
        },
    )


@never_cache
@csp_update(WASM)
@csp_update(WASM, REPORT_ONLY=True)
@require_GET
def device(request):
    """The door for a device checking in with its scanner key (`create_scanner CINEMA`), no one
    signed in: a shell without data. The API answers only to the key."""
    config = {
        "screenings": [],
        "screening": None,
        "device": True,
        "api": "/api/v1/checkins/",
        "ponyfill": static("vendor/barcode-detector/barcode-detector-ponyfill.js"),
        "wasm": static("vendor/barcode-detector/zxing_reader.wasm"),
        "service_worker": "/staff/door/sw.js",
        "user": "",
    }
    return render(
        request,
        "staff/door.html",
        {"title": "Door (scanner)", "screenings": [], "device": True, "door_config": config},
    )


@never_cache
@require_GET
def service_worker(request):
    """The door's service worker, at /staff/door/ so that its scope covers the page. Public: it
    holds no data, only which files to keep."""
    response = HttpResponse(
        SERVICE_WORKER.read_text(encoding="utf-8"), content_type="text/javascript"
    )
    response["Service-Worker-Allowed"] = "/staff/door/"
    return response


urlpatterns = [
    path("", door, name="door"),
    path("device/", device, name="door-device"),
    path("sw.js", service_worker, name="door-sw"),
]
