"""What the box office reads about orders: a search, one order with everything that happened to
it. Always narrowed to the member's cinemas: another cinema's order is not found.
"""

from __future__ import annotations

import contextlib
import re
import uuid

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet

from payments.models import Payment, Refund
from ticketing import ticket_signing
from ticketing.audit.models import AuditEntry
from ticketing.orders.models import Order, Ticket

from .access import narrow

SEARCH_LIMIT = 50
# MQ- and six of Crockford's base32: typed with or without the dash, in any case.
ORDER_CODE = re.compile(r"^(?:MQ-?)?([0-9A-HJKMNP-TV-Z]{6})$", re.IGNORECASE)


def _orders(user) -> QuerySet[Order]:
    return narrow(
        Order.objects.select_related("screening__film", "screening__auditorium__cinema", "partner"),
        user,
        "screening__auditorium__cinema_id",
    )


def orders_search(*, user, query: str, limit: int = SEARCH_LIMIT) -> list[Order]:
    """Orders of the member's cinemas that match `query`, newest first: an order code (MQ-XXXXXX,
    the dash and case optional), a ticket's code (as printed, or a scanned QR: a signed `MQ2:` code
    is believed only once its signature checks out), an
    email (part of one, if it has an @) or a customer's name (part of it). No query: the latest
    orders."""
    query = query.strip()
    orders = _orders(user)
    if not query:
        return list(orders.order_by("-created_at")[:limit])
    match = Q(pk__in=[])
    code = ORDER_CODE.match(query)
    if code:
        match |= Q(code=f"MQ-{code.group(1).upper()}")
    with contextlib.suppress(ticket_signing.CodeInvalid):  # a ticket's code, or its QR's text
        ticket = ticket_signing.parse(query).code
        match |= Exists(Ticket.objects.filter(order=OuterRef("pk"), code=ticket))
    if "@" in query:
        match |= Q(customer_email__icontains=query)
    elif len(query) >= 2:
        match |= Q(customer_name__icontains=query) | Q(customer_email__istartswith=query)
    with contextlib.suppress(ValueError):  # an order's id, as in its page's address
        match |= Q(pk=uuid.UUID(query))
    return list(orders.filter(match).order_by("-created_at")[:limit])


def order_for_staff(*, user, order_id) -> Order | None:
    """One order of the member's cinemas with its tickets, history, payments and refunds, or
    None (unknown, or another cinema's)."""
    refunds = Refund.objects.prefetch_related("tickets").order_by("created_at")
    payments = Payment.objects.prefetch_related(Prefetch("refunds", queryset=refunds)).order_by(
        "created_at"
    )
    return (
        _orders(user)
        .prefetch_related("tickets", "history", Prefetch("payments", queryset=payments))
        .filter(pk=order_id)
        .first()
    )


def order_audit(order: Order) -> QuerySet[AuditEntry]:
    """What staff did to this order (refunds, resends), newest first."""
    return AuditEntry.objects.filter(
        object_type=Order._meta.label_lower, object_id=str(order.pk)
    ).order_by("-at", "-id")
