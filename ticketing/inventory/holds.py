"""Holding seats: all-or-nothing, arbitrated by the claim table's unique constraint."""

from __future__ import annotations

import ipaddress
import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from ticketing import errors
from ticketing.db import retry_on_conflict
from ticketing.screenings.models import Screening, Seat

from . import best_available, claims, seatmap
from .models import Hold, HoldStatus

log = logging.getLogger(__name__)

BEST_AVAILABLE_ATTEMPTS = 3


def max_seats() -> int:
    return settings.MARQUEE["MAX_SEATS_PER_ORDER"]


def _screening_for_sale(screening_id: int, now: datetime, opens_at=None) -> Screening:
    try:
        screening = Screening.objects.select_related("auditorium__cinema").get(pk=screening_id)
    except (Screening.DoesNotExist, ValueError, TypeError):
        raise errors.ScreeningNotFound(screening=screening_id) from None
    if not screening.is_on_sale(now, opens_at=opens_at):
        reason = (
            "cancelled"
            if screening.status == "cancelled"
            else ("started" if now >= screening.starts_at else "outside_sales_window")
        )
        raise errors.ScreeningNotOnSale(screening=screening_id, reason=reason)
    return screening


SEAT_FIELDS = ("row_label", "number", "seat_type", "y", "x")  # what a hold's answer shows of a seat


def _in_hand(hold: Hold, seats: dict[int, tuple]) -> Hold:
    """Keep on the hold the (id, row, number, type) of its seats, in map order, read with the
    seats it was validated or chosen from: the answer needs no query more."""
    rows = sorted((seats[pk][3], seats[pk][4], pk) for pk in hold.seat_ids)
    hold.seats_in_hand = [(pk, *seats[pk][:3]) for _y, _x, pk in rows]
    return hold


def _validate_seats(screening: Screening, seat_ids: list[int]) -> list[int]:
    """Check the seats belong to the screening's auditorium and are for sale; add couple pairs."""
    return _check_seats(screening, seat_ids)[0]


def _check_seats(screening: Screening, seat_ids: list[int]) -> tuple[list[int], dict]:
    """`_validate_seats`, with `SEAT_FIELDS` of each seat to hold, read by the same query."""
    if len(set(seat_ids)) != len(seat_ids):
        duplicates = sorted({s for s in seat_ids if seat_ids.count(s) > 1})
        raise errors.DuplicateSeats(seats=duplicates)
    # The asked seats and the other halves of their couple seats, whichever side records the
    # pair, in one query.
    asked = Seat.objects.filter(auditorium_id=screening.auditorium_id, pk__in=seat_ids)
    rows, shown = {}, {}
    for seat_id, sellable, pair_id, *fields in Seat.objects.filter(
        Q(pk__in=seat_ids) | Q(pair_id__in=seat_ids) | Q(pk__in=asked.values("pair_id")),
        auditorium_id=screening.auditorium_id,
    ).values_list("id", "is_sellable", "pair_id", *SEAT_FIELDS):
        rows[seat_id] = (sellable, pair_id)
        shown[seat_id] = tuple(fields)
    unknown = [s for s in seat_ids if s not in rows]
    if unknown:
        raise errors.UnknownSeats(seats=unknown)
    blocked = [s for s in seat_ids if not rows[s][0]]
    if blocked:
        raise errors.SeatsBlocked(seats=blocked)
    wanted = list(seat_ids)
    for seat_id, (_sellable, pair_id) in rows.items():
        if seat_id in seat_ids and pair_id and pair_id not in wanted:
            wanted.append(pair_id)  # a couple seat is sold as its pair
        elif seat_id not in wanted and pair_id in seat_ids:
            wanted.append(seat_id)  # ... also when only the other half records the pair
    # The other half must be for sale too (a pair outside this auditorium is not).
    blocked = [s for s in wanted if s not in rows or not rows[s][0]]
    if blocked:
        raise errors.SeatsBlocked(seats=blocked)
    if len(wanted) > max_seats():
        raise errors.TooManySeats(limit=max_seats(), requested=len(wanted))
    return wanted, shown


def _sales_close(screening: Screening) -> datetime:
    return screening.sales_close_at or screening.starts_at


def _expiry(screening: Screening, now: datetime) -> datetime:
    """The cinema's hold time, but never past the end of sales: nobody pays after the start."""
    return min(
        now + timedelta(minutes=screening.auditorium.cinema.hold_minutes), _sales_close(screening)
    )


def client_network(ip: str | None) -> str:
    """The network a browser buyer's address stands for: its /24 (IPv4) or /64 (IPv6), since one
    machine or household gets a whole IPv6 /64 ("" when there is no usable address)."""
    try:
        address = ipaddress.ip_address((ip or "").strip())
    except ValueError:
        return ""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    prefix = 24 if address.version == 4 else 64
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


def _owner_fields(partner, buyer_key: str, client_ip: str | None = None) -> dict:
    owner = {"partner": partner, "buyer_key": buyer_key or ""}
    if partner is None:
        owner["client_network"] = client_network(client_ip)
    return owner


NETWORK_LOCK = 0x4D53  # advisory lock namespace: (this, hash of screening and client network)


def _take_buyer_turns(screening_id: int, owner: dict) -> None:
    """A browser buyer's hold requests on a screening take turns, and so do those from one
    client network, so that counting what they hold and claiming more is one decision. Always
    buyer first, then network, then (best available) the screening: no two orders of locks."""
    if owner["partner"] is not None:
        return
    _one_at_a_time(screening_id, owner["buyer_key"])
    if owner["client_network"]:
        _lock(NETWORK_LOCK, f"{screening_id}:{owner['client_network']}")


def _check_hold_limits(screening_id: int, owner: dict, adding: int, now: datetime) -> None:
    """Refuse a browser buyer who would hold more than their share of a screening. Counted in
    the database, under the turns above, from the live claims (ordered-but-unpaid included)."""
    if owner["partner"] is not None:
        return  # partners sell to many buyers: their keys have rate limits and allocations
    cfg = settings.MARQUEE
    scopes = [("buyer", {"buyer_key": owner["buyer_key"]}, cfg["HOLD_LIMIT_PER_BUYER"])]
    if owner["client_network"]:
        scopes.append(
            (
                "network",
                {"client_network": owner["client_network"]},
                cfg["HOLD_LIMIT_PER_NETWORK"],
            )
        )
    for per, hold_fields, limit in scopes:
        held = claims.held_count(screening_id, now=now, **hold_fields)
        if held + adding > limit:
            log.warning(
                "hold refused on screening %s: %s limit %d (holding %d, asking %d)",
                screening_id,
                per,
                limit,
                held,
                adding,
            )
            raise errors.HoldLimitReached(per=per, limit=limit, held=held, requested=adding)


def _claim(screening: Screening, seat_ids: list[int], now: datetime, owner: dict) -> Hold:
    """The hold and its claims, in the caller's transaction (`_claim_for_new_hold` for its own)."""
    _take_buyer_turns(screening.pk, owner)
    _check_hold_limits(screening.pk, owner, len(set(seat_ids)), now)
    hold = Hold.objects.create(
        screening=screening,
        created_at=now,
        expires_at=_expiry(screening, now),
        seat_ids=sorted(seat_ids),
        **owner,
    )
    partner = owner["partner"]
    got = claims.claim(
        screening.pk,
        seat_ids,
        now=now,
        expires_at=hold.expires_at,
        hold_id=hold.pk,
        partner_id=partner.pk if partner is not None else None,
    )
    if len(got) != len(set(seat_ids)):
        taken = sorted(set(seat_ids) - got)
        # Raising rolls the whole transaction back: the hold and every claim it made.
        raise errors.SeatUnavailable(seats=taken)
    seatmap.invalidate(screening.pk, got, seatmap.HELD)  # pushed to open maps after commit
    return hold


_claim_for_new_hold = retry_on_conflict()(_claim)


def hold_create(
    *,
    screening_id: int,
    seat_ids: list[int] | None = None,
    quantity: int | None = None,
    partner=None,
    buyer_key: str = "",
    client_ip: str | None = None,
    opens_at: datetime | None = None,
) -> Hold:
    """Hold the given seats, or the best `quantity` seats together, for the cinema's hold time.

    `opens_at` is an earlier opening of sales for this buyer (a presale they have access to,
    decided above: `promotions.presales`).

    A browser buyer (no partner) holds at most `HOLD_LIMIT_PER_BUYER` seats of a screening at
    once, and their client network at most `HOLD_LIMIT_PER_NETWORK` (`client_ip`)."""
    now = timezone.now()
    screening = _screening_for_sale(screening_id, now, opens_at)
    owner = _owner_fields(partner, buyer_key, client_ip)
    if seat_ids is not None:
        if not seat_ids:
            raise errors.InvalidRequest("Name at least one seat.", field="seats")
        wanted, shown = _check_seats(screening, list(seat_ids))
        hold = _claim_for_new_hold(screening, wanted, now, owner)
        log.info("hold %s: %d seats of screening %s", hold.pk, len(wanted), screening.pk)
        return _in_hand(hold, shown)

    if quantity is None or quantity < 1:
        raise errors.InvalidRequest("Give seats or a quantity of at least 1.", field="quantity")
    if quantity > max_seats():
        raise errors.TooManySeats(limit=max_seats(), requested=quantity)
    layout, shown = [], {}
    for seat_id, x, y, seat_type, sellable, *fields in Seat.objects.filter(
        auditorium_id=screening.auditorium_id
    ).values_list("id", "x", "y", "seat_type", "is_sellable", *SEAT_FIELDS):
        layout.append(best_available.LayoutSeat(seat_id, x, y, seat_type, sellable))
        shown[seat_id] = tuple(fields)
    for _attempt in range(BEST_AVAILABLE_ATTEMPTS):
        try:
            hold = _hold_best_available(screening, layout, quantity, owner)
        except errors.SeatUnavailable:
            continue  # a buyer naming seats got one of ours first: look again
        log.info("hold %s: best %d of screening %s", hold.pk, quantity, screening.pk)
        return _in_hand(hold, shown)
    raise errors.SeatUnavailable("Seats are selling fast; please try again.", seats=[])


@retry_on_conflict()
def _hold_best_available(screening: Screening, layout, quantity: int, owner: dict) -> Hold:
    """Choose and claim in one transaction, taking turns with the other best-available
    requests for the screening. Without the turns a crowd all computes the same best block,
    one buyer gets it and the rest are refused while the room is still nearly empty."""
    _take_turn(screening.pk)
    now = timezone.now()
    taken = set(seatmap.live_claims(screening.pk, now))  # read after the previous turn committed
    if owner["partner"] is not None:  # its own seats set aside are free for it
        taken -= seatmap.set_aside_for(screening.pk, owner["partner"].pk, now)
    chosen = best_available.choose(layout, taken, quantity)
    if chosen is None:
        raise errors.NoSeatsTogether(requested=quantity)
    return _claim(screening, chosen, now, owner)  # in this transaction: no savepoint


BEST_AVAILABLE_LOCK = 0x4D51  # advisory lock namespace: (this, screening id)


def _take_turn(screening_id: int) -> None:
    """A PostgreSQL advisory lock held until the transaction ends. Only best-available requests
    wait on it (for a few milliseconds each); the claim insert still decides who gets a seat.
    SQLite transactions are serial already."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s, %s)", [BEST_AVAILABLE_LOCK, screening_id % 2**31]
        )


def hold_get(*, hold_id, partner=None, buyer_key: str = "") -> Hold:
    """A hold, only to its owner: a partner sees its own holds, a browser those of its session."""
    qs = Hold.objects.select_related("screening__auditorium__cinema", "screening__film")
    try:
        hold = qs.get(pk=hold_id)
    except (Hold.DoesNotExist, ValueError, TypeError, ValidationError):
        raise errors.HoldNotFound(hold=str(hold_id)) from None
    hold_check_owner(hold, partner=partner, buyer_key=buyer_key)
    return hold


def hold_lock(hold_id) -> Hold:
    """The hold, locked for the rest of the transaction (its screening, auditorium, cinema and
    film read along), or HoldNotFound."""
    try:
        return (
            Hold.objects.select_for_update(of=("self",))
            .select_related("screening__auditorium__cinema", "screening__film")
            .get(pk=hold_id)
        )
    except (Hold.DoesNotExist, ValueError, TypeError, ValidationError):
        raise errors.HoldNotFound(hold=str(hold_id)) from None


def hold_check_owner(hold: Hold, *, partner=None, buyer_key: str = "") -> None:
    """Another buyer's hold is answered as not found: its existence is not theirs to learn."""
    if partner is not None:
        if hold.partner_id != partner.pk:
            raise errors.HoldNotFound(hold=str(hold.pk))
    elif not buyer_key or hold.buyer_key != buyer_key:
        raise errors.HoldNotFound(hold=str(hold.pk))


@transaction.atomic
def hold_release(*, hold: Hold) -> None:
    """Give the seats back at once. Releasing twice is harmless; an ordered hold is not released."""
    locked = Hold.objects.select_for_update().get(pk=hold.pk)
    if locked.status == HoldStatus.ORDERED:
        raise errors.HoldNotActive(hold=str(hold.pk), status=locked.status)
    if locked.status == HoldStatus.RELEASED:
        return
    claims.release_hold(locked.pk)
    locked.status = HoldStatus.RELEASED
    locked.save(update_fields=["status"])
    seatmap.invalidate(locked.screening_id, locked.seat_ids)  # free, or back to a partner
    hold.status = locked.status


BUYER_LOCK = 0x4D52  # advisory lock namespace: (this, hash of screening and buyer)


def _one_at_a_time(screening_id: int, buyer: str) -> None:
    """Serialise one buyer's hold requests on one screening (a double click sends two)."""
    _lock(BUYER_LOCK, f"{screening_id}:{buyer}")


def _lock(namespace: int, name: str) -> None:
    """A transaction-scoped advisory lock on (namespace, hash of name); taking it again in the
    same transaction is free. SQLite transactions are serial already."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", [namespace, name])


def hold_replace(
    *,
    screening_id: int,
    seat_ids: list[int] | None = None,
    quantity: int | None = None,
    partner=None,
    buyer_key: str = "",
    client_ip: str | None = None,
    opens_at: datetime | None = None,
) -> Hold:
    """Hold anew for a buyer who chooses again, giving back what they hold on the screening, in
    one transaction: the new seats (which may include the old ones) or, if they cannot be had,
    the old ones kept. Never both, never neither. The buyer's requests take turns, so a double
    click ends with one hold; asking again for exactly the seats held answers the same hold."""
    if partner is None and not buyer_key:
        raise errors.InvalidRequest("A hold needs an owner.", field="buyer_key")
    with transaction.atomic():
        _one_at_a_time(screening_id, f"p{partner.pk}" if partner else buyer_key)
        live = list(
            Hold.objects.select_for_update()
            .filter(
                screening_id=screening_id,
                status=HoldStatus.ACTIVE,
                expires_at__gt=timezone.now(),
                partner=partner,
                buyer_key=buyer_key or "",
            )
            .order_by("created_at")
        )
        if seat_ids and len(live) == 1:
            screening = Screening.objects.select_related("auditorium").filter(pk=screening_id)
            if screening and sorted(_validate_seats(screening[0], list(seat_ids))) == sorted(
                live[0].seat_ids
            ):
                return live[0]
        for previous in live:
            hold_release(hold=previous)
        return hold_create(
            screening_id=screening_id,
            seat_ids=seat_ids,
            quantity=quantity,
            partner=partner,
            buyer_key=buyer_key,
            client_ip=client_ip,
            opens_at=opens_at,
        )


def holds_release_for_screening(*, screening_id: int) -> int:
    """Give back every open hold of a screening (it was cancelled). Ordered holds belong to their
    orders, which are cancelled by the orders service."""
    ids = list(
        Hold.objects.filter(screening_id=screening_id, status=HoldStatus.ACTIVE).values_list(
            "pk", flat=True
        )
    )
    released = 0
    for hold_id in ids:
        try:
            hold_release(hold=Hold(pk=hold_id, screening_id=screening_id))
        except errors.HoldNotActive:
            continue  # became an order meanwhile: the orders service cancels it
        released += 1
    return released


def hold_mark_ordered(*, hold: Hold, expires_at: datetime, now: datetime) -> None:
    """The hold became an order (in the order's transaction): it lives on as long as the order
    awaits payment, extended once."""
    Hold.objects.filter(pk=hold.pk).update(
        status=HoldStatus.ORDERED, expires_at=expires_at, extended_at=now
    )
    hold.status, hold.expires_at, hold.extended_at = HoldStatus.ORDERED, expires_at, now


def holds_close_dead(*, now: datetime | None = None) -> int:
    """Holds past their time that never became orders: mark them expired, one statement.

    The conditions are all on the hold's own row, which PostgreSQL re-checks after waiting for a
    row lock: a hold becoming an order at this moment (its transaction locked the hold and sets
    `ordered`) is left alone. A condition through a join or subquery would not be re-checked.
    """
    now = now or timezone.now()
    return Hold.objects.filter(status=HoldStatus.ACTIVE, expires_at__lte=now).update(
        status=HoldStatus.EXPIRED
    )


def extended_expiry(hold: Hold, now: datetime) -> datetime:
    """The expiry a hold gets once, when its buyer reaches payment: never past the hard cap,
    never past the end of sales."""
    cfg = settings.MARQUEE
    wanted = now + timedelta(seconds=cfg["HOLD_EXTENSION_SECONDS"])
    cap = hold.created_at + timedelta(seconds=cfg["HOLD_HARD_CAP_SECONDS"])
    return max(hold.expires_at, min(wanted, cap, _sales_close(hold.screening)))
