"""Emails to buyers, delivered from the outbox by a Celery worker (once per dedupe key). The
topics and their payloads are in `ticketing.outbox.topics`; amounts are written the way the
order's language writes them (`ticketing.money.format_money`).

- CONFIRMATION_TOPIC: tickets with one QR code each, the order page link and an .ics calendar
  entry; sent again, under a new key, when staff resend it (`orders.services.
  order_confirmation_resend`). Structure:

      multipart/mixed
        multipart/alternative
          text/plain
          multipart/related
            text/html              (<img src="cid:ticket-<id>@marquee">)
            image/png  x tickets   (Content-ID, inline)
        text/calendar; method=PUBLISH   (attachment, <code>.ics)

- REFUNDED_TOPIC: the amount, and which tickets were refunded and which stand.
- SCREENING_CANCELLED_TOPIC: the screening was cancelled and the whole order refunded (sent
  once per order by `ticketing.flows.mass_refunds`, when the money is on its way).
- AUTO_REFUNDED_TOPIC: the payment could not become tickets (it arrived after the hold expired
  and the seats had gone, or its amount was not the order's); refunded in full.
- DUPLICATE_REFUNDED_TOPIC: a second payment for a paid order; the tickets stand, the extra
  payment is returned.

Callers queue them with `ticketing.outbox.services.message_add` inside their transaction, with a
dedupe key naming the event (e.g. `order.refunded:<refund id>`).
"""

from __future__ import annotations

import hashlib
import json
import logging
from email.mime.image import MIMEImage
from email.mime.text import MIMEText

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.message import SafeMIMEMultipart
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from ticketing.money import format_money
from ticketing.outbox.services import handler
from ticketing.outbox.topics import (
    AUTO_REFUNDED_TOPIC,
    CONFIRMATION_TOPIC,
    DUPLICATE_REFUNDED_TOPIC,
    REFUNDED_TOPIC,
    SCREENING_CANCELLED_TOPIC,
)

from . import tickets as eticket
from .models import Order

log = logging.getLogger(__name__)


def _order(order_id) -> Order:
    return (
        Order.objects.select_related("screening__film", "screening__auditorium__cinema")
        .prefetch_related("tickets")
        .get(pk=order_id)
    )


def ticket_cid(ticket) -> str:
    return f"ticket-{ticket.pk}@marquee"


def order_context(order: Order) -> dict:
    """What every buyer email shows about the order and its screening."""
    screening = order.screening
    cinema = screening.auditorium.cinema
    starts = timezone.localtime(screening.starts_at, cinema.tz)
    return {
        "order": order,
        "film": screening.film,
        "cinema": cinema,
        "auditorium": screening.auditorium,
        "screening": screening,
        "starts_local": starts,
        "time_zone": cinema.time_zone,
        "zone_abbreviation": starts.tzname(),
        "order_link": eticket.order_link(order),
    }


def confirmation_context(order: Order) -> dict:
    context = order_context(order)
    context.update(
        {
            "tickets": [
                {
                    "seat": t.seat_label,
                    "type": t.ticket_type_name,
                    "price": format_money(t.price + t.surcharge, order.currency),
                    "surcharge": format_money(t.surcharge, order.currency) if t.surcharge else "",
                    "discount": format_money(t.discount, order.currency) if t.discount else "",
                    "code": t.code,
                    "cid": ticket_cid(t),
                    "refunded": t.refunded_at is not None,
                }
                for t in order.tickets.all()
            ],
            "subtotal": format_money(order.subtotal, order.currency),
            "booking_fee": format_money(order.booking_fee, order.currency),
            "discount": format_money(order.discount, order.currency) if order.discount else "",
            "total": format_money(order.total, order.currency),
        }
    )
    return context


class RelatedEmail(EmailMultiAlternatives):
    """An email whose HTML alternative travels with inline parts (multipart/related), so the
    HTML can show images by `cid:` without the mail client fetching anything."""

    def __init__(self, *args, inline_parts=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.inline_parts = list(inline_parts)

    def _create_alternatives(self, msg):
        if not self.inline_parts:
            return super()._create_alternatives(msg)
        encoding = self.encoding or settings.DEFAULT_CHARSET
        alternative = SafeMIMEMultipart(_subtype=self.alternative_subtype, encoding=encoding)
        if self.body:
            alternative.attach(msg)
        for content, mimetype in self.alternatives:
            part = self._create_mime_attachment(content, mimetype)
            if mimetype == "text/html":
                related = SafeMIMEMultipart(_subtype="related", encoding=encoding)
                related.attach(part)
                for inline in self.inline_parts:
                    related.attach(inline)
                part = related
            alternative.attach(part)
        return alternative


def _inline_png(data: bytes, cid: str, filename: str) -> MIMEImage:
    image = MIMEImage(data, "png")
    image.add_header("Content-ID", f"<{cid}>")
    image.add_header("Content-Disposition", "inline", filename=filename)
    return image


def _ics_attachment(ics: str, filename: str) -> MIMEText:
    # Base64 keeps the CRLF line endings RFC 5545 asks for intact through any mail relay.
    part = MIMEText(ics, "calendar", "utf-8")
    part.set_param("method", "PUBLISH")
    part.add_header("Content-Disposition", "attachment", filename=filename)
    return part


def message_id(key: str) -> str:
    """A Message-ID that is the same every time this email is sent: a worker that dies between
    sending and recording it sends it again (at-least-once), and mail systems that see the same
    Message-ID twice show one."""
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2].strip("> ") or "marquee.invalid"
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}@{domain}>"


def _payload_key(topic: str, payload: dict) -> str:
    """An outbox message's topic and payload never change between its sends."""
    return f"{topic}:{json.dumps(payload, sort_keys=True)}"


def _build(
    order: Order, subject: str, template: str, context: dict, *, key: str, **kwargs
) -> RelatedEmail:
    text = render_to_string(f"emails/{template}.txt", context)
    html = render_to_string(f"emails/{template}.html", context)
    message = RelatedEmail(
        subject,
        text,
        settings.DEFAULT_FROM_EMAIL,
        [order.customer_email],
        headers={"X-Marquee-Order": order.code, "Message-ID": message_id(key)},
        **kwargs,
    )
    message.attach_alternative(html, "text/html")
    return message


def confirmation_message(order: Order, *, resend: str = "") -> RelatedEmail:
    """The tickets email; a resend (staff sent it again) has a Message-ID of its own, so the
    buyer's mail shows it rather than folding it into the first."""
    key = f"{CONFIRMATION_TOPIC}:{order.pk}" + (f":resend:{resend}" if resend else "")
    with translation.override(order.language):
        context = confirmation_context(order)
        subject = _("Your tickets for %(film)s · order %(code)s") % {
            "film": order.screening.film.title,
            "code": order.code,
        }
        inline = [
            _inline_png(eticket.qr_png(t), ticket_cid(t), f"ticket-{t.seat_label}.png")
            for t in order.tickets.all()
            if t.refunded_at is None
        ]
        message = _build(
            order,
            subject,
            "order_confirmation",
            context,
            key=key,
            inline_parts=inline,
        )
    message.attach(_ics_attachment(eticket.calendar_ics(order), f"marquee-{order.code}.ics"))
    return message


@handler(CONFIRMATION_TOPIC)
def send_confirmation(payload: dict) -> None:
    order = _order(payload["order_id"])
    confirmation_message(order, resend=payload.get("resend", "")).send()
    log.info("confirmation for order %s sent to %s", order.code, order.customer_email)


def refund_message(payload: dict) -> RelatedEmail:
    order = _order(payload["order_id"])
    ticket_ids = payload.get("ticket_ids")
    refunded = [t for t in order.tickets.all() if ticket_ids is None or t.pk in set(ticket_ids)]
    with translation.override(order.language):
        context = order_context(order)
        context.update(
            {
                "amount": format_money(payload["amount"], payload["currency"]),
                "reason": payload.get("reason", ""),
                "whole_order": not ticket_ids,
                "refunded_tickets": [
                    {"seat": t.seat_label, "type": t.ticket_type_name} for t in refunded
                ],
                "remaining_tickets": [
                    {"seat": t.seat_label, "type": t.ticket_type_name}
                    for t in order.tickets.all()
                    if t.refunded_at is None and t not in refunded
                ],
            }
        )
        subject = _("Refund for order %(code)s · %(film)s") % {
            "code": order.code,
            "film": order.screening.film.title,
        }
        return _build(
            order,
            subject,
            "order_refunded",
            context,
            key=_payload_key(REFUNDED_TOPIC, payload),
        )


@handler(REFUNDED_TOPIC)
def send_refund(payload: dict) -> None:
    message = refund_message(payload)
    message.send()
    log.info("refund email for order %s sent", message.extra_headers["X-Marquee-Order"])


def seats_lost_message(payload: dict) -> RelatedEmail:
    order = _order(payload["order_id"])
    with translation.override(order.language):
        context = order_context(order)
        context["amount"] = format_money(payload["amount"], payload["currency"])
        context["reason"] = payload.get("reason", "")  # amount_mismatch: the payment was wrong
        subject = _("Your payment for order %(code)s has been refunded") % {"code": order.code}
        key = _payload_key(AUTO_REFUNDED_TOPIC, payload)
        return _build(order, subject, "seats_lost_refund", context, key=key)


@handler(AUTO_REFUNDED_TOPIC)
def send_seats_lost(payload: dict) -> None:
    message = seats_lost_message(payload)
    message.send()
    log.info("seats-lost refund email for order %s sent", message.extra_headers["X-Marquee-Order"])


def duplicate_refund_message(payload: dict) -> RelatedEmail:
    """A second payment for an order that was already paid: the tickets stand, the extra
    payment is returned."""
    order = _order(payload["order_id"])
    with translation.override(order.language):
        context = order_context(order)
        context["amount"] = format_money(payload["amount"], payload["currency"])
        subject = _("A duplicate payment for order %(code)s has been refunded") % {
            "code": order.code
        }
        key = _payload_key(DUPLICATE_REFUNDED_TOPIC, payload)
        return _build(order, subject, "duplicate_payment_refund", context, key=key)


@handler(DUPLICATE_REFUNDED_TOPIC)
def send_duplicate_refund(payload: dict) -> None:
    message = duplicate_refund_message(payload)
    message.send()
    log.info(
        "duplicate-payment refund email for order %s sent", message.extra_headers["X-Marquee-Order"]
    )


def screening_cancelled_message(payload: dict) -> RelatedEmail:
    """The screening will not take place: the order is refunded in full (or had nothing to
    refund), in the buyer's language."""
    order = _order(payload["order_id"])
    with translation.override(order.language):
        context = order_context(order)
        context["amount"] = (
            format_money(payload["amount"], payload["currency"]) if payload.get("amount") else ""
        )
        context["tickets"] = [
            {"seat": t.seat_label, "type": t.ticket_type_name} for t in order.tickets.all()
        ]
        names = {"film": order.screening.film.title, "code": order.code}
        if context["amount"]:
            subject = _("Screening cancelled: %(film)s · order %(code)s refunded") % names
        else:
            subject = _("Screening cancelled: %(film)s · order %(code)s") % names
        return _build(
            order,
            subject,
            "screening_cancelled",
            context,
            key=f"{SCREENING_CANCELLED_TOPIC}:{order.pk}",
        )


@handler(SCREENING_CANCELLED_TOPIC)
def send_screening_cancelled(payload: dict) -> None:
    message = screening_cancelled_message(payload)
    message.send()
    log.info(
        "screening-cancelled email for order %s sent", message.extra_headers["X-Marquee-Order"]
    )
