"""Writes to the catalogue that a model's `save()` alone would get wrong: an auditorium's seats
from a layout, and a screening the database may refuse.

Nothing here knows about claims, holds or tickets: they belong to packages above this one.
Replacing a layout that may remove seats someone holds or bought is a flow
(`ticketing.flows.layouts.layout_replace`): it locks with `auditorium_lock`, checks and clears
what is above, then calls `layout_apply`. Should anyone skip the check, the PROTECT foreign keys
of claims and tickets on `Seat` still refuse the delete.
"""

from __future__ import annotations

import copy

from django.db import IntegrityError, transaction
from django.utils import timezone

from ticketing import db, errors
from ticketing.audit.services import audit_record, changes_between
from ticketing.money import amount_with_code

from .layouts import Layout, LayoutChange, SeatSpec, layout_from_seats
from .models import Auditorium, Screening, ScreeningPrice, Seat, SeatTypeSurcharge, TicketType

OVERLAP_CONSTRAINT = "screening_no_overlap"  # screenings migration 0002


# ---- seats ---------------------------------------------------------------------------------
def auditorium_lock(*, auditorium: Auditorium) -> list[Seat]:
    """Lock an auditorium, then its screenings still to come, then its seats (by id), for a
    layout change; return the seats.

    Concurrent layout edits queue up on the auditorium row. A claim's foreign key to its
    screening is checked at once (inventory migration 0004: a KEY SHARE lock on the screening
    row when the claim is inserted), so locking the screenings FOR UPDATE waits for every claim
    still being made, and holds back new ones until the edit commits: what the edit then reads
    of claims is all there is. Screenings before seats: a claim locks its screening first (at
    insert) and its seat at commit (a deferred key), and the same order here never deadlocks
    with it. Call it inside the transaction that makes the change.
    """
    Auditorium.objects.select_for_update().filter(pk=auditorium.pk).exists()
    list(
        Screening.objects.select_for_update()
        .filter(auditorium=auditorium, ends_at__gt=timezone.now())
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    return list(Seat.objects.select_for_update().filter(auditorium=auditorium).order_by("pk"))


def layout_apply(*, auditorium: Auditorium, layout: Layout, seats: list[Seat]) -> LayoutChange:
    """Make the auditorium's seats match `layout`; `seats` are what `auditorium_lock` returned,
    in this same transaction.

    A seat is the same seat when its label (row and number) is: it keeps its id, so holds,
    claims and tickets on it stay valid, and only its position, type or sellability change.
    Seats the layout leaves out are deleted: the caller has made sure nothing points at them.
    """
    if layout_from_seats(seats) == layout:
        return LayoutChange()
    wanted = {spec.key: spec for spec in layout.seats}
    existing = {(seat.row_label, seat.number): seat for seat in seats}
    gone = layout.left_out(seats)
    kept = [seat for key, seat in existing.items() if key in wanted]

    # Pairs are rebuilt from the layout at the end; clearing them first keeps the one-to-one
    # constraint out of the way while seats move.
    pairs_before = {(seat.row_label, seat.number): seat.pair_id for seat in seats}
    Seat.objects.filter(auditorium=auditorium, pair__isnull=False).update(pair=None)
    for seat in kept:
        seat.pair_id = None
    if gone:
        Seat.objects.filter(pk__in=[seat.pk for seat in gone]).delete()

    # Moving seats in place could swap two positions within one UPDATE, which a unique
    # constraint checked row by row refuses: park the movers beyond the map first.
    def spec_of(seat: Seat) -> SeatSpec:
        return wanted[seat.row_label, seat.number]

    moving = [seat for seat in kept if (seat.x, seat.y) != (spec_of(seat).x, spec_of(seat).y)]
    if moving:
        parking = max([seat.y for seat in seats] + [spec.y for spec in layout.seats]) + 1
        for seat in moving:
            seat.x, seat.y = spec_of(seat).x, parking + spec_of(seat).y
        Seat.objects.bulk_update(moving, ["x", "y"])
    updated = []
    for seat in kept:
        spec = spec_of(seat)
        fields = (spec.x, spec.y, spec.seat_type, spec.is_sellable)
        if (seat.x, seat.y, seat.seat_type, seat.is_sellable) != fields:
            seat.x, seat.y, seat.seat_type, seat.is_sellable = fields
            updated.append(seat)
    if updated:
        Seat.objects.bulk_update(updated, ["x", "y", "seat_type", "is_sellable"])

    new = [
        Seat(
            auditorium=auditorium,
            row_label=spec.row_label,
            number=spec.number,
            x=spec.x,
            y=spec.y,
            seat_type=spec.seat_type,
            is_sellable=spec.is_sellable,
        )
        for key, spec in wanted.items()
        if key not in existing
    ]
    Seat.objects.bulk_create(new)
    by_key = {(seat.row_label, seat.number): seat for seat in kept + new}
    if any(seat.pk is None for seat in new):  # a backend that does not return ids
        by_key = {(s.row_label, s.number): s for s in Seat.objects.filter(auditorium=auditorium)}

    paired = []
    for spec in layout.seats:
        if spec.pair:
            seat = by_key[spec.key]
            seat.pair_id = by_key[spec.pair].pk
            paired.append(seat)
    if paired:
        Seat.objects.bulk_update(paired, ["pair"])
    changed = {(seat.row_label, seat.number) for seat in updated} | {
        (seat.row_label, seat.number)
        for seat in kept
        if pairs_before[seat.row_label, seat.number] != by_key[seat.row_label, seat.number].pair_id
    }
    return LayoutChange(created=len(new), updated=len(changed), deleted=len(gone))


# ---- screenings ----------------------------------------------------------------------------
def screening_save(*, screening: Screening) -> Screening:
    """Save a new or changed screening; `ScreeningOverlap` if it would overlap another,
    `AuditoriumLocked` if it moves to another auditorium while seats of it are held or sold (the
    trigger of inventory migration 0004 decides).

    `Screening.clean()` looks for an overlap with a query, which a screening saved a moment ago
    by someone else can overtake. The PostgreSQL exclusion constraint is what decides: its
    refusal becomes the typed error, and the savepoint leaves the caller's transaction usable.
    """
    try:
        with transaction.atomic():
            screening.save()
    except IntegrityError as exc:
        if db.refused_by(exc, db.AUDITORIUM_LOCKED):
            raise errors.AuditoriumLocked(screening=screening.pk) from exc
        if not db.refused_by(exc, OVERLAP_CONSTRAINT):
            raise
        raise errors.ScreeningOverlap() from exc
    return screening


def screening_check(*, screening: Screening) -> None:
    """`ScreeningOverlap` if the database would refuse to save this screening now; keeps nothing.

    For forms, so that the constraint's answer is a form error before anything is saved: a copy
    is saved in a savepoint that is always rolled back, so the instance is left as it was.
    """
    with transaction.atomic():
        screening_save(screening=copy.copy(screening))  # the instance keeps its state
        transaction.set_rollback(True)


# ---- prices --------------------------------------------------------------------------------
# What a price change records, per model: its fields as staff read them (money as "12.50 EUR").
Price = TicketType | ScreeningPrice | SeatTypeSurcharge


def _price_facts(price: Price) -> tuple[dict, int, str]:
    """(fields as staff read them, the cinema's id, what the price is of)."""
    if isinstance(price, TicketType):
        cinema = price.cinema
        fields = {
            "code": price.code,
            "name": price.name,
            "price": amount_with_code(price.price, cinema.currency),
            "sort_order": price.sort_order,
            "is_active": price.is_active,
        }
        return fields, cinema.pk, f"ticket type {price.name} ({price.code}) at {cinema.name}"
    if isinstance(price, ScreeningPrice):
        screening = Screening.objects.select_related("film", "auditorium__cinema").get(
            pk=price.screening_id
        )
        cinema = screening.auditorium.cinema
        ticket_type = TicketType.objects.get(pk=price.ticket_type_id)
        fields = {
            "ticket_type": f"{ticket_type.name} ({ticket_type.code})",
            "price": amount_with_code(price.price, cinema.currency),
        }
        starts = screening.starts_at.astimezone(cinema.tz)
        what = (
            f"{ticket_type.name} price of {screening.film.title} at {cinema.name}, "
            f"{starts:%Y-%m-%d %H:%M}"
        )
        return fields, cinema.pk, what
    cinema = price.cinema
    fields = {
        "seat_type": price.seat_type,
        "amount": amount_with_code(price.amount, cinema.currency),
    }
    return fields, cinema.pk, f"{price.get_seat_type_display()} seat surcharge at {cinema.name}"


def _price_summary(what: str, changes: dict) -> str:
    said = "; ".join(
        f"{field} {'none' if b is None else b} → {'none' if a is None else a}"
        for field, (b, a) in changes.items()
    )
    return f"{what}: {said}"


@transaction.atomic
def price_save(*, price: Price, user=None) -> Price:
    """Save a ticket type, a screening's price or a seat-type surcharge, and write who changed
    what, before and after, in the audit log (in the same transaction). The row is locked while
    its "before" is read, so two staff saving at once each record what they replaced."""
    model = type(price)
    stored = model.objects.select_for_update().filter(pk=price.pk).first() if price.pk else None
    before = _price_facts(stored)[0] if stored is not None else {}
    price.save()
    after, cinema_id, what = _price_facts(price)
    changes = changes_between(before, after)
    if changes:
        audit_record(
            action="price.changed" if stored is not None else "price.added",
            summary=_price_summary(what, changes),
            user=user,
            cinema_id=cinema_id,
            obj=price,
            changes=changes,
        )
    return price


@transaction.atomic
def price_delete(*, price: Price, user=None) -> None:
    """Delete a price, with the audit log saying what it was."""
    before, cinema_id, what = _price_facts(price)
    object_type, object_id = price._meta.label_lower, price.pk
    price.delete()
    changes = {field: [value, None] for field, value in before.items()}
    audit_record(
        action="price.deleted",
        summary=_price_summary(what, changes),
        user=user,
        cinema_id=cinema_id,
        object_type=object_type,
        object_id=object_id,
        changes=changes,
    )
