"""The buyer's order page, reached by the signed link in the confirmation email (no login)."""

from __future__ import annotations

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone, translation
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from . import tickets as eticket
from .models import Order, OrderStatus


def order_for_token(token: str) -> Order:
    """The order a token names; 404 for a forged, altered or stale link (no hint which)."""
    order_id = eticket.order_id_from_token(token)
    if order_id is None:
        raise Http404("No such order.")
    order = (
        Order.objects.select_related("screening__film", "screening__auditorium__cinema")
        .prefetch_related("tickets")
        .filter(pk=order_id)
        .first()
    )
    if order is None or timezone.now() > order.screening.ends_at + eticket.ORDER_PAGE_GRACE:
        raise Http404("No such order.")
    return order


def _private(response: HttpResponse) -> HttpResponse:
    # The URL is the key: keep it out of shared caches, search engines and Referer headers.
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "no-referrer"
    return response


@require_GET
def order_page(request, token: str):
    order = order_for_token(token)
    with translation.override(order.language):
        return _render_order(request, order, token)


def ticket_rows(order: Order) -> list[dict]:
    """The order's tickets as the buyer sees them, with a QR code for each valid one."""
    valid = order.effective_status == OrderStatus.PAID
    qr_label = _("QR code of the ticket for seat %(seat)s")
    return [
        {
            "seat": t.seat_label,
            "type": t.ticket_type_name,
            "code": t.code,
            "refunded": t.refunded_at is not None,
            "checked_in": t.checked_in_at is not None,
            "qr": (
                # segno's own markup; the only text in it (the label) is escaped by qr_svg.
                mark_safe(eticket.qr_svg(t, label=qr_label % {"seat": t.seat_label}))  # noqa: S308
                if valid and t.refunded_at is None
                else ""
            ),
        }
        for t in order.tickets.all()
    ]


def _render_order(request, order: Order, token: str) -> HttpResponse:
    screening = order.screening
    cinema = screening.auditorium.cinema
    starts = timezone.localtime(screening.starts_at, cinema.tz)
    status = order.effective_status
    valid = status == OrderStatus.PAID
    tickets = ticket_rows(order)
    context = {
        "order": order,
        "status": status,
        "status_label": OrderStatus(status).label,
        "valid": valid,
        "film": screening.film,
        "screening": screening,
        "cinema": cinema,
        "auditorium": screening.auditorium,
        "starts_local": starts,
        "time_zone": cinema.time_zone,
        "zone_abbreviation": starts.tzname(),
        "tickets": tickets,
        "token": token,
    }
    return _private(render(request, "orders/order_page.html", context))


@require_GET
def order_calendar(request, token: str):
    order = order_for_token(token)
    response = HttpResponse(
        eticket.calendar_ics(order), content_type="text/calendar; charset=utf-8; method=PUBLISH"
    )
    response["Content-Disposition"] = f'attachment; filename="marquee-{order.code}.ics"'
    return _private(response)
