"""The catalogue: home, a film, a cinema, and a screening's seat map page. Reads only."""

from __future__ import annotations

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET

from ticketing import buyers
from ticketing.inventory import holds, seatmap
from ticketing.money import minor_digits
from ticketing.screenings import selectors as catalogue
from ticketing.screenings.models import Cinema, Film, ScreeningStatus

from . import campaigns, onsale_gate, presale, selectors

CINEMA_COOKIE = "marquee_cinema"


def _chosen_cinema(request: HttpRequest, all_cinemas: list[Cinema]) -> Cinema | None:
    """The cinema picked with ?cinema= (remembered in a cookie), or None for all of them."""
    slug = request.GET.get("cinema", request.COOKIES.get(CINEMA_COOKIE, ""))
    return next((c for c in all_cinemas if c.slug == slug), None)


def _remember_cinema(request: HttpRequest, response: HttpResponse, cinema: Cinema | None):
    if "cinema" in request.GET:
        if cinema is None:
            response.delete_cookie(CINEMA_COOKIE)
        else:
            response.set_cookie(CINEMA_COOKIE, cinema.slug, max_age=365 * 24 * 3600, samesite="Lax")
    return response


def _programme_context(request: HttpRequest, cinema: Cinema | None, all_cinemas) -> dict:
    """The date strip from the cinema's today (with all cinemas, the westernmost one's: tonight's
    shows there are still ahead), the day chosen with ?date=, and what plays that day."""
    if cinema is None and all_cinemas:
        today = min(selectors.today_for(c) for c in all_cinemas)
    else:
        today = selectors.today_for(cinema)
    strip = selectors.date_strip(today)
    day = selectors.parse_day(request.GET.get("date"), strip)
    return {
        "cinema": cinema,
        "cinemas": all_cinemas,
        "strip": strip,
        "day": day,
        "today": today,
        "films": selectors.programme(day=day, cinema=cinema, all_cinemas=all_cinemas),
    }


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    all_cinemas = selectors.cinemas()
    cinema = _chosen_cinema(request, all_cinemas)
    context = {
        **_programme_context(request, cinema, all_cinemas),
        "campaign": campaigns.featured(request),
    }
    context["coming_soon"] = selectors.coming_soon(context["today"])
    return _remember_cinema(request, render(request, "storefront/home.html", context), cinema)


@require_GET
def film_detail(request: HttpRequest, slug: str) -> HttpResponse:
    film = get_object_or_404(Film, slug=slug)
    all_cinemas = selectors.cinemas()
    cinema = _chosen_cinema(request, all_cinemas)
    days = selectors.film_showtimes(film, cinema=cinema)
    not_here = None
    if cinema is not None and not days:
        # Not at the remembered cinema: show where it does play rather than "nothing".
        everywhere = selectors.film_showtimes(film)
        if everywhere:
            not_here, cinema, days = cinema, None, everywhere
    context = {
        "film": film,
        "cinemas": all_cinemas,
        "cinema": cinema,
        "not_here": not_here,
        "days": days,
        "presale_form": presale.showtimes_opened(request, film, days),
        "campaign": campaigns.for_film(request, film),
    }
    return render(request, "storefront/film.html", context)


@require_GET
def cinema_detail(request: HttpRequest, slug: str) -> HttpResponse:
    all_cinemas = selectors.cinemas()
    cinema = next((c for c in all_cinemas if c.slug == slug), None)
    if cinema is None:
        raise Http404("No such cinema.")
    context = _programme_context(request, cinema, all_cinemas)
    return render(request, "storefront/cinema.html", context)


def _screening_or_404(pk: int):
    screening = catalogue.screening_get(screening_id=pk)
    if screening is None:
        raise Http404("No such screening.")
    return screening


def price_config(prices: selectors.PriceList) -> dict:
    """What the page scripts need to price a choice the way the server does."""
    return {
        "currency": prices.currency,
        "currencyDigits": minor_digits(prices.currency),
        "language": translation.get_language(),
        "ticketTypes": prices.ticket_types,
        "surcharges": prices.surcharges,
        "bookingFee": prices.booking_fee,
        "bookingFeeCap": prices.booking_fee_cap,
    }


def screening_context(request: HttpRequest, screening, **extra) -> dict:
    """Everything the seat map page shows; the hold view re-renders it with an error."""
    cinema = screening.auditorium.cinema
    prices = selectors.price_list(screening)
    seat_map = selectors.seat_map(screening.pk)
    now = timezone.now()
    buyer = buyers.browser_key(request, create=False)
    live_hold = selectors.live_hold_for(screening.pk, buyer) if buyer else None
    mine = set(live_hold.seat_ids) if live_hold else set()
    opening = presale.opening_for(request, screening)
    config = {
        **price_config(prices),
        "seatsUrl": reverse("storefront:screening-seats", args=[screening.pk]),
        "pollMs": settings.MARQUEE["SEAT_MAP_POLL_MS"],
        # Pushed statuses (storefront/live.py) when there is a push server; polling otherwise.
        "pushUrl": (
            f"{settings.MARQUEE_PUSH_URL}screenings/{screening.pk}/seats/"
            if settings.MARQUEE_PUSH_URL
            else ""
        ),
        "pushedPollMs": settings.MARQUEE["SEAT_MAP_PUSHED_POLL_MS"],
        "maxSeats": holds.max_seats(),
        # The hold button's text for each count: plural rules differ by language.
        "holdLabels": {
            n: ngettext("Hold %(n)s seat", "Hold %(n)s seats", n) % {"n": n}
            for n in range(1, holds.max_seats() + 1)
        },
    }
    return {
        "screening": screening,
        "film": screening.film,
        "cinema": cinema,
        "auditorium": screening.auditorium,
        "on_sale": screening.is_on_sale(now, opens_at=opening),
        "presale_possible": not screening.is_on_sale(now, opens_at=opening)
        and screening.is_selling(now),
        "cancelled": screening.status == ScreeningStatus.CANCELLED,
        "started": screening.starts_at <= now,
        "prices": prices,
        "seat_map": seat_map,
        "live_hold": live_hold,
        "max_seats": holds.max_seats(),
        "quantities": range(1, holds.max_seats() + 1),
        "config": config,
        "mine": mine,
        "selected": mine,
        "taken": set(),
        **extra,
    }


@require_GET
@onsale_gate.guarded
def screening_detail(request: HttpRequest, pk: int) -> HttpResponse:
    screening = _screening_or_404(pk)
    return render(request, "storefront/screening.html", screening_context(request, screening))


@require_GET
def screening_seats(request: HttpRequest, pk: int) -> HttpResponse:
    """The live statuses for the page's script, in the API's shape (one cached query). Not the
    API's URL: the API throttles anonymous readers, and a page polls every few seconds."""
    body = seatmap.cached_render(pk)
    if body is None:
        raise Http404("No such screening.")
    response = HttpResponse(body, content_type="application/json")
    response["Cache-Control"] = "no-store"
    return response
