"""The sales dashboard's figures (`/staff/dashboard/`), read for a set of cinemas in a fixed
number of grouped queries, whatever the number of orders (a year of sales answers in a few
milliseconds each; `make bench-pages` measures it).

What the words mean here, decided once:

- **A day** is the cinema's own: a sale at 00:30 in Paris belongs to that Paris day. "Today" is
  each cinema's today; "the week" is today and the six days after it.
- **A sale** is a ticket of a paid order that has not been refunded; its **revenue** is its
  price and seat surcharge less its discount (booking fees are not revenue of a film or a day).
  A sale counts on the day it was paid. A cancelled, expired or refunded order counts nothing;
  an order with one ticket refunded counts the others. Money is integer minor units, summed per
  currency (cinemas in two currencies are never added together).
- **Sold** seats of a screening are its sold seat claims (`expires_at IS NULL`); **held** seats are
  live claims of a hold or of an order awaiting payment. A seat only set aside for a partner
  (an allocation nobody has taken yet) is neither.
- **Selling out**: a screening ahead (scheduled, not started, in the next two weeks) with at
  least 85% of its sellable seats sold.
- **Refunds to look at**: refunds still pending at the provider, and failed refunds nobody has
  asked for again (the buyer is still owed that money; `payments.models.Refund.needs_attention`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import (
    Count,
    Exists,
    F,
    Min,
    OuterRef,
    Q,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from payments.models import Refund, RefundStatus
from promotions.reports import LocalDate
from ticketing import cache
from ticketing.inventory.models import Hold, HoldStatus, SeatClaim
from ticketing.orders.models import Order, OrderStatus, Ticket
from ticketing.screenings.models import Auditorium, Cinema, Screening, ScreeningStatus, Seat

SALES_DAYS = 30
WEEK_DAYS = 7
SELLING_OUT_PERCENT = 85
SELLING_OUT_HORIZON = timedelta(days=14)
# The period's earlier days change only when a ticket sold on them is refunded or its order
# cancelled: kept this long per cinema (today's sales are always read live).
EARLIER_DAYS_SECONDS = 300
# The worker computes them again this often (celery beat, `staff.tasks.dashboard_warm`), before
# they lapse, so staff never wait for the month's tickets to be read.
WARM_SECONDS = 240
SELLING_OUT_SHOWN = 20
REFUNDS_SHOWN = 25


# ---- what the page shows -----------------------------------------------------------------------
@dataclass
class Occupancy:
    """One screening's seats as of now."""

    screening_id: int
    starts_at: datetime  # in the cinema's zone
    ends_at: datetime
    film: str
    cinema_id: int
    cinema: str
    auditorium: str
    status: str
    capacity: int
    sold: int
    held: int

    @property
    def time(self) -> str:
        """The start as the cinema's clock reads it (the page prints it as is, in no other zone)."""
        return self.starts_at.strftime("%H:%M")

    @property
    def when(self) -> str:
        return self.starts_at.strftime("%a %d %b %H:%M")

    @property
    def free(self) -> int:
        return max(self.capacity - self.sold - self.held, 0)

    @property
    def sold_percent(self) -> int:
        return _percent(self.sold, self.capacity)

    @property
    def bar_sold(self) -> int:
        """The sold part of the bar, in percent of its length."""
        return min(self.sold_percent, 100)

    @property
    def bar_held(self) -> int:
        """The held part of the bar: never more than what the sold part leaves."""
        return min(_percent(self.sold + self.held, self.capacity), 100) - self.bar_sold

    @property
    def cancelled(self) -> bool:
        return self.status == ScreeningStatus.CANCELLED

    @property
    def selling_out(self) -> bool:
        return (
            not self.cancelled
            and self.capacity > 0
            and self.sold * 100 >= SELLING_OUT_PERCENT * self.capacity
        )


@dataclass
class ScreeningDay:
    day: date
    cinema: Cinema
    is_today: bool
    screenings: list[Occupancy] = field(default_factory=list)

    @property
    def label(self) -> str:
        return self.day.strftime("%a %d %b")


@dataclass
class Sales:
    """One line of a breakdown: tickets, orders, and revenue per currency (minor units)."""

    key: object
    label: str
    tickets: int = 0
    orders: int = 0
    revenue: dict[str, int] = field(default_factory=dict)

    def add(self, tickets: int, orders: int, currency: str, revenue: int) -> None:
        self.tickets += tickets
        self.orders += orders
        self.revenue[currency] = self.revenue.get(currency, 0) + revenue


@dataclass
class Waiting:
    """Holds or orders awaiting payment that are alive now."""

    count: int = 0
    oldest: datetime | None = None
    amounts: dict[str, int] = field(default_factory=dict)  # orders only: what they would bring


@dataclass
class Dashboard:
    cinemas: list[Cinema]
    now: datetime
    days: list[date]  # the sales period's days, oldest first
    by_day: list[Sales]
    by_film: list[Sales]
    by_cinema: list[Sales]
    totals: Sales
    currencies: list[str]
    week: list[ScreeningDay]
    selling_out: list[Occupancy]
    holds: Waiting
    pending_orders: Waiting
    refunds: list[Refund]
    refunds_failed: int
    refunds_pending: int


# ---- reading it --------------------------------------------------------------------------------
def dashboard(*, cinemas: list[Cinema], now: datetime | None = None) -> Dashboard:
    """Everything the dashboard shows for these cinemas (already narrowed to the member's).
    Ten queries at most (nine when the earlier days are cached), none of them per row."""
    now = now or timezone.now()
    # The cinemas' auditoriums, named directly in every query below: the planner estimates a
    # filter on a big table's own column from its statistics, where one through the cinemas'
    # tiny tables (which autovacuum may never analyze) can make it start from the wrong end.
    room_cinema = _rooms_of(cinemas)
    rooms = sorted(room_cinema)
    today = _today(cinemas, now)
    by_day, by_film, by_cinema, totals, days, currencies = _sales(
        cinemas, rooms, room_cinema, today, now
    )
    week, selling_out = _screenings(cinemas, rooms, today, now)
    refunds, failed, pending = _refunds(rooms)
    return Dashboard(
        cinemas=cinemas,
        now=now,
        days=days,
        by_day=by_day,
        by_film=by_film,
        by_cinema=by_cinema,
        totals=totals,
        currencies=currencies,
        week=week,
        selling_out=selling_out,
        holds=_holds(rooms, now),
        pending_orders=_pending_orders(rooms, now),
        refunds=refunds,
        refunds_failed=failed,
        refunds_pending=pending,
    )


def _rooms_of(cinemas) -> dict[int, int]:
    """{auditorium id: cinema id} of these cinemas."""
    return dict(
        Auditorium.objects.filter(cinema_id__in=[c.pk for c in cinemas]).values_list(
            "id", "cinema_id"
        )
    )


def _today(cinemas, now: datetime) -> dict[int, date]:
    return {c.pk: timezone.localtime(now, _tz(c)).date() for c in cinemas}


def _period(cinemas, today: dict[int, date]) -> tuple[dict[int, date], dict[int, datetime]]:
    """Each cinema's first day of the period, and the start of its today (UTC)."""
    first = {pk: day - timedelta(days=SALES_DAYS - 1) for pk, day in today.items()}
    return first, {c.pk: _midnight(today[c.pk], _tz(c)) for c in cinemas}


def _tz(cinema: Cinema) -> ZoneInfo:
    return cinema.tz


def _midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=tz).astimezone(UTC)


def _percent(part: int, whole: int) -> int:
    return round(part * 100 / whole) if whole else 0


def _sale_rows(rooms, since: datetime, until: datetime) -> list[tuple]:
    """Standing tickets of paid orders paid in [since, until] in these auditoriums, grouped by
    (cinema, local day, film, currency): one query, a row per group."""
    rows = (
        Ticket.objects.filter(
            order__status=OrderStatus.PAID,
            order__paid_at__gte=since,
            order__paid_at__lte=until,
            order__screening__auditorium_id__in=rooms,
            refunded_at__isnull=True,
        )
        .annotate(
            cinema_id=F("order__screening__auditorium__cinema_id"),
            day=LocalDate("order__paid_at", "order__screening__auditorium__cinema__time_zone"),
            film_id=F("order__screening__film_id"),
            film_title=F("order__screening__film__title"),
            currency=F("order__currency"),
        )
        .values("cinema_id", "day", "film_id", "film_title", "currency")
        .annotate(
            n_tickets=Count("pk"),
            n_orders=Count("order_id", distinct=True),
            revenue=Coalesce(Sum(F("price") + F("surcharge") - F("discount")), Value(0)),
        )
        .order_by()
        .values_list(
            "cinema_id",
            "day",
            "film_id",
            "film_title",
            "currency",
            "n_tickets",
            "n_orders",
            "revenue",
        )
    )
    return list(rows)


def _cache_key(cinema: Cinema, today: date) -> str:
    return f"staff:dashboard:earlier-days:v1:{cinema.pk}:{today.isoformat()}"


def earlier_days_forget(cinemas) -> None:
    """Drop the kept earlier days of these cinemas (the bench's cold requests; tests)."""
    now = timezone.now()
    for cinema in cinemas:
        cache.delete(_cache_key(cinema, timezone.localtime(now, _tz(cinema)).date()))


def earlier_days_warm(*, now: datetime | None = None) -> int:
    """Compute every cinema's earlier days again and keep them (the worker, every WARM_SECONDS:
    a page is then always served from the cache). Returns how many cinemas."""
    now = now or timezone.now()
    cinemas = list(Cinema.objects.all())
    if not cinemas:
        return 0
    today = _today(cinemas, now)
    first, midnight = _period(cinemas, today)
    _earlier_days(cinemas, _rooms_of(cinemas), first, today, midnight, refresh=True)
    return len(cinemas)


def _earlier_days(cinemas, room_cinema, first, today, midnight, refresh=False) -> list[tuple]:
    """The period's days before today, per cinema, from the cache when it has them (kept
    EARLIER_DAYS_SECONDS, keyed by the cinema and its today); the cinemas it has not (every one
    with `refresh`), in one query, then kept."""
    keys = {c.pk: _cache_key(c, today[c.pk]) for c in cinemas}
    found = {} if refresh else (cache.get_many(list(keys.values())) or {})
    rows = [row for c in cinemas for row in found.get(keys[c.pk], ())]
    missing = [c for c in cinemas if keys[c.pk] not in found]
    if not missing:
        return rows
    since = min(_midnight(first[c.pk], _tz(c)) for c in missing)
    until = max(midnight[c.pk] for c in missing)
    kept: dict[int, list[tuple]] = {c.pk: [] for c in missing}
    wanted = {c.pk for c in missing}
    rooms = [room for room, cinema_id in room_cinema.items() if cinema_id in wanted]
    for row in _sale_rows(rooms, since, until):
        cinema_id, day = row[0], row[1]
        if first[cinema_id] <= day < today[cinema_id]:
            kept[cinema_id].append(row)
    for cinema in missing:
        cache.set(keys[cinema.pk], kept[cinema.pk], EARLIER_DAYS_SECONDS)
        rows.extend(kept[cinema.pk])
    return rows


def _sales(cinemas, rooms, room_cinema, today, now):
    """The last 30 local days' sales, summed three ways (by day, film and cinema) from the
    grouped rows: today's read live, the earlier days' from the cache or one query."""
    first, midnight = _period(cinemas, today)
    rows = _earlier_days(cinemas, room_cinema, first, today, midnight) if cinemas else []
    if cinemas:
        for row in _sale_rows(rooms, min(midnight.values()), now):
            if row[1] == today[row[0]]:
                rows.append(row)
    days_span = _days(min(first.values()), max(today.values())) if today else []
    by_day = {d: Sales(key=d, label=d.isoformat()) for d in days_span}
    by_film: dict[int, Sales] = {}
    by_cinema = {c.pk: Sales(key=c.pk, label=c.name) for c in cinemas}
    totals = Sales(key=None, label="All")
    currencies = set()
    for cinema_id, day, film_id, title, currency, tickets, orders, revenue in rows:
        figures = (tickets, orders, currency, revenue)
        currencies.add(currency)
        by_day[day].add(*figures)
        by_film.setdefault(film_id, Sales(key=film_id, label=title)).add(*figures)
        by_cinema[cinema_id].add(*figures)
        totals.add(*figures)
    films = sorted(by_film.values(), key=lambda s: (-s.tickets, s.label))
    return (
        list(by_day.values()),
        films,
        list(by_cinema.values()),
        totals,
        days_span,
        sorted(currencies),
    )


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def _screenings(cinemas, rooms, today, now):
    """The week's screenings (from each cinema's local midnight today) and the ones selling out
    in the next two weeks, in three queries: the screenings, the auditoriums' sellable seats,
    and the screenings' claims counted by kind (sold, held) in the database."""
    starts = {c.pk: _midnight(today[c.pk], _tz(c)) for c in cinemas}
    ends = {c.pk: _midnight(today[c.pk] + timedelta(days=WEEK_DAYS), _tz(c)) for c in cinemas}
    if not cinemas:
        return [], []
    window = {
        "auditorium_id__in": rooms,
        "starts_at__gte": min(starts.values()),
        "starts_at__lt": max(max(ends.values()), now + SELLING_OUT_HORIZON),
    }
    shows = list(
        Screening.objects.filter(**window)
        .values(
            "pk",
            "starts_at",
            "ends_at",
            "status",
            "auditorium_id",
            "film__title",
            "auditorium__name",
            "auditorium__cinema_id",
        )
        .order_by("starts_at", "auditorium__name")
    )
    capacity = dict(
        Seat.objects.filter(auditorium_id__in=rooms, is_sellable=True)
        .values("auditorium_id")
        .annotate(n=Count("pk"))
        .values_list("auditorium_id", "n")
    )
    held = Q(expires_at__gt=now) & (Q(hold_id__isnull=False) | Q(order_id__isnull=False))
    claims = {
        screening_id: (sold, held_)
        for screening_id, sold, held_ in SeatClaim.objects.filter(
            screening_id__in=[row["pk"] for row in shows]  # the index on (screening, seat)
        )
        .values("screening_id")
        .annotate(
            sold=Count("pk", filter=Q(expires_at__isnull=True)), held=Count("pk", filter=held)
        )
        .values_list("screening_id", "sold", "held")
    }
    by_pk = {c.pk: c for c in cinemas}
    days: dict[tuple[int, date], ScreeningDay] = {}
    for cinema in cinemas:
        for i in range(WEEK_DAYS):
            day = today[cinema.pk] + timedelta(days=i)
            days[(cinema.pk, day)] = ScreeningDay(day=day, cinema=cinema, is_today=i == 0)
    selling_out = []
    for row in shows:
        cinema = by_pk[row["auditorium__cinema_id"]]
        sold, held_now = claims.get(row["pk"], (0, 0))
        tz = _tz(cinema)
        line = Occupancy(
            screening_id=row["pk"],
            starts_at=row["starts_at"].astimezone(tz),
            ends_at=row["ends_at"].astimezone(tz),
            film=row["film__title"],
            cinema_id=cinema.pk,
            cinema=cinema.name,
            auditorium=row["auditorium__name"],
            status=row["status"],
            capacity=capacity.get(row["auditorium_id"], 0),
            sold=sold,
            held=held_now,
        )
        if starts[cinema.pk] <= row["starts_at"] < ends[cinema.pk]:
            days[(cinema.pk, line.starts_at.date())].screenings.append(line)
        if (
            line.selling_out
            and now < row["starts_at"] < now + SELLING_OUT_HORIZON
            and len(selling_out) < SELLING_OUT_SHOWN
        ):
            selling_out.append(line)
    week = sorted(days.values(), key=lambda d: (d.day, d.cinema.name))
    return week, selling_out


def _holds(rooms, now) -> Waiting:
    row = Hold.objects.filter(
        status=HoldStatus.ACTIVE, expires_at__gt=now, screening__auditorium_id__in=rooms
    ).aggregate(n=Count("pk"), oldest=Min("created_at"))
    return Waiting(count=row["n"], oldest=row["oldest"])


def _pending_orders(rooms, now) -> Waiting:
    rows = (
        Order.objects.filter(
            status=OrderStatus.PENDING_PAYMENT,
            expires_at__gt=now,
            screening__auditorium_id__in=rooms,
        )
        .values("currency")
        .annotate(n=Count("pk"), oldest=Min("created_at"), amount=Sum("total"))
        .order_by("currency")
    )
    waiting = Waiting()
    for row in rows:
        waiting.count += row["n"]
        waiting.oldest = min(filter(None, [waiting.oldest, row["oldest"]]), default=None)
        waiting.amounts[row["currency"]] = row["amount"] or 0
    return waiting


def _refunds(rooms) -> tuple[list[Refund], int, int]:
    """Pending refunds and failed ones not asked for again, oldest first, with their counts
    (one query for the list, one for the counts)."""
    retried = Refund.objects.filter(retry_of_id=OuterRef("pk"))
    open_ = (
        Refund.objects.filter(payment__order__screening__auditorium_id__in=rooms)
        .filter(Q(status=RefundStatus.PENDING) | Q(status=RefundStatus.FAILED))
        .annotate(retried=Exists(retried))
        .filter(retried=False)
    )
    counts = open_.aggregate(
        failed=Count("pk", filter=Q(status=RefundStatus.FAILED)),
        pending=Count("pk", filter=Q(status=RefundStatus.PENDING)),
    )
    shown = list(
        open_.select_related(
            "payment__order__screening__auditorium__cinema", "payment__order__screening__film"
        ).order_by("status", "created_at")  # failed before pending[:REFUNDS_SHOWN]
    )
    return shown, counts["failed"], counts["pending"]
