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
- **Selling out**: a screening ahead (scheduled, not started, in the next four weeks) with at
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
    IntegerField,
    Min,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from payments.models import Refund, RefundStatus
from promotions.reports import LocalDate
from ticketing.inventory.models import Hold, HoldStatus, SeatClaim
from ticketing.orders.models import Order, OrderStatus, Ticket
from ticketing.screenings.models import Cinema, Screening, ScreeningStatus, Seat

SALES_DAYS = 30
WEEK_DAYS = 7
SELLING_OUT_PERCENT = 85
SELLING_OUT_HORIZON = timedelta(days=28)
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
    Six queries, none of them per row."""
    now = now or timezone.now()
    ids = [c.pk for c in cinemas]
    today = {c.pk: timezone.localtime(now, _tz(c)).date() for c in cinemas}
    by_day, by_film, by_cinema, totals, days, currencies = _sales(cinemas, ids, today, now)
    week, selling_out = _screenings(cinemas, ids, today, now)
    refunds, failed, pending = _refunds(ids)
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
        holds=_holds(ids, now),
        pending_orders=_pending_orders(ids, now),
        refunds=refunds,
        refunds_failed=failed,
        refunds_pending=pending,
    )


def _tz(cinema: Cinema) -> ZoneInfo:
    return cinema.tz


def _midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=tz).astimezone(UTC)


def _percent(part: int, whole: int) -> int:
    return round(part * 100 / whole) if whole else 0


def _sales(cinemas, ids, today, now):
    """Standing tickets of paid orders paid in the last 30 local days, one grouped query by
    (cinema, local day, film, currency), summed three ways here (a few hundred rows)."""
    first = {pk: day - timedelta(days=SALES_DAYS - 1) for pk, day in today.items()}
    since = min((_midnight(first[c.pk], _tz(c)) for c in cinemas), default=now)
    rows = (
        Ticket.objects.filter(
            order__status=OrderStatus.PAID,
            order__paid_at__gte=since,
            order__paid_at__lte=now,
            order__screening__auditorium__cinema_id__in=ids,
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
            revenue=Sum(F("price") + F("surcharge") - F("discount")),
        )
        .order_by()
    )
    days_span = _days(min(first.values()), max(today.values())) if today else []
    by_day = {d: Sales(key=d, label=d.isoformat()) for d in days_span}
    by_film: dict[int, Sales] = {}
    by_cinema = {c.pk: Sales(key=c.pk, label=c.name) for c in cinemas}
    totals = Sales(key=None, label="All")
    currencies = set()
    for row in rows:
        cinema_id, day = row["cinema_id"], row["day"]
        if not first[cinema_id] <= day <= today[cinema_id]:
            continue  # paid before this cinema's first day of the period (another zone's)
        figures = (row["n_tickets"], row["n_orders"], row["currency"], row["revenue"] or 0)
        currencies.add(row["currency"])
        by_day[day].add(*figures)
        film = by_film.setdefault(
            row["film_id"], Sales(key=row["film_id"], label=row["film_title"])
        )
        film.add(*figures)
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


def _count(queryset, outer: str = "pk"):
    return Coalesce(
        Subquery(
            queryset.values(outer).annotate(n=Count("pk")).values("n")[:1],
            output_field=IntegerField(),
        ),
        Value(0),
    )


def _screenings(cinemas, ids, today, now):
    """The week's screenings (from each cinema's local midnight today) and the ones selling out
    in the next four weeks, from one query: each screening with its capacity, sold and held
    seats counted in the database."""
    starts = {c.pk: _midnight(today[c.pk], _tz(c)) for c in cinemas}
    ends = {c.pk: _midnight(today[c.pk] + timedelta(days=WEEK_DAYS), _tz(c)) for c in cinemas}
    if not cinemas:
        return [], []
    window_start = min(starts.values())
    window_end = max(max(ends.values()), now + SELLING_OUT_HORIZON)
    claims = SeatClaim.objects.filter(screening_id=OuterRef("pk"))
    rows = (
        Screening.objects.filter(
            auditorium__cinema_id__in=ids, starts_at__gte=window_start, starts_at__lt=window_end
        )
        .annotate(
            capacity=_count(
                Seat.objects.filter(auditorium_id=OuterRef("auditorium_id"), is_sellable=True),
                "auditorium_id",
            ),
            sold=_count(claims.filter(expires_at__isnull=True), "screening_id"),
            held=_count(
                claims.filter(expires_at__gt=now).filter(
                    Q(hold_id__isnull=False) | Q(order_id__isnull=False)
                ),
                "screening_id",
            ),
        )
        .values(
            "pk",
            "starts_at",
            "ends_at",
            "status",
            "capacity",
            "sold",
            "held",
            "film__title",
            "auditorium__name",
            "auditorium__cinema_id",
        )
        .order_by("starts_at", "auditorium__name")
    )
    by_pk = {c.pk: c for c in cinemas}
    days: dict[tuple[int, date], ScreeningDay] = {}
    for cinema in cinemas:
        for i in range(WEEK_DAYS):
            day = today[cinema.pk] + timedelta(days=i)
            days[(cinema.pk, day)] = ScreeningDay(day=day, cinema=cinema, is_today=i == 0)
    selling_out = []
    for row in rows:
        cinema = by_pk[row["auditorium__cinema_id"]]
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
            capacity=row["capacity"],
            sold=row["sold"],
            held=row["held"],
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


def _holds(ids, now) -> Waiting:
    row = Hold.objects.filter(
        status=HoldStatus.ACTIVE, expires_at__gt=now, screening__auditorium__cinema_id__in=ids
    ).aggregate(n=Count("pk"), oldest=Min("created_at"))
    return Waiting(count=row["n"], oldest=row["oldest"])


def _pending_orders(ids, now) -> Waiting:
    rows = (
        Order.objects.filter(
            status=OrderStatus.PENDING_PAYMENT,
            expires_at__gt=now,
            screening__auditorium__cinema_id__in=ids,
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


def _refunds(ids) -> tuple[list[Refund], int, int]:
    """Pending refunds and failed ones not asked for again, oldest first, with their counts
    (one query for the list, one for the counts)."""
    retried = Refund.objects.filter(retry_of_id=OuterRef("pk"))
    open_ = (
        Refund.objects.filter(payment__order__screening__auditorium__cinema_id__in=ids)
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
