"""Staff: order lookup (`/staff/orders/`), for the box office and managers.

Find an order by its code, a ticket's code, the buyer's email or name; open it to see its
tickets and seats, what happened to it (status history, payments, refunds, check-ins), and act:
send the confirmation again (box office and up; a few times an hour at most) or refund the order
or chosen tickets (managers: `staff.refund_orders`). Only the member's cinemas: another
cinema's order answers 404, as if it did not exist.

The actions are POSTs (CSRF) that call the services (`orders.order_confirmation_resend`,
`payments.refunds.refund_create`) and come back to the order page with what happened, refusals
included, in words.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from payments import refunds
from ticketing import errors
from ticketing.money import format_money
from ticketing.orders import services as orders

from . import order_selectors
from .access import staff_page


def _local(value, tz):
    return timezone.localtime(value, tz) if value else None


@require_GET
@staff_page("look_up_orders")
def order_search(request):
    query = request.GET.get("q", "")[:512]  # a signed QR code is up to 512
    found = order_selectors.orders_search(user=request.user, query=query)
    rows = []
    for order in found:
        cinema = order.screening.auditorium.cinema
        rows.append(
            {
                "order": order,
                "cinema": cinema,
                "starts": _local(order.screening.starts_at, cinema.tz),
                "total": format_money(order.total, order.currency),
                "status": order.effective_status,
            }
        )
    return render(
        request,
        "staff/orders.html",
        {"title": "Orders", "query": query, "rows": rows, "searched": bool(query.strip())},
    )


def _order_or_404(request, order_id):
    order = order_selectors.order_for_staff(user=request.user, order_id=order_id)
    if order is None:
        raise Http404
    return order


@require_GET
@staff_page("look_up_orders")
def order_detail(request, order_id):
    order = _order_or_404(request, order_id)
    cinema = order.screening.auditorium.cinema
    tz = cinema.tz
    tickets = [
        {
            "ticket": t,
            "price": format_money(t.price + t.surcharge - t.discount, order.currency),
            "checked_in_at": _local(t.checked_in_at, tz),
            "refunded_at": _local(t.refunded_at, tz),
            "refundable": t.refunded_at is None and t.checked_in_at is None,
        }
        for t in order.tickets.all()
    ]
    payments = [
        {
            "payment": p,
            "amount": format_money(p.amount, p.currency),
            "at": _local(p.created_at, tz),
            "refunds": [
                {
                    "refund": r,
                    "amount": format_money(r.amount, r.currency),
                    "at": _local(r.created_at, tz),
                    "seats": ", ".join(t.seat_label for t in r.tickets.all()),
                }
                for r in p.refunds.all()
            ],
        }
        for p in order.payments.all()
    ]
    history = [{"change": h, "at": _local(h.at, tz)} for h in order.history.all()]
    audit = [{"entry": e, "at": _local(e.at, tz)} for e in order_selectors.order_audit(order)[:20]]
    return render(
        request,
        "staff/orders_detail.html",
        {
            "title": f"Order {order.code}",
            "order": order,
            "status": order.effective_status,
            "cinema": cinema,
            "starts": _local(order.screening.starts_at, tz),
            "paid_at": _local(order.paid_at, tz),
            "created_at": _local(order.created_at, tz),
            "zone": _local(order.screening.starts_at, tz).tzname(),
            "tickets": tickets,
            "payments": payments,
            "history": history,
            "audit": audit,
            "money": {
                "subtotal": format_money(order.subtotal, order.currency),
                "booking_fee": format_money(order.booking_fee, order.currency),
                "discount": format_money(order.discount, order.currency),
                "total": format_money(order.total, order.currency),
            },
            "may_resend": request.user.has_perm("staff.resend_confirmation")
            and order.status == "paid",
            "may_refund": request.user.has_perm("staff.refund_orders")
            and order.status == "paid"
            and any(t["refundable"] for t in tickets),
            "resend_limit": orders.RESEND_LIMIT,
        },
    )


@require_POST
@staff_page("resend_confirmation")
def order_resend(request, order_id):
    order = _order_or_404(request, order_id)
    try:
        left = orders.order_confirmation_resend(order_id=order.pk, user=request.user)
    except errors.ConfirmationResendLimit as refused:
        messages.error(
            request,
            f"Not sent: the confirmation of {order.code} was already resent "
            f"{refused.details['limit']} times in the last hour. Try again later, or check the "
            "email address with the buyer.",
        )
    except errors.DomainError as refused:
        messages.error(request, f"Not sent: {refused.message}")
    else:
        messages.success(
            request,
            f"Confirmation of {order.code} sent again to {order.customer_email} "
            f"({left} more resend{'s' if left != 1 else ''} possible this hour).",
        )
    return redirect("staff:order", order_id=order.pk)


def _refused(order, refused: errors.DomainError) -> str:
    """A refusal in words, naming the seats it is about."""
    seats = {t.pk: t.seat_label for t in order.tickets.all()}
    named = [seats.get(pk, str(pk)) for pk in refused.details.get("tickets") or []]
    if isinstance(refused, errors.TicketCheckedIn):
        return (
            f"Not refunded: {', '.join(named)} already admitted at the door; a ticket that was "
            "used is not refunded. Choose the other tickets."
        )
    if isinstance(refused, errors.TicketAlreadyRefunded) and named:
        return f"Not refunded: {', '.join(named)} already refunded."
    return f"Not refunded: {refused.message}"


@require_POST
@staff_page("refund_orders")
def order_refund(request, order_id):
    order = _order_or_404(request, order_id)
    whole = request.POST.get("scope") == "all"
    try:
        ticket_ids = None if whole else [int(v) for v in request.POST.getlist("tickets")]
    except ValueError:
        ticket_ids = []
    if ticket_ids == []:
        messages.error(request, "Not refunded: choose the tickets to refund, or the whole order.")
        return redirect("staff:order", order_id=order.pk)
    reason = request.POST.get("reason", "").strip()[:150] or "refunded at the box office"
    try:
        refund = refunds.refund_create(
            order_id=order.pk,
            ticket_ids=ticket_ids,
            actor=f"user:{request.user.pk}",
            actor_name=request.user.get_username(),
            reason=reason,
        )
    except errors.DomainError as refused:
        messages.error(request, _refused(order, refused))
    else:
        count = refund.tickets.count()
        messages.success(
            request,
            f"Refunded {format_money(refund.amount, refund.currency)} for {count} "
            f"ticket{'s' if count != 1 else ''} of {order.code}; the seats are back on sale and "
            "the buyer is emailed.",
        )
    return redirect("staff:order", order_id=order.pk)


urlpatterns = [
    path("", order_search, name="orders"),
    path("<uuid:order_id>/", order_detail, name="order"),
    path("<uuid:order_id>/resend/", order_resend, name="order_resend"),
    path("<uuid:order_id>/refund/", order_refund, name="order_refund"),
]
