"""What a buyer carries to the door: QR codes for tickets, a calendar entry, the order page link.

The QR code holds the ticket's unguessable code and its screening, signed by the server
(`MQ2:<kid>.<body>.<sig>`, ticketing/ticket_signing.py), nothing personal: a door looks the code
up, or checks the signature against the list it cached when the network is down. Tickets sold
before signed codes carry `MQT:<code>`; the door still takes those, online.

The order page is reached through a signed link (no login): the token is the order id signed
with the project's SECRET_KEY, so it cannot be guessed or altered.
"""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import segno
from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from ticketing import ticket_signing

from .models import Order, Ticket

QR_PREFIX = ticket_signing.PREFIX
ORDER_LINK_SALT = "marquee.order-page"
# The link in the confirmation email keeps working for this long after it was made. Screenings
# are sold at most months ahead; the order page also stops at ORDER_PAGE_GRACE after the film.
ORDER_LINK_MAX_AGE = timedelta(days=730)
ORDER_PAGE_GRACE = timedelta(days=30)


# --- QR codes ---------------------------------------------------------------------------------
def qr_payload(ticket: Ticket) -> str:
    """The exact text in a ticket's QR code: its code and screening, signed."""
    return ticket_signing.sign(code=ticket.code, screening_id=ticket.order.screening_id)


def qr_code(ticket: Ticket) -> segno.QRCode:
    # Error correction M survives a cracked phone screen or a crumpled print-out; never a
    # Micro QR, which door scanners often refuse.
    return segno.make(qr_payload(ticket), error="m", micro=False, boost_error=False)


def qr_svg(ticket: Ticket, *, label: str = "") -> str:
    """An inline <svg> (no XML declaration) that scales with CSS: it has a viewBox, no size,
    and is labelled for screen readers (role="img", aria-label and <title>)."""
    label = label or f"QR code of the ticket for seat {ticket.seat_label}"
    svg = qr_code(ticket).svg_inline(
        scale=1,
        border=4,
        omitsize=True,
        svgclass="qr",
        lineclass=None,
        title=label,
        dark="#000",
        light="#fff",
    )
    return svg.replace(
        "<svg ",
        f'<svg role="img" aria-label="{escape(label)}" shape-rendering="crispEdges" ',
        1,
    )


def qr_png(ticket: Ticket, *, scale: int = 8) -> bytes:
    """A PNG for email clients (inline, by Content-ID): black on white, a quiet zone of 4."""
    buffer = io.BytesIO()
    qr_code(ticket).save(buffer, kind="png", scale=scale, border=4, dark="#000", light="#fff")
    return buffer.getvalue()


# --- the signed order link --------------------------------------------------------------------
def order_token(order: Order) -> str:
    return signing.dumps(order.pk.hex, salt=ORDER_LINK_SALT, compress=False)


def order_id_from_token(token: str) -> uuid.UUID | None:
    """The order id in a token, or None when it is forged, altered, malformed or too old."""
    try:
        value = signing.loads(
            token, salt=ORDER_LINK_SALT, max_age=ORDER_LINK_MAX_AGE.total_seconds()
        )
        return uuid.UUID(hex=value)
    except (signing.BadSignature, TypeError, ValueError):
        return None


def order_path(order: Order) -> str:
    return reverse("orders:page", kwargs={"token": order_token(order)})


def order_link(order: Order) -> str:
    """The absolute link to the order page, for emails."""
    return settings.MARQUEE_PAYMENTS["SITE_URL"].rstrip("/") + order_path(order)


# --- iCalendar (RFC 5545) ---------------------------------------------------------------------
def ics_escape(value: str) -> str:
    """Escape a TEXT value: backslash, semicolon, comma and newlines."""
    return (
        value.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\r", "\\n")
        .replace("\n", "\\n")
    )


def ics_fold(line: str) -> str:
    """Fold a content line at 75 octets (continuations start with one space), never inside a
    UTF-8 character."""
    out: list[str] = []
    current, size, limit = [], 0, 75
    for char in line:
        width = len(char.encode("utf-8"))
        if size + width > limit:
            out.append("".join(current))
            current, size, limit = [], 0, 74  # the leading space counts
        current.append(char)
        size += width
    out.append("".join(current))
    return "\r\n ".join(out)


def ics_datetime(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def calendar_ics(order: Order) -> str:
    """A VCALENDAR with one VEVENT for the order's screening (METHOD:PUBLISH)."""
    screening = order.screening
    auditorium = screening.auditorium
    cinema = auditorium.cinema
    tickets = [t for t in order.tickets.all() if t.refunded_at is None]
    address = ", ".join(part for part in (cinema.address.strip(), cinema.city) if part)
    location = " · ".join(part for part in (cinema.name, auditorium.name, address) if part)
    seats = ", ".join(f"{t.seat_label} ({t.ticket_type_name})" for t in tickets)
    link = order_link(order)
    description = f"Order {order.code}\nSeats: {seats}\n{link}"
    host = urlsplit(settings.MARQUEE_PAYMENTS["SITE_URL"]).hostname or "marquee.local"
    cancelled = order.status in ("cancelled", "refunded", "expired")
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Marquee//Tickets//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "BEGIN:VEVENT",
        f"UID:order-{order.pk}@{host}",
        f"DTSTAMP:{ics_datetime(timezone.now())}",
        f"DTSTART:{ics_datetime(screening.starts_at)}",
        f"DTEND:{ics_datetime(screening.ends_at)}",
        f"SUMMARY:{ics_escape(screening.film.title)}",
        f"LOCATION:{ics_escape(location)}",
        f"DESCRIPTION:{ics_escape(description)}",
        f"URL:{link}",
        f"STATUS:{'CANCELLED' if cancelled else 'CONFIRMED'}",
        "TRANSP:OPAQUE",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return "".join(ics_fold(line) + "\r\n" for line in lines)
