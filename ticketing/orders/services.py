"""Every change to an order goes through here: create from a hold, pay, cancel, expire.

Each status change is a conditional update on the current status plus a history row, in the
transaction that makes the change; what follows from it (the confirmation email) is written to
the outbox in that same transaction and sent after commit.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from ticketing import errors
from ticketing.audit.services import audit_record
from ticketing.db import retry_on_conflict
from ticketing.inventory import claims, seatmap
from ticketing.inventory.holds import (
    extended_expiry,
    hold_check_owner,
    hold_lock,
    hold_mark_ordered,
)
from ticketing.inventory.models import Hold, HoldStatus
from ticketing.outbox.models import OutboxMessage
from ticketing.outbox.services import message_add
from ticketing.outbox.topics import CONFIRMATION_TOPIC
from ticketing.screenings.models import Auditorium, Film, Screening
from ticketing.screenings.sales import screening_refresh_for_sale

from . import codes, partner_events, pricing, signals
from .models import Order, OrderStatus, OrderStatusChange, PaidVia, Ticket

log = logging.getLogger(__name__)

ENDED = {OrderStatus.CANCELLED, OrderStatus.EXPIRED, OrderStatus.REFUNDED}

ALLOWED = {
    OrderStatus.PENDING_PAYMENT: {OrderStatus.PAID, OrderStatus.CANCELLED, OrderStatus.EXPIRED},
    OrderStatus.EXPIRED: {OrderStatus.PAID},  # a late payment that re-claims its seats
    OrderStatus.PAID: {OrderStatus.CANCELLED, OrderStatus.REFUNDED},
    OrderStatus.CANCELLED: set(),
    OrderStatus.REFUNDED: set(),
}


def _record(order: Order, to_status: str, *, actor: str, reason: str = "", **fields) -> None:
    """Move an order from the status it has to `to_status`, or fail if someone moved it first."""
    from_status = order.status
    if to_status not in ALLOWED[from_status]:
        raise errors.OrderStateConflict(status=from_status, wanted=to_status, order=str(order.pk))
    moved = Order.objects.filter(pk=order.pk, status=from_status).update(status=to_status, **fields)
    if not moved:
        raise errors.OrderStateConflict(status="changed", wanted=to_status, order=str(order.pk))
    OrderStatusChange.objects.create(
        order=order, from_status=from_status, to_status=to_status, actor=actor, reason=reason[:200]
    )
    order.status = to_status
    for name, value in fields.items():
        setattr(order, name, value)
    if to_status in ENDED:
        signals.orders_ended.send(sender=Order, order_ids=[order.pk], status=to_status)
    partner_events.tell_partner(order)


def _new_order(**fields) -> Order:
    for _ in range(5):
        try:
            with transaction.atomic():
                return Order.objects.create(code=codes.order_code(), **fields)
        except IntegrityError as exc:
            if "code" not in str(exc):
                raise
    raise RuntimeError("could not find a free order code")


@retry_on_conflict()
def order_create(
    *,
    hold_id,
    customer_email: str,
    customer_name: str,
    tickets: list[tuple[int, int | str]],
    partner=None,
    buyer_key: str = "",
    promo_code: str = "",
    language: str = "en",
    user=None,
    actor: str,
    discounter: pricing.Discounter | None = None,
) -> Order:
    """Turn a live hold into an order awaiting payment, priced here, never by the caller.

    A promo code is priced by `discounter` (promotions', through `ticketing.flows.checkout`):
    it gets the screening and the quote and says what comes off each ticket, and who funds it;
    it may refuse by raising. Without one, a promo code is refused.

    Reaching payment extends the hold once (within the hard cap). The claims move to the order
    in one conditional UPDATE on `expires_at > now`: a hold that dies meanwhile gives nothing.
    """
    now = timezone.now()
    hold = hold_lock(hold_id)
    hold_check_owner(hold, partner=partner, buyer_key=buyer_key)
    if hold.status == HoldStatus.ORDERED:
        raise errors.HoldNotActive(hold=str(hold.pk), status=hold.status, order=_order_of(hold))
    if hold.status != HoldStatus.ACTIVE or hold.expires_at <= now:
        raise errors.HoldExpired(hold=str(hold.pk), expired_at=hold.expires_at.isoformat())
    if not hold.screening.is_selling(now):
        raise errors.ScreeningNotOnSale(screening=hold.screening_id, reason="sales_closed")
    if promo_code and discounter is None:
        raise errors.PromoCodesUnavailable(promo_code=promo_code)

    # The seats it claimed, all or nothing; whether their claims still live is checked by the
    # statement that moves them to the order, below.
    held = set(hold.seat_ids)
    asked = [seat_id for seat_id, _ in tickets]
    if len(asked) != len(set(asked)) or set(asked) != held:
        raise errors.TicketsMismatch(held=sorted(held), asked=asked)

    screening = hold.screening
    quote = pricing.quote(screening, tickets)
    if discounter is not None:
        quote = pricing.with_discounts(quote, discounter(screening, quote))
    expires_at = extended_expiry(hold, now)
    order = _new_order(
        screening=screening,
        hold=hold,
        partner=partner,
        user=user if user is not None and user.is_authenticated else None,
        customer_email=customer_email,
        customer_name=customer_name,
        language=language,
        currency=quote.currency,
        subtotal=quote.subtotal,
        booking_fee=quote.booking_fee,
        discount=quote.discount,
        total=quote.total,
        promo_code=promo_code if quote.discount else "",
        expires_at=expires_at,
        created_at=now,
    )
    moved = claims.attach_to_order(hold.pk, order.pk, now=timezone.now(), expires_at=expires_at)
    if moved != len(held):
        # An active hold loses claims only by dying: a newcomer or the sweep cleared them while
        # this request waited for the hold's lock with the clock it read before. Raising rolls
        # the order back.
        raise errors.HoldExpired(hold=str(hold.pk), expired_at=hold.expires_at.isoformat())
    tickets = Ticket.objects.bulk_create(
        Ticket(
            order=order,
            seat=line.seat,
            ticket_type=line.ticket_type,
            ticket_type_name=line.ticket_type.name,
            seat_label=line.seat.label,
            seat_type=line.seat.seat_type,
            price=line.price,
            surcharge=line.surcharge,
            discount=line.discount,
            discount_funder=line.funder,
            code=codes.ticket_code(),
        )
        for line in quote.lines
    )
    # The answer is built from what is in hand, as order_get would fetch it: no query more.
    _prefetched(order, "tickets", sorted(tickets, key=lambda t: t.seat_label))
    hold_mark_ordered(hold=hold, expires_at=expires_at, now=now)
    OrderStatusChange.objects.create(
        order=order, from_status="", to_status=order.status, actor=actor, reason="created from hold"
    )
    log.info(
        "order %s created from hold %s, total %d %s",
        order.code,
        hold.pk,
        order.total,
        order.currency,
    )
    return order


def order_lock(order_id) -> Order:
    """The order, locked for the rest of the transaction (its screening, auditorium and cinema
    read along), or OrderNotFound. Every service that changes an order takes this lock first."""
    try:
        return (
            Order.objects.select_for_update(of=("self",))
            .select_related("screening__auditorium__cinema")
            .get(pk=order_id)
        )
    except (Order.DoesNotExist, ValueError, TypeError, ValidationError):
        raise errors.OrderNotFound(order=str(order_id)) from None


def _prefetched(instance, name: str, objects: list) -> None:
    """Store objects as prefetch_related(name) would have fetched them."""
    qs = getattr(instance, name).all()
    qs._result_cache = objects
    qs._prefetch_done = True
    cache = getattr(instance, "_prefetched_objects_cache", {})
    instance._prefetched_objects_cache = {**cache, name: qs}


def _order_of(hold: Hold) -> str | None:
    order_id = Order.objects.filter(hold_id=hold.pk).values_list("id", flat=True).first()
    return str(order_id) if order_id else None


def order_get(*, order_id, partner=None, buyer_key: str = "", staff: bool = False) -> Order:
    """An order, only to whoever may see it: its partner, the browser session that held its
    seats, or staff."""
    try:
        order = (
            Order.objects.select_related("screening__film", "screening__auditorium__cinema", "hold")
            .prefetch_related("tickets")
            .get(pk=order_id)
        )
    except (Order.DoesNotExist, ValueError, TypeError, ValidationError):
        raise errors.OrderNotFound(order=str(order_id)) from None
    if staff:
        return order
    if partner is not None and order.partner_id == partner.pk:
        return order
    if partner is None and buyer_key and order.hold and order.hold.buyer_key == buyer_key:
        return order
    raise errors.OrderNotFound(order=str(order_id))


@retry_on_conflict()
def order_mark_paid(
    *,
    order_id,
    actor: str,
    reason: str = "payment confirmed",
    via: str = PaidVia.OTHER,
    partner_reference: str = "",
    commission: int = 0,
) -> Order:
    """Make an order paid and its seats sold; queue the confirmation email after commit.

    `via` records who took the money (a provider's payment must later be refunded through it,
    not just cancelled); a partner's settlement brings its reference and commission.
    Paying twice is a no-op. A payment that arrives after the hold died re-claims the same seats
    if they are still free; if any was taken, `SeatsLost` is raised and nothing changes, so the
    payment layer refunds. Never a paid order without its seats.
    """
    order = order_lock(order_id)
    if order.status == OrderStatus.PAID:
        return order
    if order.status not in (OrderStatus.PENDING_PAYMENT, OrderStatus.EXPIRED):
        raise errors.OrderStateConflict(
            status=order.status, wanted=OrderStatus.PAID, order=str(order.pk)
        )
    now = timezone.now()
    seat_ids = list(order.tickets.values_list("seat_id", flat=True))
    # Held against a cancellation until commit, read anew: a screening cancelled meanwhile is
    # seen here, and one being cancelled waits for this payment and then sees it.
    screening_refresh_for_sale(order.screening)
    if not order.screening.is_selling(now):
        # Cancelled or started while the buyer paid: no ticket for it; the payment is refunded.
        raise errors.SeatsLost("The screening is no longer on sale.", order=str(order.pk), seats=[])
    sold = claims.mark_sold(order.pk, now=now)
    if sold != len(seat_ids):
        # Late payment: take back whatever is still free, all or nothing.
        have = claims.sold_seats(order.pk)
        missing = [s for s in seat_ids if s not in have]
        got = claims.claim(
            order.screening_id,
            missing,
            now=now,
            expires_at=None,
            order_id=order.pk,
            partner_id=order.partner_id,
        )
        if len(got) != len(missing):
            raise errors.SeatsLost(order=str(order.pk), seats=sorted(set(missing) - got))
        log.warning("order %s paid late; its seats were re-claimed", order.code)
    if order.status == OrderStatus.EXPIRED:
        signals.order_revived.send(sender=Order, order=order)
    settlement = {"partner_reference": partner_reference, "commission": commission}
    _record(
        order,
        OrderStatus.PAID,
        actor=actor,
        reason=reason,
        paid_at=now,
        paid_via=via,
        **(settlement if partner_reference else {}),
    )
    seatmap.invalidate(order.screening_id, seat_ids, seatmap.SOLD)
    message_add(
        topic=CONFIRMATION_TOPIC,
        dedupe_key=f"{CONFIRMATION_TOPIC}:{order.pk}",
        payload={"order_id": str(order.pk)},
    )
    return order


@retry_on_conflict()
def order_cancel(*, order_id, actor: str, reason: str = "") -> Order:
    """Cancel an order and put its seats back on sale at once.

    A pending order is simply cancelled. A paid order can be cancelled until its screening
    starts, unless a payment provider took its money: that order is refunded instead
    (`ticketing.flows.cancellation` decides which a buyer's "cancel" means).
    """
    order = order_lock(order_id)
    if order.status == OrderStatus.CANCELLED:
        return order
    if order.status == OrderStatus.PAID and order.paid_via == PaidVia.PROVIDER:
        # Cancelling would keep the buyer's money: a paid order of ours is refunded instead.
        raise errors.OrderStateConflict(
            "This order was paid through a payment provider: refund it instead.",
            status=order.status,
            order=str(order.pk),
        )
    started = order.screening.starts_at <= timezone.now()
    if order.status == OrderStatus.PAID and started and order.screening.status != "cancelled":
        # (A cancelled screening's orders end whenever it is cancelled: the film did not run.)
        raise errors.OrderStateConflict(
            "The screening has started; this order can no longer be cancelled.",
            status=order.status,
            order=str(order.pk),
        )
    _record(order, OrderStatus.CANCELLED, actor=actor, reason=reason or "cancelled")
    claims.release_order(order.pk)
    seatmap.invalidate(order.screening_id)
    return order


@retry_on_conflict()
def order_mark_refunded(*, order_id, actor: str, reason: str = "refunded") -> Order:
    """Record that an order's money went back to the buyer.

    A paid order becomes `refunded` (its seats were released by the refund). An order that was
    never paid (a payment that succeeded too late and was refunded automatically) keeps or gets
    an unpaid final status: a pending one is cancelled and its claims released, an expired one
    stays expired; either way the history says why.
    """
    order = order_lock(order_id)
    if order.status == OrderStatus.REFUNDED:
        return order
    if order.status == OrderStatus.PAID:
        _record(order, OrderStatus.REFUNDED, actor=actor, reason=reason)
    elif order.status == OrderStatus.PENDING_PAYMENT:
        _record(order, OrderStatus.CANCELLED, actor=actor, reason=reason)
    else:
        OrderStatusChange.objects.create(
            order=order,
            from_status=order.status,
            to_status=order.status,
            actor=actor,
            reason=reason[:200],
        )
    claims.release_order(order.pk)
    seatmap.invalidate(order.screening_id)
    return order


def order_note(*, order_id, actor: str, reason: str) -> None:
    """Write in an order's history something that happened to its money without changing its
    status (a refund the provider failed, a payment of the wrong amount given back): the history
    is where staff look first. Called with the order locked."""
    order = order_lock(order_id)
    OrderStatusChange.objects.create(
        order=order,
        from_status=order.status,
        to_status=order.status,
        actor=actor,
        reason=reason[:200],
    )


RESEND_LIMIT = 3  # resends of one order's confirmation an hour
RESEND_WINDOW = timedelta(hours=1)


def resend_key_prefix(order_id) -> str:
    return f"{CONFIRMATION_TOPIC}:{order_id}:resend:"


@transaction.atomic
def order_confirmation_resend(*, order_id, user, limit: int = RESEND_LIMIT) -> int:
    """Send a paid order's confirmation again (staff at the box office, for a buyer who lost
    it): a new outbox message under a new dedupe key, so it is sent once more, with a Message-ID
    of its own (mail systems would hide a second copy of the first). Returns how many resends
    are left this hour.

    At most `limit` an hour per order, counted with the order locked, so two clicks at once
    cannot both pass the count; the limit keeps a buyer's inbox from being flooded. Each resend
    is in the audit log."""
    order = order_lock(order_id)
    if order.status != OrderStatus.PAID:
        raise errors.OrderStateConflict(
            f"Only a paid order's confirmation can be sent; this one is {order.status}.",
            status=order.status,
            order=str(order.pk),
        )
    now = timezone.now()
    prefix = resend_key_prefix(order.pk)
    recent = OutboxMessage.objects.filter(
        dedupe_key__startswith=prefix, created_at__gt=now - RESEND_WINDOW
    ).count()
    if recent >= limit:
        raise errors.ConfirmationResendLimit(order=order.code, limit=limit, window="1 hour")
    resend = uuid.uuid4().hex
    message_add(
        topic=CONFIRMATION_TOPIC,
        dedupe_key=f"{prefix}{resend}",
        payload={"order_id": str(order.pk), "resend": resend},
    )
    audit_record(
        action="order.confirmation_resent",
        summary=f"Confirmation of {order.code} resent to {order.customer_email}",
        user=user,
        cinema_id=order.screening.auditorium.cinema_id,
        obj=order,
        changes={"to": [None, order.customer_email]},
    )
    log.info("confirmation of order %s resent by %s", order.code, getattr(user, "pk", None))
    return limit - recent - 1


def paid_count(*, screening_id: int) -> int:
    return Order.objects.filter(screening_id=screening_id, status=OrderStatus.PAID).count()


def orders_cancel_unpaid(*, screening_id: int, actor: str, reason: str) -> int:
    """Cancel every order of a screening still awaiting payment (the screening was cancelled):
    their seats are released and a payment arriving later is refunded."""
    ids = list(
        Order.objects.filter(
            screening_id=screening_id, status=OrderStatus.PENDING_PAYMENT
        ).values_list("pk", flat=True)
    )
    for order_id in ids:
        order_cancel(order_id=order_id, actor=actor, reason=reason)
    return len(ids)


def tickets_lock(order: Order) -> list[Ticket]:
    """The order's tickets, locked in id order (a refund of some of them decides on these)."""
    return list(Ticket.objects.select_for_update().filter(order=order).order_by("pk"))


def tickets_mark_refunded(*, order: Order, tickets: list[Ticket], now: datetime) -> None:
    """Refunded tickets are void at the door and their seats go back on sale at once."""
    Ticket.objects.filter(order=order, pk__in=[t.pk for t in tickets]).update(refunded_at=now)
    for ticket in tickets:
        ticket.refunded_at = now
    claims.release_order_seats(order.pk, [t.seat_id for t in tickets])
    seatmap.invalidate(order.screening_id, [t.seat_id for t in tickets])
    signals.tickets_refunded.send(sender=Order, order=order, tickets=tickets)


def orders_expire_due(*, now: datetime | None = None, batch_size: int | None = None) -> int:
    """Move unpaid orders past their time to `expired`, a batch per statement set."""
    now = now or timezone.now()
    batch_size = batch_size or settings.MARQUEE["SWEEP_BATCH_SIZE"]
    total = 0
    while True:
        with transaction.atomic():
            qs = Order.objects.filter(status=OrderStatus.PENDING_PAYMENT, expires_at__lte=now)
            if connection.features.has_select_for_update_skip_locked:
                qs = qs.select_for_update(skip_locked=True)
            batch = list(qs.order_by("expires_at").values_list("id", "screening_id")[:batch_size])
            if not batch:
                break
            ids = [order_id for order_id, _ in batch]
            Order.objects.filter(pk__in=ids, status=OrderStatus.PENDING_PAYMENT).update(
                status=OrderStatus.EXPIRED
            )
            OrderStatusChange.objects.bulk_create(
                OrderStatusChange(
                    order_id=order_id,
                    from_status=OrderStatus.PENDING_PAYMENT,
                    to_status=OrderStatus.EXPIRED,
                    actor="system:sweep",
                    reason="unpaid when its hold ran out",
                    at=now,
                )
                for order_id in ids
            )
            claims.release_dead_of_orders(ids, now=now)
            signals.orders_ended.send(sender=Order, order_ids=ids, status=OrderStatus.EXPIRED)
            for screening_id in {s for _, s in batch}:
                seatmap.invalidate(screening_id)
            total += len(ids)
        if len(batch) < batch_size:
            break
    return total


# ---- the door (ticketing/checkin decides a scan; the ticket's own row is written here) ---------
@dataclass(frozen=True)
class DoorTicket:
    """A ticket as the door sees it, read with its order's status, screening and cinema."""

    id: int
    code: str
    seat_label: str
    ticket_type_name: str
    checked_in_at: datetime | None
    refunded_at: datetime | None
    order_status: str
    screening_id: int
    starts_at: datetime
    screening_status: str
    film: str
    auditorium: str
    cinema_id: int
    time_zone: str


_CINEMA_TABLE = Auditorium._meta.get_field("cinema").related_model._meta.db_table
_DOOR_TICKET = f"""
    SELECT t.id, t.code, t.seat_label, t.ticket_type_name, t.checked_in_at, t.refunded_at,
           o.status, s.id, s.starts_at, s.status, f.title, a.name, a.cinema_id, c.time_zone
      FROM {Ticket._meta.db_table} t
      JOIN {Order._meta.db_table} o ON o.id = t.order_id
      JOIN {Screening._meta.db_table} s ON s.id = o.screening_id
      JOIN {Film._meta.db_table} f ON f.id = s.film_id
      JOIN {Auditorium._meta.db_table} a ON a.id = s.auditorium_id
      JOIN {_CINEMA_TABLE} c ON c.id = a.cinema_id
     WHERE t.code = %s
"""  # table names from the models; the code is a parameter


def ticket_for_door(*, code: str) -> DoorTicket | None:
    """The ticket with this code, its order locked FOR SHARE until the scan's transaction ends.

    One query. The lock is what lets the door trust the order's status: a cancel or a refund of
    the order (which lock it FOR UPDATE) waits for the scan, or the scan for them and then reads
    what they left. Two doors share it, so they race on the ticket's row alone."""
    sql = _DOOR_TICKET + (" FOR SHARE OF o" if connection.vendor == "postgresql" else "")
    with connection.cursor() as cursor:
        cursor.execute(sql, [code])
        row = cursor.fetchone()
    return DoorTicket(*row) if row else None


def ticket_mark_checked_in(*, ticket_id: int, at: datetime) -> bool:
    """Admit a ticket. One conditional UPDATE decides, whatever the number of doors scanning it
    at once: the row is changed only while it was never admitted and is not refunded, and
    PostgreSQL re-checks that on the newest row version after waiting for another door's scan
    (or a refund) that holds it. Returns whether this call admitted it (invariant 11)."""
    return bool(
        Ticket.objects.filter(
            pk=ticket_id, checked_in_at__isnull=True, refunded_at__isnull=True
        ).update(checked_in_at=at)
    )


def ticket_check_in_moved_earlier(*, ticket_id: int, was: datetime, at: datetime) -> bool:
    """An offline scan, synced late, admitted this ticket before the admission on record: the
    ticket's time becomes that scan's, only if it is still `was` (two syncs racing: one moves)."""
    return bool(Ticket.objects.filter(pk=ticket_id, checked_in_at=was).update(checked_in_at=at))
