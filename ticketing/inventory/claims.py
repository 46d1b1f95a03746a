"""The only code that writes seat claims. Every write is one set-based statement.

Claiming is `INSERT ... ON CONFLICT (screening, seat) DO UPDATE ... WHERE <the claim there is
dead> RETURNING`: the unique constraint on (screening, seat) decides who wins, never a
Python-level check; a free seat is inserted, a dead claim taken over, a live or sold one left
alone (and not returned). Rows are inserted in seat-id order so that two overlapping claims wait
on each other in the same order and cannot deadlock.

Other packages (orders, payments, the flows and the layout editor) change claims only by calling
these functions; `make lint` checks nobody else imports the model to write it.

A claim is only ever for a seat of its screening's auditorium as it is when the claim commits:
a trigger (migration 0008) reads the screening with a lock that waits for a move in progress and
refuses a seat of another room, so a hold racing a staff move gets `screening_changed`, never a
seat of the old room.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from ticketing import errors

from . import seatmap
from .models import SeatClaim

TABLE = SeatClaim._meta.db_table
SEAT_IN_ROOM = "marquee_claim_seat_in_room"  # the trigger of migration 0008


def clear_dead(screening_id: int, seat_ids: Iterable[int], now: datetime) -> int:
    """Delete claims on these seats whose time has passed, so they can be claimed again."""
    deleted, _ = SeatClaim.objects.filter(
        screening_id=screening_id, seat_id__in=list(seat_ids), expires_at__lte=now
    ).delete()
    return deleted


def claim(
    screening_id: int,
    seat_ids: Iterable[int],
    *,
    now: datetime,
    expires_at: datetime | None,
    hold_id=None,
    order_id=None,
    partner_id: int | None = None,
    allocation=None,
) -> set[int]:
    """Claim the seats that are free; return the ids that were claimed.

    The caller compares the answer with what it asked for and rolls back when it is short:
    that is what makes a hold all-or-nothing. A seat set aside for a partner (an allocation,
    until its `allocated_until`) is free only for that partner (`partner_id`), and stays set
    aside when it takes it; `allocation` makes new claims that set seats aside.
    """
    ordered = sorted(set(seat_ids))
    if not ordered:
        return set()
    rows = ", ".join(["(%s, %s, %s, %s, %s, %s, %s, %s, %s)"] * len(ordered))
    params: list = []
    hold_value = hold_id.hex if (hold_id is not None and connection.vendor == "sqlite") else hold_id
    order_value = (
        order_id.hex if (order_id is not None and connection.vendor == "sqlite") else order_id
    )
    aside = (
        (allocation.pk, allocation.partner_id, allocation.release_at)
        if allocation
        else (None, None, None)
    )
    for seat_id in ordered:
        params += [screening_id, seat_id, hold_value, order_value, expires_at, now, *aside]
    t = TABLE
    kept = f"{t}.allocated_until > %s"
    sql = (
        f"INSERT INTO {t} (screening_id, seat_id, hold_id, order_id, expires_at, created_at, "
        "allocation_id, allocated_to_id, allocated_until) "
        f"VALUES {rows} ON CONFLICT (screening_id, seat_id) DO UPDATE SET "
        "hold_id = excluded.hold_id, order_id = excluded.order_id, "
        "expires_at = excluded.expires_at, created_at = excluded.created_at, "
        f"allocation_id = CASE WHEN {kept} THEN {t}.allocation_id "
        "ELSE excluded.allocation_id END, "
        f"allocated_to_id = CASE WHEN {kept} THEN {t}.allocated_to_id "
        "ELSE excluded.allocated_to_id END, "
        f"allocated_until = CASE WHEN {kept} THEN {t}.allocated_until "
        "ELSE excluded.allocated_until END "
        # over a dead claim that no live allocation keeps, or, for the allocation's partner,
        # over its own seat set aside that nobody of its own holds right now
        f"WHERE ({t}.expires_at IS NOT NULL AND {t}.expires_at <= %s "
        f"AND ({t}.allocated_until IS NULL OR {t}.allocated_until <= %s)) "
        f"OR ({t}.allocated_to_id = %s AND {t}.allocated_until > %s "
        f"AND {t}.expires_at IS NOT NULL "
        f"AND ({t}.expires_at <= %s OR ({t}.hold_id IS NULL AND {t}.order_id IS NULL))) "
        "RETURNING seat_id"
    )
    tail = [now, now, now, now, now, partner_id, now, now]
    with connection.cursor() as cursor:
        try:
            cursor.execute(sql, _adapt([*params, *tail]))
        except IntegrityError as exc:
            if SEAT_IN_ROOM in str(exc):
                raise errors.ScreeningChanged(screening=screening_id) from exc
            raise
        return {row[0] for row in cursor.fetchall()}


def _adapt(params: list) -> list:
    ops = connection.ops
    out = []
    for value in params:
        if isinstance(value, datetime):
            out.append(ops.adapt_datetimefield_value(value))
        else:
            out.append(value)
    return out


def attach_to_order(hold_id, order_id, *, now: datetime, expires_at: datetime) -> int:
    """Move a live hold's claims to an order, with a new expiry. Returns how many moved.

    The condition `expires_at > now` is checked by the same UPDATE that moves the claims, so a
    hold that dies while the order is being created cannot give it seats.
    """
    return SeatClaim.objects.filter(hold_id=hold_id, expires_at__gt=now).update(
        order_id=order_id, expires_at=expires_at
    )


def mark_sold(order_id, *, now: datetime) -> int:
    """Make an order's live claims permanent (expires_at NULL). Returns how many."""
    return SeatClaim.objects.filter(order_id=order_id, expires_at__gt=now).update(expires_at=None)


def sold_seats(order_id) -> set[int]:
    """The seats an order holds as sold (claims with no expiry)."""
    return set(
        SeatClaim.objects.filter(order_id=order_id, expires_at__isnull=True).values_list(
            "seat_id", flat=True
        )
    )


def held_count(screening_id: int, *, now: datetime, **hold_fields) -> int:
    """How many seats of a screening are held right now (not sold) by holds matching
    `hold_fields` (one buyer, one client network): the claims of their orders awaiting payment
    included."""
    filters = {f"hold__{name}": value for name, value in hold_fields.items()}
    return SeatClaim.objects.filter(
        screening_id=screening_id, expires_at__gt=now, **filters
    ).count()


def _give_back(claims, now: datetime | None = None) -> int:
    """Free these claims: a seat still set aside for a partner goes back to its allocation
    (no hold, no order, until the allocation's end); any other is deleted."""
    now = now or timezone.now()
    kept = claims.filter(allocated_until__gt=now).update(
        hold=None, order=None, expires_at=F("allocated_until")
    )
    deleted, _ = claims.filter(
        Q(allocated_until__isnull=True) | Q(allocated_until__lte=now)
    ).delete()
    return kept + deleted


def release_hold(hold_id) -> int:
    return _give_back(SeatClaim.objects.filter(hold_id=hold_id, order__isnull=True))


def release_order(order_id) -> int:
    return _give_back(SeatClaim.objects.filter(order_id=order_id))


def release_order_seats(order_id, seat_ids: Iterable[int]) -> int:
    """Give some of an order's seats back to sale (refunded tickets)."""
    return _give_back(SeatClaim.objects.filter(order_id=order_id, seat_id__in=list(seat_ids)))


def release_dead_of_orders(order_ids: Iterable, *, now: datetime) -> int:
    """Free the dead claims of these orders (unpaid orders the sweep is expiring)."""
    return _give_back(
        SeatClaim.objects.filter(order_id__in=list(order_ids), expires_at__lte=now), now
    )


def sweep_dead(*, now: datetime, batch_size: int | None = None) -> int:
    """Delete claims whose hold or order has run out, a batch per transaction, skipping rows
    another transaction has locked, so the sweep never stalls a sale."""
    batch_size = batch_size or settings.MARQUEE["SWEEP_BATCH_SIZE"]
    total = 0
    while True:
        with transaction.atomic():
            # dead, and not a seat set aside that is simply waiting for its partner
            qs = SeatClaim.objects.filter(expires_at__lte=now).exclude(
                hold__isnull=True, order__isnull=True, allocated_until__gt=now
            )
            if connection.features.has_select_for_update_skip_locked:
                qs = qs.select_for_update(skip_locked=True)
            rows = list(qs.order_by("id").values_list("id", "screening_id", "seat_id")[:batch_size])
            if not rows:
                break
            ids = [claim_id for claim_id, _, _ in rows]
            total += _give_back(SeatClaim.objects.filter(id__in=ids, expires_at__lte=now), now)
            freed: dict[int, list[int]] = {}
            for _, screening_id, seat_id in rows:
                freed.setdefault(screening_id, []).append(seat_id)
            for screening_id, seat_ids in freed.items():  # pushed to the open maps on commit
                seatmap.invalidate(screening_id, seat_ids)
        if len(ids) < batch_size:
            break
    return total
