"""Deciding a scan at the door: the only writer of check-ins, scans and their conflicts.

A scan is decided in one transaction: the ticket is read with its order locked FOR SHARE
(`orders.services.ticket_for_door`), every refusal is decided from that row, and the admission
itself is one conditional UPDATE of the ticket (`ticket_mark_checked_in`: never admitted, not
refunded). Two doors scanning one ticket at the same instant both read it unadmitted; the
second UPDATE waits for the first, then finds the ticket admitted and answers
`already_checked_in` with the first door's time and name. The `CheckIn` row and the door's
`Scan` are written in that same transaction.

A scan carries an optional nonce (the device's id for it). Its `Scan` row is unique on it and
written last: a scan sent again (a lost answer, a sync retried) is decided anew, fails on the
nonce, rolls back whatever it did and answers what the first one was answered. So a resent scan
is counted once, and its answer never changes.

Offline scans (`checkin_sync`) are dated by the device. The first scan by that time is the
admission: a scan synced late that is earlier than the admission on record takes its place, and
the later one becomes a `CheckInConflict`; any offline scan of a ticket admitted elsewhere is
one too (the door without the network let its holder in).
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from ticketing import errors, ticket_signing
from ticketing.audit.services import audit_record
from ticketing.orders import services as orders
from ticketing.orders.models import OrderStatus
from ticketing.partners import services as partners
from ticketing.partners.models import ApiKey, Scope
from ticketing.screenings.models import Screening, ScreeningStatus

from .models import CheckIn, CheckInConflict, Scan

log = logging.getLogger(__name__)

ADMITTED = "admitted"
REFUSALS: dict[str, type[errors.DomainError]] = {
    cls.code: cls
    for cls in (
        errors.TicketUnknown,
        errors.AlreadyCheckedIn,
        errors.TicketOtherScreening,
        errors.TicketRefunded,
        errors.TicketCancelled,
        errors.CheckinNotOpen,
        errors.TicketCodeInvalid,
        errors.ScanNonceReused,
        errors.InvalidRequest,
    )
}


@dataclass(frozen=True)
class Door:
    """Who is scanning: a scanner's key (bound to one cinema) or a staff member signed in (their
    cinemas; None is every cinema). A ticket of a cinema the door does not serve is unknown."""

    cinema_ids: frozenset[int] | None
    device: ApiKey | None = None
    user: Any = None

    def serves(self, cinema_id: int) -> bool:
        return self.cinema_ids is None or cinema_id in self.cinema_ids

    @property
    def device_id(self) -> int | None:
        return self.device.pk if self.device is not None else None

    @property
    def user_id(self) -> int | None:
        return self.user.pk if self.user is not None else None


@dataclass(frozen=True)
class ScanRequest:
    code: str
    screening_id: int | None = None
    door: str = ""
    nonce: str | None = None
    scanned_at: datetime | None = None


@dataclass(frozen=True)
class Outcome:
    """A scan's answer: admitted (with `admission`, the body the door shows) or refused."""

    admission: dict | None = None
    error: errors.DomainError | None = None
    replayed: bool = field(default=False, compare=False)

    @property
    def result(self) -> str:
        return ADMITTED if self.error is None else self.error.code


def doors_open_at(starts_at: datetime) -> datetime:
    return starts_at - timedelta(minutes=settings.MARQUEE_CHECKIN["DOORS_OPEN_MINUTES"])


def _digest(scan: ScanRequest) -> str:
    return hashlib.sha256(f"{scan.code.strip()}\n{scan.screening_id or ''}".encode()).hexdigest()


def _describe(ticket: orders.DoorTicket) -> dict:
    return {
        "seat": ticket.seat_label,
        "type": ticket.ticket_type_name,
        "screening": ticket.screening_id,
        "film": ticket.film,
        "starts_at": ticket.starts_at.isoformat(),
    }


def _already(admission: CheckIn) -> errors.AlreadyCheckedIn:
    return errors.AlreadyCheckedIn(
        f"Already admitted at {admission.door or 'the door'}.",
        admitted_at=admission.admitted_at.isoformat(),
        door=admission.door,
    )


def _refusal(ticket: orders.DoorTicket, scan: ScanRequest) -> errors.DomainError | None:
    """Why `ticket` cannot go in at this door, whatever its admission, or None."""
    if ticket.order_status in (OrderStatus.PENDING_PAYMENT, OrderStatus.EXPIRED):
        return errors.TicketUnknown()  # never paid: never handed to anyone
    if ticket.refunded_at is not None or ticket.order_status == OrderStatus.REFUNDED:
        return errors.TicketRefunded()
    if ticket.order_status == OrderStatus.CANCELLED:
        return errors.TicketCancelled(reason="order_cancelled")
    if ticket.screening_status == ScreeningStatus.CANCELLED:
        return errors.TicketCancelled(
            "This screening was cancelled: its tickets are not valid.", reason="screening_cancelled"
        )
    if scan.screening_id is not None and scan.screening_id != ticket.screening_id:
        return errors.TicketOtherScreening(
            f"This ticket is for {ticket.film} at another time or screen.",
            screening={
                "id": ticket.screening_id,
                "film": ticket.film,
                "starts_at": ticket.starts_at.isoformat(),
                "auditorium": ticket.auditorium,
            },
            checking=scan.screening_id,
        )
    return None


def _decide(
    *, door: Door, scan: ScanRequest, offline: bool, now: datetime
) -> tuple[Outcome, orders.DoorTicket | None]:
    try:
        scanned = ticket_signing.parse(scan.code)
    except ticket_signing.CodeInvalid as exc:
        return Outcome(error=errors.TicketCodeInvalid(reason=exc.reason)), None
    ticket = orders.ticket_for_door(code=scanned.code)
    if ticket is None or not door.serves(ticket.cinema_id):
        return Outcome(error=errors.TicketUnknown()), None
    if scanned.signed and scanned.screening_id != ticket.screening_id:
        return Outcome(error=errors.TicketCodeInvalid(reason="not this ticket's screening")), None
    refusal = _refusal(ticket, scan)
    if refusal is not None:
        return Outcome(error=refusal), ticket
    when = min(scan.scanned_at or now, now) if offline else now
    opens = doors_open_at(ticket.starts_at)
    # No door admits before its doors open, online or offline (the page refuses it too): an
    # offline scan dated earlier, of a ticket admitted already or not, is refused rather than
    # taking the admission from the door that let its holder in (a device's own clock, or a
    # forged scanned_at, would otherwise win every race by naming a time long past).
    if when < opens and (offline or ticket.checked_in_at is None):
        return Outcome(
            error=errors.CheckinNotOpen(
                f"Doors open at {timezone.localtime(opens, ZoneInfo(ticket.time_zone)):%H:%M}.",
                doors_open_at=opens.isoformat(),
            )
        ), ticket
    if ticket.checked_in_at is None and orders.ticket_mark_checked_in(ticket_id=ticket.id, at=when):
        CheckIn.objects.create(
            ticket_id=ticket.id,
            screening_id=ticket.screening_id,
            admitted_at=when,
            recorded_at=now,
            door=scan.door,
            device=door.device,
            user_id=door.user_id,
            nonce=scan.nonce,
            offline=offline,
        )
        return _admitted(when, scan, ticket), ticket
    # Admitted already, by another door (maybe a moment ago, in a transaction we waited for).
    admission = CheckIn.objects.select_for_update().filter(ticket_id=ticket.id).first()
    if admission is None:  # checked in before the door kept its check-ins (or by hand)
        fresh = orders.ticket_for_door(code=ticket.code)
        refused = _refusal(fresh, scan) if fresh else errors.TicketUnknown()
        when_in = (fresh.checked_in_at if fresh else None) or now
        return Outcome(
            error=refused or errors.AlreadyCheckedIn(admitted_at=when_in.isoformat(), door="")
        ), ticket
    if not offline:
        return Outcome(error=_already(admission)), ticket
    return _offline_double(door=door, scan=scan, ticket=ticket, admission=admission, when=when)


def _admitted(when: datetime, scan: ScanRequest, ticket: orders.DoorTicket) -> Outcome:
    """The answer of an admission, online or moved earlier by an offline scan."""
    return Outcome(
        admission={
            "result": ADMITTED,
            "admitted_at": when.isoformat(),
            "door": scan.door,
            "ticket": _describe(ticket),
        }
    )


def _offline_double(
    *, door: Door, scan: ScanRequest, ticket: orders.DoorTicket, admission: CheckIn, when: datetime
) -> tuple[Outcome, orders.DoorTicket]:
    """An offline scan of a ticket admitted elsewhere: two doors let it in. The earlier scan is
    the admission; the other is recorded as a conflict for staff."""
    if when < admission.admitted_at and orders.ticket_check_in_moved_earlier(
        ticket_id=ticket.id, was=admission.admitted_at, at=when
    ):
        CheckInConflict.objects.create(
            ticket_id=ticket.id,
            screening_id=ticket.screening_id,
            admission=admission,
            door=admission.door,
            device_id=admission.device_id,
            user_id=admission.user_id,
            scanned_at=admission.admitted_at,
            nonce=admission.nonce or "",
            offline=admission.offline,
        )
        CheckIn.objects.filter(pk=admission.pk).update(
            admitted_at=when,
            door=scan.door,
            device=door.device,
            user_id=door.user_id,
            nonce=scan.nonce,
            offline=True,
        )
        return _admitted(when, scan, ticket), ticket
    same_door = (admission.device_id, admission.user_id, admission.door) == (
        door.device_id,
        door.user_id,
        scan.door,
    )
    if same_door:  # the device admitted it itself: it knew, and said so at the time
        return Outcome(error=_already(admission)), ticket
    CheckInConflict.objects.create(
        ticket_id=ticket.id,
        screening_id=ticket.screening_id,
        admission=admission,
        door=scan.door,
        device=door.device,
        user_id=door.user_id,
        scanned_at=when,
        nonce=scan.nonce or "",
        offline=True,
    )
    log.warning(
        "ticket %s admitted offline at %r, already admitted at %r",
        ticket.id,
        scan.door,
        admission.door,
    )
    return Outcome(error=_already(admission)), ticket


def _screening_logged(scan: ScanRequest, ticket: orders.DoorTicket | None) -> int | None:
    """The screening the door said it was checking, for its `Scan` row: None when there is no
    such screening (a key of the log, which a made-up id broke at commit: a 500)."""
    wanted = scan.screening_id
    if wanted is None or (ticket is not None and ticket.screening_id == wanted):
        return wanted
    return wanted if Screening.objects.filter(pk=wanted).exists() else None


def _stored(outcome: Outcome) -> tuple[str, dict]:
    if outcome.error is None:
        return ADMITTED, outcome.admission or {}
    return outcome.error.code, {"message": outcome.error.message, "details": outcome.error.details}


def _replayed(scan_row: Scan) -> Outcome:
    if scan_row.result == ADMITTED:
        return Outcome(admission=scan_row.answer, replayed=True)
    cls = REFUSALS.get(scan_row.result, errors.TicketRefused)
    error = cls(scan_row.answer.get("message"), **scan_row.answer.get("details", {}))
    return Outcome(error=error, replayed=True)


def checkin_scan(
    *, door: Door, scan: ScanRequest, offline: bool = False, now: datetime | None = None
) -> Outcome:
    """Decide one scan (typed code, old `MQT:` code or signed `MQ2:` code) at `door`.

    Online (`offline=False`) the admission is dated now; a synced offline scan is dated by the
    device (`scan.scanned_at`, never later than now). Every answer is logged as a `Scan`."""
    now = now or timezone.now()
    skew = timedelta(seconds=settings.MARQUEE_CHECKIN["CLOCK_SKEW_SECONDS"])
    if scan.scanned_at is not None and scan.scanned_at > now + skew:
        return Outcome(
            error=errors.InvalidRequest(
                "scanned_at is later than now: check the device's clock.", field="scanned_at"
            )
        )
    try:
        with transaction.atomic():
            outcome, ticket = _decide(door=door, scan=scan, offline=offline, now=now)
            result, answer = _stored(outcome)
            Scan.objects.create(
                nonce=scan.nonce,
                request_digest=_digest(scan),
                ticket_id=ticket.id if ticket else None,
                cinema_id=ticket.cinema_id if ticket else None,
                screening_id=_screening_logged(scan, ticket),
                door=scan.door,
                device=door.device,
                user_id=door.user_id,
                scanned_at=scan.scanned_at,
                recorded_at=now,
                offline=offline,
                result=result,
                answer=answer,
            )
        return outcome
    except IntegrityError:
        # The nonce was used: this scan was sent before, and what it did then stands.
        first = Scan.objects.filter(nonce=scan.nonce).first() if scan.nonce else None
        if first is None:
            raise
    if (first.device_id, first.user_id) != (door.device_id, door.user_id) or (
        first.request_digest != _digest(scan)
    ):
        return Outcome(error=errors.ScanNonceReused(nonce=scan.nonce))
    return _replayed(first)


def checkin_sync(*, door: Door, scans: list[ScanRequest], now: datetime | None = None) -> list:
    """Scans a door made without the network, decided in the order they were made (each in its
    own transaction: one refused scan never holds back the others). Returns their outcomes in
    the order given."""
    now = now or timezone.now()
    order = sorted(range(len(scans)), key=lambda i: (scans[i].scanned_at or now, i))
    outcomes: list[Outcome | None] = [None] * len(scans)
    for index in order:
        outcomes[index] = checkin_scan(door=door, scan=scans[index], offline=True, now=now)
    return outcomes


# ---- scanner devices ---------------------------------------------------------------------------
@transaction.atomic
def scanner_create(
    *, cinema, name: str, rate_per_minute: int | None = None, user=None
) -> tuple[ApiKey, str]:
    """A door scanner's key: scope `checkin`, bound to `cinema`, owned by the house partner,
    throttled at MARQUEE_CHECKIN["SCANNER_RATE_PER_MINUTE"] unless told. Returns the row and the
    raw key (shown once, never stored). Revoked like any key (the API keys admin)."""
    key, raw = partners.api_key_create(
        partner=partners.house_partner(),
        name=name,
        scopes=[Scope.CHECKIN.value],
        rate_per_minute=rate_per_minute or settings.MARQUEE_CHECKIN["SCANNER_RATE_PER_MINUTE"],
        cinema_id=cinema.pk,
    )
    audit_record(
        action="scanner.created",
        summary=f"Door scanner {name!r} for {cinema.name} (key mq_{key.prefix}_…)",
        user=user,
        actor="" if user is not None else "system:create_scanner",
        cinema_id=cinema.pk,
        obj=key,
    )
    return key, raw
