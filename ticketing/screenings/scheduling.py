"""Planning screenings: a pattern made into screenings, the clashes shown before saving, a week
copied to the next, a screening moved. The staff schedule page (`ticketing/staff/schedule.py`)
calls these; nothing here reads a request.

**Times.** A pattern's days and start times are the cinema's wall clock; screenings are stored in
UTC. A start time that does not exist on a day (the hour the clocks skip in spring) is refused
with `ScheduleTimeNonexistent`, naming the day; one that happens twice (the hour repeated in
autumn) is the first of the two (`fold=0`), and the preview shows the UTC offset it chose.
A copied week keeps each screening's wall-clock time (19:30 stays 19:30 across a DST change).

**The end of a screening** is its start + the film's runtime + the cleaning gap (minutes, 15 by
default): `Screening.ends_at`, which the exclusion constraint compares with `[starts, ends)`. The
model has no trailers or adverts field, so there is nothing more to add. A screening may start
exactly when another one's end (gap included) falls: touching is not overlapping.

**Preview, then save, all or nothing.** `plan_check` fills each planned screening's clashes:
with scheduled screenings already in the auditorium, and with the other screenings of the same
plan, each named (film, local time, auditorium). `plan_save` checks again in its transaction and
refuses a plan with any clash or problem (`ScheduleConflict`, the plan in `details`); otherwise it
saves every screening through `services.screening_save`, where the exclusion constraint decides.
A screening another planner saved between the preview and this save makes the constraint refuse
one row: the whole plan is rolled back, checked again against what is now committed, and refused
with `ScheduleConflict` naming the clash. Nothing is ever half-saved.

**Moving** a screening (another start and/or auditorium) is one conditional UPDATE: it changes the
row only when no seat of the screening is held or sold, decided in the database (see
`screening_move`); the trigger `marquee_auditorium_locked` of inventory migration 0004 refuses a
change of auditorium on its own as well.

Every screening made or moved is written to the audit log in the same transaction.
**Prices** are the cinema's defaults, as the demo sets them: a 2D screening has no prices of its
own, so the cinema's list prices (its ticket types) apply; a 3D or IMAX screening takes the
prices of the cinema's latest screening in that format that has some (the demo's: list price +
the format's extra), or the list prices when there is none. A copied screening takes its
source's prices. The preview says which (`Plan.prices_from`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from ticketing import db, errors
from ticketing.audit.services import audit_record

from . import sales, services
from .models import (
    Auditorium,
    Cinema,
    Film,
    Screening,
    ScreeningFormat,
    ScreeningPrice,
    ScreeningStatus,
)

DEFAULT_GAP_MINUTES = 15
MAX_GAP_MINUTES = 240
MAX_DAYS = 31  # one plan covers at most this many days
MAX_SCREENINGS = 300  # and makes at most this many screenings
MAX_AHEAD = timedelta(days=10 * 366)  # nothing is planned further ahead than this

# The seat claims' table (inventory, a layer above). The catalogue never imports it; moving a
# screening reads it by name in SQL, as the trigger of inventory migration 0004 does.
CLAIMS_TABLE = "inventory_seatclaim"


# ---- what a plan is -------------------------------------------------------------------------
@dataclass(frozen=True)
class Clash:
    """A screening a planned one would overlap: one already scheduled (`screening_id`), or
    another of the same plan (`index`, its position in the plan)."""

    film: str
    auditorium: str
    starts_at: datetime  # in the cinema's zone
    ends_at: datetime
    screening_id: int | None = None
    index: int | None = None

    @property
    def in_plan(self) -> bool:
        return self.screening_id is None

    def describe(self) -> str:
        where = "another screening of this plan" if self.in_plan else "scheduled"
        return (
            f"{self.film}, {_day(self.starts_at)} {self.starts_at:%H:%M}-{self.ends_at:%H:%M}, "
            f"{self.auditorium} ({where})"
        )

    def as_dict(self) -> dict:
        return {
            "film": self.film,
            "auditorium": self.auditorium,
            "starts_at": self.starts_at.isoformat(),
            "ends_at": self.ends_at.isoformat(),
            "screening": self.screening_id,
            "plan_index": self.index,
        }


def _day(moment: datetime) -> str:
    """'Wed 9 Dec', as the page writes days."""
    return f"{moment:%a} {moment.day} {moment:%b}"


@dataclass
class Planned:
    """One screening a plan would make."""

    film: Film
    auditorium: Auditorium
    starts_at: datetime  # UTC
    ends_at: datetime  # UTC: start + runtime + gap
    format: str = ScreeningFormat.TWO_D
    audio_language: str = "en"
    subtitles: str = ""
    sales_open_at: datetime | None = None
    sales_close_at: datetime | None = None
    source: Screening | None = None  # the screening a copy is made from
    clashes: list[Clash] = field(default_factory=list)
    problem: str = ""  # why it cannot be made, other than a clash

    @property
    def tz(self):
        return self.auditorium.cinema.tz

    @property
    def local_start(self) -> datetime:
        return self.starts_at.astimezone(self.tz)

    @property
    def local_end(self) -> datetime:
        return self.ends_at.astimezone(self.tz)

    @property
    def ok(self) -> bool:
        return not self.clashes and not self.problem

    def as_dict(self) -> dict:
        return {
            "film": self.film.title,
            "auditorium": self.auditorium.name,
            "starts_at": self.local_start.isoformat(),
            "ends_at": self.local_end.isoformat(),
            "problem": self.problem,
            "clashes": [c.as_dict() for c in self.clashes],
        }


@dataclass
class Plan:
    cinema: Cinema
    items: list[Planned]
    # per format of the plan's new screenings: the screening whose prices they take, or None
    # for the cinema's list prices (filled by plan_check)
    prices_from: dict[str, Screening | None] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return bool(self.items) and all(item.ok for item in self.items)

    @property
    def offsets_vary(self) -> bool:
        """Whether the plan spans a change of the cinema's UTC offset (worth showing then)."""
        return len({item.local_start.utcoffset() for item in self.items}) > 1

    @property
    def refused(self) -> list[Planned]:
        return [item for item in self.items if not item.ok]

    def as_dict(self) -> dict:
        return {
            "screenings": len(self.items),
            "refused": [item.as_dict() for item in self.refused][:50],
        }


# ---- local times ----------------------------------------------------------------------------
def local_moment(day: date, at: time, tz) -> datetime:
    """`day` at `at` on the cinema's clock, as an aware datetime; `ScheduleTimeNonexistent` when
    the clock skips that time on that day. A repeated time is its first occurrence."""
    moment = datetime.combine(day, at.replace(fold=0), tzinfo=tz)
    if moment.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != moment.replace(tzinfo=None):
        raise errors.ScheduleTimeNonexistent(
            f"{at:%H:%M} does not exist on {day:%A %d %B %Y} in {tz.key}: the clocks go forward "
            "then. Pick another start time for that day.",
            day=day.isoformat(),
            time=f"{at:%H:%M}",
            time_zone=tz.key,
        )
    return moment


def _not_too_far(day: date, today: date) -> None:
    if day > today + MAX_AHEAD:
        raise errors.ScheduleInvalid(
            "Plan at most ten years ahead.", field="day", day=str(day), today=str(today)
        )


def local_today(cinema: Cinema, now: datetime | None = None) -> date:
    return timezone.localtime(now or timezone.now(), cinema.tz).date()


def week_start(day: date) -> date:
    """The Monday of `day`'s week."""
    return day - timedelta(days=day.weekday())


def week_window(cinema: Cinema, monday: date) -> tuple[datetime, datetime]:
    """The UTC instants of the cinema's local Monday 00:00 and the next Monday 00:00."""
    tz = cinema.tz
    start = datetime.combine(monday, time.min, tzinfo=tz).astimezone(UTC)
    end = datetime.combine(monday + timedelta(days=7), time.min, tzinfo=tz).astimezone(UTC)
    return start, end


def week_screenings(*, cinema: Cinema, monday: date):
    """The cinema's scheduled screenings of the local week starting `monday`, in start order,
    with their film and auditorium."""
    start, end = week_window(cinema, monday)
    return (
        Screening.objects.filter(
            auditorium__cinema=cinema,
            status=ScreeningStatus.SCHEDULED,
            starts_at__gte=start,
            starts_at__lt=end,
        )
        .select_related("film", "auditorium")
        .order_by("starts_at", "auditorium__name")
    )


# ---- a pattern ------------------------------------------------------------------------------
def pattern_expand(
    *,
    film: Film,
    auditorium: Auditorium,
    weekdays: Iterable[int],
    times: Iterable[time],
    first_day: date,
    last_day: date,
    gap_minutes: int = DEFAULT_GAP_MINUTES,
    format: str = ScreeningFormat.TWO_D,
    audio_language: str = "en",
    subtitles: str = "",
    now: datetime | None = None,
) -> Plan:
    """The screenings a pattern makes: `film` in `auditorium` on each of `weekdays` (0 is
    Monday) from `first_day` to `last_day` included, at each of `times` (the cinema's clock),
    each followed by `gap_minutes` of cleaning. Clashes are not looked for yet: `plan_check`.

    Refused (`ScheduleInvalid` and its kinds): no day or no time, a range ending before it
    starts or longer than MAX_DAYS, a range that has passed, a gap out of 0..MAX_GAP_MINUTES, a
    format the model does not know, a start time the clocks skip. A screening of the pattern
    that would start before `now` (today's earlier times) is kept with its problem shown."""
    now = now or timezone.now()
    cinema = auditorium.cinema
    tz = cinema.tz
    days = sorted({int(d) for d in weekdays})
    starts = sorted(set(times))
    if not days or not starts:
        raise errors.SchedulePatternEmpty(
            "Choose at least one day of the week and one start time.",
            weekdays=days,
            times=[f"{t:%H:%M}" for t in starts],
        )
    if any(d < 0 or d > 6 for d in days):
        raise errors.ScheduleInvalid("Days of the week are 0 (Monday) to 6 (Sunday).", field="days")
    if last_day < first_day:
        raise errors.ScheduleInvalid(
            "The last day comes before the first.", field="last_day", first_day=str(first_day)
        )
    if (last_day - first_day).days + 1 > MAX_DAYS:
        raise errors.ScheduleInvalid(
            f"Plan at most {MAX_DAYS} days at a time.", field="last_day", max_days=MAX_DAYS
        )
    today = local_today(cinema, now)
    if last_day < today:
        raise errors.ScheduleInPast(
            f"That week has passed: the cinema's today is {today:%A %d %B %Y}.",
            last_day=str(last_day),
            today=str(today),
        )
    _not_too_far(last_day, today)
    if not 0 <= int(gap_minutes) <= MAX_GAP_MINUTES:
        raise errors.ScheduleInvalid(
            f"The cleaning gap is 0 to {MAX_GAP_MINUTES} minutes.", field="gap_minutes"
        )
    if format not in ScreeningFormat.values:
        raise errors.ScheduleInvalid(
            "Unknown format.", field="format", allowed=ScreeningFormat.values
        )
    length = timedelta(minutes=film.runtime_minutes + int(gap_minutes))
    items: list[Planned] = []
    day = max(first_day, today)  # days already gone this week are left out
    while day <= last_day:
        if day.weekday() in days:
            for at in starts:
                moment = local_moment(day, at, tz).astimezone(UTC)
                items.append(
                    Planned(
                        film=film,
                        auditorium=auditorium,
                        starts_at=moment,
                        ends_at=moment + length,  # in UTC: an hour is an hour across DST
                        format=format,
                        audio_language=audio_language or "en",
                        subtitles=subtitles or "",
                        problem="" if moment > now else "starts in the past",
                    )
                )
        day += timedelta(days=1)
    if not items:
        raise errors.SchedulePatternEmpty(
            "No day from the first to the last is one of the days chosen.",
            weekdays=days,
            first_day=str(first_day),
            last_day=str(last_day),
        )
    if len(items) > MAX_SCREENINGS:
        raise errors.ScheduleInvalid(
            f"A plan makes at most {MAX_SCREENINGS} screenings; this one makes {len(items)}.",
            field="times",
        )
    return Plan(cinema=cinema, items=items)


# ---- copying a week -------------------------------------------------------------------------
def week_copy_plan(*, cinema: Cinema, monday: date, now: datetime | None = None) -> Plan:
    """The scheduled screenings of the cinema's week starting `monday` (local), each made again
    seven days later at the same wall-clock time, with its film, auditorium, format, audio,
    subtitles, length (its gap included) and prices. `ScheduleInPast` when the week they would
    go to has passed; `SchedulePatternEmpty` when the week has nothing to copy."""
    now = now or timezone.now()
    monday = week_start(monday)
    today = local_today(cinema, now)
    _not_too_far(monday, today)
    if monday + timedelta(days=13) < today:
        raise errors.ScheduleInPast(
            "The week it would copy into has passed.", week=str(monday), today=str(today)
        )
    start, end = week_window(cinema, monday)
    sources = list(
        Screening.objects.filter(
            auditorium__cinema=cinema,
            status=ScreeningStatus.SCHEDULED,
            starts_at__gte=start,
            starts_at__lt=end,
        )
        .select_related("film", "auditorium__cinema")
        .prefetch_related("prices")
        .order_by("starts_at", "auditorium__name")
    )
    if not sources:
        raise errors.SchedulePatternEmpty(
            f"The week of {monday:%d %B %Y} has no screenings to copy.", week=str(monday)
        )
    tz = cinema.tz
    items = []
    for source in sources:
        local = source.starts_at.astimezone(tz)
        problem = ""
        try:
            moment = local_moment(local.date() + timedelta(days=7), local.time(), tz)
        except errors.ScheduleTimeNonexistent as exc:
            problem = exc.message
            moment = local + timedelta(days=7)  # shown, never saved
        moment = moment.astimezone(UTC)
        if not problem and moment <= now:
            problem = "starts in the past"
        shift = moment - source.starts_at
        items.append(
            Planned(
                film=source.film,
                auditorium=source.auditorium,
                starts_at=moment,
                ends_at=moment + (source.ends_at - source.starts_at),
                format=source.format,
                audio_language=source.audio_language,
                subtitles=source.subtitles,
                sales_open_at=source.sales_open_at and source.sales_open_at + shift,
                sales_close_at=source.sales_close_at and source.sales_close_at + shift,
                source=source,
                problem=problem,
            )
        )
    return Plan(cinema=cinema, items=items)


# ---- clashes --------------------------------------------------------------------------------
def _overlap(a_start, a_end, b_start, b_end) -> bool:
    """Half-open ranges, as the exclusion constraint's `tstzrange(.., '[)')`: touching is fine."""
    return a_start < b_end and b_start < a_end


def plan_check(plan: Plan, *, exclude: Sequence[int] = ()) -> Plan:
    """Fill each planned screening's clashes, in one query: the scheduled screenings of the
    plan's auditoriums that it would overlap (but `exclude`), then the plan's own others."""
    for item in plan.items:
        item.clashes = []
    if not plan.items:
        return plan
    plan.prices_from = _prices_from(plan)
    tz = plan.cinema.tz
    rooms = {item.auditorium.pk for item in plan.items}
    existing = list(
        Screening.objects.filter(
            auditorium_id__in=rooms,
            status=ScreeningStatus.SCHEDULED,
            starts_at__lt=max(item.ends_at for item in plan.items),
            ends_at__gt=min(item.starts_at for item in plan.items),
        )
        .exclude(pk__in=list(exclude))
        .select_related("film", "auditorium")
        .order_by("starts_at")
    )
    for item in plan.items:
        for other in existing:
            if other.auditorium_id == item.auditorium.pk and _overlap(
                item.starts_at, item.ends_at, other.starts_at, other.ends_at
            ):
                item.clashes.append(
                    Clash(
                        film=other.film.title,
                        auditorium=other.auditorium.name,
                        starts_at=other.starts_at.astimezone(tz),
                        ends_at=other.ends_at.astimezone(tz),
                        screening_id=other.pk,
                    )
                )
    for i, item in enumerate(plan.items):
        for j, other in enumerate(plan.items):
            same_room = i != j and other.auditorium.pk == item.auditorium.pk
            if same_room and _overlap(item.starts_at, item.ends_at, other.starts_at, other.ends_at):
                item.clashes.append(
                    Clash(
                        film=other.film.title,
                        auditorium=other.auditorium.name,
                        starts_at=other.local_start,
                        ends_at=other.local_end,
                        index=j,
                    )
                )
    return plan


# ---- saving ---------------------------------------------------------------------------------
def _refuse(plan: Plan, message: str) -> errors.ScheduleConflict:
    return errors.ScheduleConflict(message, **plan.as_dict())


@transaction.atomic
def plan_save(*, plan: Plan, user=None, action: str = "screening.scheduled") -> list[Screening]:
    """Make every screening of `plan`, or none: `ScheduleConflict` (with the refused ones and
    their clashes in `details`) when any clashes or cannot be made, now or because a screening
    saved by someone else a moment ago makes the exclusion constraint refuse one. Each screening
    made is written to the audit log, in this transaction."""
    plan_check(plan)
    if not plan.items:
        raise errors.SchedulePatternEmpty("There is nothing to save.")
    if not plan.ok:
        raise _refuse(plan, _conflict_message(plan))
    try:
        with transaction.atomic():  # undone whole when the constraint refuses one screening
            return [_make(item, plan=plan, user=user, action=action) for item in plan.items]
    except errors.ScreeningOverlap:
        # Saved by someone else since the check (committed now: the constraint waited for it),
        # and this plan's own rows are gone again: name what it clashes with.
        plan_check(plan)
        if plan.ok:  # the other has gone again meanwhile: still refused, said plainly
            for item in plan.items:
                item.problem = "another screening was saved in this auditorium meanwhile"
        raise _refuse(
            plan,
            "Someone saved a screening that clashes with this plan a moment ago; nothing was "
            "saved. " + _conflict_message(plan),
        ) from None


def _make(item: Planned, *, plan: Plan, user, action: str) -> Screening:
    screening = Screening(
        film=item.film,
        auditorium=item.auditorium,
        starts_at=item.starts_at,
        ends_at=item.ends_at,
        format=item.format,
        audio_language=item.audio_language,
        subtitles=item.subtitles,
        sales_open_at=item.sales_open_at,
        sales_close_at=item.sales_close_at,
    )
    services.screening_save(screening=screening)
    source = item.source or plan.prices_from.get(item.format)
    if source is not None:
        _copy_prices(source=source, screening=screening)
    local = item.local_start
    audit_record(
        action=action,
        summary=(
            f"{item.film.title} scheduled in {item.auditorium.name} on {local:%a %d %b %Y %H:%M}"
            + (f" (copied from screening {item.source.pk})" if item.source else "")
        ),
        user=user,
        cinema_id=plan.cinema.pk,
        obj=screening,
        changes={
            "film": [None, item.film.title],
            "auditorium": [None, item.auditorium.name],
            "starts_at": [None, item.starts_at.isoformat()],
            "ends_at": [None, item.ends_at.isoformat()],
            "format": [None, item.format],
        },
    )
    return screening


def _prices_from(plan: Plan) -> dict[str, Screening | None]:
    """For each format of the plan's new (not copied) screenings other than 2D, the cinema's
    latest scheduled screening in that format with prices of its own; 2D takes list prices."""
    formats = {item.format for item in plan.items if item.source is None}
    found: dict[str, Screening | None] = {}
    for fmt in sorted(formats):
        found[fmt] = None
        if fmt != ScreeningFormat.TWO_D:
            found[fmt] = (
                Screening.objects.filter(
                    auditorium__cinema=plan.cinema,
                    format=fmt,
                    status=ScreeningStatus.SCHEDULED,
                    prices__isnull=False,
                )
                .select_related("auditorium")
                .prefetch_related("prices__ticket_type")
                .order_by("-starts_at")
                .first()
            )
    return found


def _copy_prices(*, source: Screening, screening: Screening) -> None:
    prices = list(source.prices.all())
    if prices:
        ScreeningPrice.objects.bulk_create(
            ScreeningPrice(screening=screening, ticket_type_id=p.ticket_type_id, price=p.price)
            for p in prices
        )


def _conflict_message(plan: Plan) -> str:
    refused = plan.refused
    if not refused:
        return ""
    first = refused[0]
    why = first.problem or "clashes with " + first.clashes[0].describe()
    more = f" ({len(refused) - 1} more refused)" if len(refused) > 1 else ""
    return (
        f"{first.film.title} at {_day(first.local_start)} {first.local_start:%H:%M} in "
        f"{first.auditorium.name} "
        f"{why}{more}."
    )


# ---- moving one screening -------------------------------------------------------------------
def screening_move(
    *,
    screening_id: int,
    starts_at: datetime,
    auditorium: Auditorium | None = None,
    user=None,
    now: datetime | None = None,
) -> Screening:
    """Move a screening to `starts_at` (aware) and/or `auditorium` (of the same cinema), keeping
    its length (its gap included); its sales close as long before the start as they did.

    Allowed only while no seat of it is held or sold, which the database decides: the screening
    row is locked FOR UPDATE (a claim being made on it holds KEY SHARE on that row through its
    foreign key, so it is waited for and then seen; a new one waits for this move), its claims
    are locked (a dead claim being taken over is waited for), and the UPDATE itself carries the
    condition `NOT EXISTS (a live or sold claim)`. No row changed: `ScreeningNotMovable` with
    the count. Also refused: a cancelled or started screening, a start in the past, an overlap
    (`ScheduleConflict` naming the screening it would overlap)."""
    now = now or timezone.now()
    with transaction.atomic():
        screening = sales.screening_lock(screening_id)
        cinema = screening.auditorium.cinema
        target = auditorium or screening.auditorium
        if target.cinema_id != cinema.pk:
            raise errors.ScheduleInvalid(
                "Move a screening only to an auditorium of its own cinema.", field="auditorium"
            )
        if screening.status != ScreeningStatus.SCHEDULED:
            raise errors.ScreeningNotMovable(
                "This screening is cancelled: it cannot move.", reason="cancelled"
            )
        if screening.starts_at <= now:
            raise errors.ScreeningNotMovable(
                "This screening has started: it cannot move.", reason="started"
            )
        starts = starts_at.astimezone(UTC)
        _not_too_far(starts.date(), now.date())
        if starts <= now:
            raise errors.ScheduleInPast(
                "The new start time has passed.", starts_at=starts_at.isoformat()
            )
        before = {
            "starts_at": screening.starts_at.isoformat(),
            "ends_at": screening.ends_at.isoformat(),
            "auditorium": screening.auditorium.name,
        }
        length = screening.ends_at - screening.starts_at
        shift = starts - screening.starts_at
        ends = starts + length
        close = screening.sales_close_at and screening.sales_close_at + shift
        opens = screening.sales_open_at
        if opens is not None and opens >= starts:
            opens = None  # would open after it starts: on sale now, as a blank opening means

        def refuse_overlap(fallback: str) -> errors.ScheduleConflict:
            only = Planned(film=screening.film, auditorium=target, starts_at=starts, ends_at=ends)
            plan = plan_check(Plan(cinema=cinema, items=[only]), exclude=[screening.pk])
            return errors.ScheduleConflict(
                "The new time overlaps "
                + (only.clashes[0].describe() if only.clashes else fallback)
                + "; the screening was not moved.",
                **plan.as_dict(),
            )

        # A friendly answer first (and the only one on SQLite); the constraint decides a race.
        first = refuse_overlap("")
        if first.details["refused"]:
            raise first
        moved = _move_row(
            screening_id=screening.pk,
            starts=starts,
            ends=ends,
            auditorium_id=target.pk,
            sales_open_at=opens,
            sales_close_at=close,
            now=now,
        )
        if moved is None:
            raise refuse_overlap("a screening saved a moment ago")
        if not moved:
            taken = _live_claims(screening.pk, now)
            raise errors.ScreeningNotMovable(
                f"{taken} seat(s) of this screening are held or sold: it cannot move. Cancel it "
                "and schedule a new one instead.",
                reason="seats_taken",
                seats=taken,
            )
        screening.refresh_from_db()
        local = screening.starts_at.astimezone(cinema.tz)
        after = {
            "starts_at": screening.starts_at.isoformat(),
            "ends_at": screening.ends_at.isoformat(),
            "auditorium": target.name,
        }
        audit_record(
            action="screening.moved",
            summary=(f"{screening.film.title} moved to {local:%a %d %b %Y %H:%M} in {target.name}"),
            user=user,
            cinema_id=cinema.pk,
            obj=screening,
            changes={k: [before[k], after[k]] for k in after if before[k] != after[k]},
        )
        return screening


def _live_claims(screening_id: int, now: datetime) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count(*) FROM {CLAIMS_TABLE} WHERE screening_id = %s "
            "AND (expires_at IS NULL OR expires_at > %s)",
            _adapt([screening_id, now]),
        )
        return cursor.fetchone()[0]


def _adapt(params: list) -> list:
    """Datetimes as the backend stores them (SQLite compares text)."""
    ops = connection.ops
    return [ops.adapt_datetimefield_value(v) if isinstance(v, datetime) else v for v in params]


def _move_row(
    *, screening_id, starts, ends, auditorium_id, sales_open_at, sales_close_at, now
) -> int | None:
    """The conditional UPDATE: 1 moved, 0 refused (seats held or sold), None overlapping."""
    postgres = connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        if postgres:
            # Wait for anyone turning a dead claim of this screening into a live one.
            cursor.execute(
                f"SELECT 1 FROM {CLAIMS_TABLE} WHERE screening_id = %s FOR UPDATE", [screening_id]
            )
        try:
            with transaction.atomic():
                cursor.execute(
                    "UPDATE screenings_screening SET starts_at = %s, ends_at = %s, "
                    "auditorium_id = %s, sales_open_at = %s, sales_close_at = %s "
                    "WHERE id = %s AND status = %s AND NOT EXISTS ("
                    f"SELECT 1 FROM {CLAIMS_TABLE} WHERE screening_id = %s "
                    "AND (expires_at IS NULL OR expires_at > %s))",
                    _adapt(
                        [
                            starts,
                            ends,
                            auditorium_id,
                            sales_open_at,
                            sales_close_at,
                            screening_id,
                            ScreeningStatus.SCHEDULED,
                            screening_id,
                            now,
                        ]
                    ),
                )
                return cursor.rowcount
        except IntegrityError as exc:  # the exclusion constraint, or the trigger
            if db.refused_by(exc, services.OVERLAP_CONSTRAINT):
                return None
            if db.refused_by(exc, db.AUDITORIUM_LOCKED):
                return 0
            raise
