"""The confirmation email, delivered from the outbox by a Celery worker."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import timezone, translation

from ticketing.outbox.services import handler

from .models import Order
from .services import CONFIRMATION_TOPIC

log = logging.getLogger(__name__)


def format_money(amount: int, currency: str) -> str:
    return f"{amount // 100}.{amount % 100:02d} {currency}"


def confirmation_context(order: Order) -> dict:
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
        "tickets": [
            {
                "seat": t.seat_label,
                "type": t.ticket_type_name,
                "price": format_money(t.price + t.surcharge, order.currency),
                "code": t.code,
            }
            for t in order.tickets.all()
        ],
        "booking_fee": format_money(order.booking_fee, order.currency),
        "total": format_money(order.total, order.currency),
    }


@handler(CONFIRMATION_TOPIC)
def send_confirmation(payload: dict) -> None:
    order = (
        Order.objects.select_related("screening__film", "screening__auditorium__cinema")
        .prefetch_related("tickets")
        .get(pk=payload["order_id"])
    )
    with translation.override(order.language):
        context = confirmation_context(order)
        subject = f"Your tickets for {order.screening.film.title} · {order.code}"
        text = render_to_string("emails/order_confirmation.txt", context)
        html = render_to_string("emails/order_confirmation.html", context)
    message = EmailMultiAlternatives(
        subject,
        text,
        settings.DEFAULT_FROM_EMAIL,
        [order.customer_email],
        headers={"X-Marquee-Order": order.code},
    )
    message.attach_alternative(html, "text/html")
    message.send()
    log.info("confirmation for order %s sent to %s", order.code, order.customer_email)
