"""Replacing an auditorium's layout: the seats are the catalogue's, what sits on them is not.

Screenings write the seats (`screenings.services.layout_apply`); but whether a seat may go is
known only above: a seat with a ticket (orders) or a live claim (inventory) is never removed,
because a seat that was sold is never deleted. A dead claim (past its time, not swept yet) still
points at its seat and is cleared first, through `inventory.claims`, the claims' one writer.

Locks, in this order: the auditorium row, its screenings still to come, then its seats by id
(`auditorium_lock`), then the dead claims being cleared. Locking the screenings waits for any
claim still being made on them (its key to the screening is checked at insert) and holds back
new ones until the edit commits, so the check against tickets and live claims, made after the
locks on what they return, cannot be overtaken. One transaction:
the layout is applied whole or, if a seat it leaves out is in use, not at all.

The rule for seats in use (`layout_plan`): a seat held or sold for a screening still to come (not
cancelled, not ended) keeps its label, its place on the map, its type and its sellability. It
cannot be removed, blocked, turned into an aisle, renamed (its place given another label) or
retyped (its ticket was priced by its type: a surcharge, a wheelchair space bought as one). The
whole map may be shifted at once (a column added at the left, a row in front under explicit
labels): when every seat both layouts have moved by the same step, places are compared after
that step. Seats not in use change freely; a seat with any ticket at all, even of a screening
long over, is still never removed. The check is made under `auditorium_lock`, on the locked
seats, never before it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from itertools import islice

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from ticketing.audit.services import audit_record
from ticketing.inventory import claims, seatmap
from ticketing.inventory.models import SeatClaim
from ticketing.orders.models import Ticket
from ticketing.screenings import services as screenings
from ticketing.screenings.layouts import Layout, LayoutChange, SeatSpec, layout_from_seats, parse
from ticketing.screenings.models import Auditorium, Screening, ScreeningStatus, Seat

SHOWN = 12  # seats named in the refusal; more are counted

# What would happen to a seat in use, as the refusal names it.
REMOVED, BLOCKED, AISLE, RENAMED, RETYPED, REPAIRED = (
    "removed",
    "blocked",
    "aisle",
    "renamed",
    "retyped",
    "repaired",
)
_WHAT = {
    REMOVED: "it would be removed",
    BLOCKED: "it would be blocked",
    AISLE: "its place would become an aisle or gap",
    RENAMED: "its place would be seat {becomes}",
    RETYPED: "its type would change to {becomes}",
    REPAIRED: "it would be paired with {becomes}",
}


@dataclass(frozen=True)
class SeatRefusal:
    """A seat in use that the new layout would not keep, and the screenings it is in use for."""

    seat: str  # its label, "A3"
    what: str  # REMOVED, BLOCKED, AISLE, RENAMED, RETYPED or REPAIRED
    screenings: tuple[str, ...]
    becomes: str = ""

    @property
    def message(self) -> str:
        why = _WHAT[self.what].format(becomes=self.becomes)
        return f"{self.seat} ({why}) is held or sold for {'; '.join(self.screenings)}"

    def as_dict(self) -> dict:
        return {
            "seat": self.seat,
            "what": self.what,
            "becomes": self.becomes,
            "screenings": list(self.screenings),
            "message": self.message,
        }


@dataclass(frozen=True)
class LayoutPlan:
    """What replacing an auditorium's layout with `layout` would do, and what it may not."""

    layout: Layout
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    retyped: tuple[tuple[str, str, str], ...] = ()  # (seat, before, after): "premium", "blocked"
    moved: tuple[str, ...] = ()
    in_use: tuple[str, ...] = ()  # seats held or sold for screenings to come
    refusals: tuple[SeatRefusal, ...] = ()

    @property
    def allowed(self) -> bool:
        return not self.refusals

    def as_dict(self) -> dict:
        return {
            "added": list(self.added),
            "removed": list(self.removed),
            "retyped": [{"seat": s, "before": b, "after": a} for s, b, a in self.retyped],
            "moved": list(self.moved),
            "in_use": list(self.in_use),
            "counts": self.layout.counts(),
            "seats": len(self.layout),
            "refusals": [r.as_dict() for r in self.refusals],
        }


class LayoutRefused(ValidationError):
    """The new layout would not keep seats that are in use; `refusals` names each one."""

    def __init__(self, plan: LayoutPlan):
        self.plan = plan
        self.refusals = plan.refusals
        shown = ", ".join(r.message for r in islice(plan.refusals, SHOWN))
        if len(plan.refusals) > SHOWN:
            shown += f" and {len(plan.refusals) - SHOWN} more"
        super().__init__(
            "The new layout would not keep seats that are held or sold: "
            + shown
            + ". A seat that was sold is never deleted, and a seat held or sold for a screening "
            "still to come keeps its label, place, type and sellability until that screening is "
            "over; other seats may change freely.",
            code="seats_in_use",
        )


@transaction.atomic
def layout_replace(
    *, auditorium: Auditorium, text: str, user=None, actor: str = ""
) -> LayoutChange:
    """Make the auditorium's seats match `text` (see `screenings.layouts` for the notation).

    Seats that keep their label keep their id, so holds, claims and tickets on them stay valid.
    Seats the text leaves out are deleted. A layout that would not keep a seat in use (see the
    module's rule) changes nothing: LayoutRefused (a ValidationError, `seats_in_use`) names
    each seat and its screenings. Decided under `auditorium_lock`, on the locked seats.

    With `user` (or `actor`), a change is written to the audit log in this transaction.
    """
    layout = parse(text, require_seats=True)
    seats = screenings.auditorium_lock(auditorium=auditorium)
    now = timezone.now()
    plan = _plan(layout, seats, now)
    if plan.refusals:
        raise LayoutRefused(plan)
    gone = layout.left_out(seats)
    _clear_dead_claims([seat.pk for seat in gone], now)
    change = screenings.layout_apply(auditorium=auditorium, layout=layout, seats=seats)
    if change.changed:
        if user is not None or actor:
            _audit(auditorium, plan, change, user=user, actor=actor)
        transaction.on_commit(lambda: seatmap.layout_changed(auditorium.pk))
    return change


def layout_plan(*, auditorium: Auditorium, text: str) -> LayoutPlan:
    """Parse `text` and say what replacing the auditorium's layout with it would do, and which
    seats in use it would not keep; writes nothing (a preview: `layout_replace` decides again
    under lock). Raises ValidationError for a text that does not parse."""
    layout = parse(text, require_seats=True)
    seats = list(auditorium.seats.order_by("pk")) if auditorium.pk else []
    return _plan(layout, seats, timezone.now())


def layout_check(*, auditorium: Auditorium, text: str) -> Layout:
    """Parse `text` and check it could replace the auditorium's layout now, without writing.

    For forms, to show problems next to the field; `layout_replace` checks again under lock.
    """
    plan = layout_plan(auditorium=auditorium, text=text)
    if plan.refusals:
        raise LayoutRefused(plan)
    return plan.layout


def _audit(auditorium, plan: LayoutPlan, change: LayoutChange, *, user, actor) -> None:
    audit_record(
        action="layout.change",
        summary=f"Layout of {auditorium}: {change}",
        user=user,
        actor=actor,
        cinema_id=auditorium.cinema_id,
        obj=auditorium,
        changes={
            "added": list(plan.added),
            "removed": list(plan.removed),
            "retyped": [f"{s}: {b} -> {a}" for s, b, a in plan.retyped],
            "moved": list(plan.moved),
            "seats": len(plan.layout),
        },
    )


# ---- the plan ------------------------------------------------------------------------------
def _state(spec: SeatSpec) -> str:
    return spec.seat_type if spec.is_sellable else f"{spec.seat_type}, blocked"


def _shift(old: dict, new: dict) -> tuple[int, int]:
    """The step every seat both layouts have moved by, when they all moved by the same one (the
    whole map shifted); otherwise none."""
    steps = Counter((new[k].x - o.x, new[k].y - o.y) for k, o in old.items() if k in new)
    return steps.most_common(1)[0][0] if len(steps) == 1 else (0, 0)


def _plan(layout: Layout, seats: list[Seat], now: datetime) -> LayoutPlan:
    old = {spec.key: spec for spec in layout_from_seats(seats).seats}
    new = {spec.key: spec for spec in layout.seats}
    at = {(spec.x, spec.y): spec for spec in layout.seats}
    added = tuple(s.label for k, s in new.items() if k not in old)
    removed = tuple(s.label for k, s in old.items() if k not in new)
    retyped = tuple(
        (o.label, _state(o), _state(new[k]))
        for k, o in old.items()
        if k in new and _state(o) != _state(new[k])
    )
    moved = tuple(
        o.label for k, o in old.items() if k in new and (o.x, o.y) != (new[k].x, new[k].y)
    )

    id_of = {(seat.row_label, seat.number): seat.pk for seat in seats}
    upcoming = _upcoming_use(list(id_of.values()), now)
    gone_ids = [id_of[k] for k in old if k not in new]
    ever = _any_use(gone_ids, now)
    dx, dy = _shift(old, new)
    refusals = []
    in_use = []
    for key, spec in sorted(old.items(), key=lambda item: (item[1].y, item[1].x)):
        seat_id = id_of[key]
        if seat_id in upcoming:
            in_use.append(spec.label)
            verdict = _kept(spec, new.get(key), at.get((spec.x + dx, spec.y + dy)))
            if verdict:
                what, becomes = verdict
                refusals.append(SeatRefusal(spec.label, what, upcoming[seat_id], becomes))
        elif seat_id in ever:
            refusals.append(SeatRefusal(spec.label, REMOVED, ever[seat_id]))
    return LayoutPlan(
        layout=layout,
        added=added,
        removed=removed,
        retyped=retyped,
        moved=moved,
        in_use=tuple(in_use),
        refusals=tuple(refusals),
    )


def _kept(spec: SeatSpec, same_label: SeatSpec | None, same_place: SeatSpec | None):
    """None when the new layout keeps this seat in use; else (what, becomes)."""
    if same_place is None:
        return (REMOVED, "") if same_label is None else (AISLE, "")
    if same_place.key != spec.key:
        return (RENAMED, same_place.label)
    if same_place.seat_type != spec.seat_type:
        return (RETYPED, same_place.seat_type)
    if not same_place.is_sellable and spec.is_sellable:
        return (BLOCKED, "")
    if same_place.pair != spec.pair and same_place.pair is not None:
        return (REPAIRED, f"{same_place.pair[0]}{same_place.pair[1]}")
    return None


def _screening_name(screening: Screening) -> str:
    when = timezone.localtime(screening.starts_at, screening.auditorium.cinema.tz)
    return f"{screening.film.title}, {when:%a %d %b %Y %H:%M} (screening {screening.pk})"


def _names(pairs) -> dict[int, tuple[str, ...]]:
    """{seat id: names of its screenings} from (seat id, screening id) pairs."""
    pairs = set(pairs)
    shown = Screening.objects.filter(pk__in={s for _, s in pairs}).select_related(
        "film", "auditorium__cinema"
    )
    name = {screening.pk: _screening_name(screening) for screening in shown}
    out: dict[int, list[str]] = {}
    for seat_id, screening_id in sorted(pairs, key=lambda p: (p[0], name.get(p[1], ""))):
        out.setdefault(seat_id, []).append(name[screening_id])
    return {seat_id: tuple(names) for seat_id, names in out.items()}


def _live(now: datetime) -> Q:
    return Q(expires_at__isnull=True) | Q(expires_at__gt=now)


def _upcoming_use(seat_ids: list[int], now: datetime) -> dict[int, tuple[str, ...]]:
    """Seats held or sold (a live claim) for a screening still to come: not cancelled, not over."""
    if not seat_ids:
        return {}
    return _names(
        SeatClaim.objects.filter(_live(now), seat_id__in=seat_ids)
        .filter(screening__ends_at__gt=now)
        .exclude(screening__status=ScreeningStatus.CANCELLED)
        .values_list("seat_id", "screening_id")
    )


def _any_use(seat_ids: list[int], now: datetime) -> dict[int, tuple[str, ...]]:
    """Seats with a ticket (of any order, any screening) or a live claim: never removed."""
    if not seat_ids:
        return {}
    ticketed = Ticket.objects.filter(seat_id__in=seat_ids).values_list(
        "seat_id", "order__screening_id"
    )
    claimed = SeatClaim.objects.filter(_live(now), seat_id__in=seat_ids).values_list(
        "seat_id", "screening_id"
    )
    return _names([*ticketed, *claimed])


def _clear_dead_claims(seat_ids: list[int], now: datetime) -> None:
    """Dead claims (past their time, not yet swept) still point at seats; sweep them first."""
    if not seat_ids:
        return
    screening_ids = set(
        SeatClaim.objects.filter(seat_id__in=seat_ids, expires_at__lte=now).values_list(
            "screening_id", flat=True
        )
    )
    for screening_id in screening_ids:
        claims.clear_dead(screening_id, seat_ids, now)
