"""What a campaign sold, and what a partner sold and owes: read in a fixed number of grouped
queries, however many orders there are.

Only paid orders count, and of them only the tickets still standing: a refunded ticket is no
sale, and its discount is no longer given (the redemption shrank by it, `redemptions.py`).
A sale's day is the day it was paid in its cinema's zone, as the cinema's own books say.

- `campaign_report`: the orders a campaign's codes brought, in totals and by day, film, cinema
  and city (tickets, gross, discount by who funds it), with its budget left, and the presale
  pace: cumulative tickets day by day before its films' screenings went on general sale.
- `partner_sales`: a partner's own orders by day, film or screening (sales and commission), and
  the settlement statement of the period: what it collected for the orders it settled, what it
  owes the cinema (collected less its commission), and the discounts each funder owes.

Each query groups in the database down to (day, film, cinema) or the group asked for; what is
summed further (a campaign's totals, by city) is summed here from those few rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from django.db.models import Count, DateField, F, Func, Min, Q, Sum

from ticketing.orders.models import Order, OrderStatus, PaidVia, Ticket
from ticketing.screenings.models import Screening

from .models import Campaign, Funder

FUNDERS = tuple(Funder.values)
GROUPS = ("day", "film", "screening")
MAX_DAYS = 366  # the longest period one sales report covers


class LocalDate(Func):
    """The date of a moment in the time zone another column names (each cinema's own)."""

    arity = 2
    output_field = DateField()

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(
            compiler, connection, template="(%(expressions)s)::date", arg_joiner=" AT TIME ZONE "
        )

    def as_sqlite(self, compiler, connection, **extra):
        # Django's own SQLite function for TruncDate; `make run`'s embedded database.
        return self.as_sql(
            compiler,
            connection,
            function="django_datetime_cast_date",
            template="%(function)s(%(expressions)s, 'UTC')",
        )


@dataclass
class Figures:
    """Sums of standing tickets of paid orders; amounts in minor units of one currency."""

    orders: int = 0
    tickets: int = 0
    gross: int = 0  # price and surcharge, before discounts
    discount: int = 0
    by_funder: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FUNDERS, 0))

    @property
    def net(self) -> int:
        return self.gross - self.discount

    def add(self, other: Figures) -> None:
        self.orders += other.orders
        self.tickets += other.tickets
        self.gross += other.gross
        self.discount += other.discount
        for funder, amount in other.by_funder.items():
            self.by_funder[funder] += amount


@dataclass
class Line:
    """One row of a breakdown: its key (a day, a film id, ...), what people read, the sums."""

    key: object
    label: str
    figures: Figures = field(default_factory=Figures)
    city: str = ""


@dataclass(frozen=True)
class PaceDay:
    day: date
    tickets: int
    cumulative: int


@dataclass
class Presale:
    opens_at: datetime | None
    general_sale_at: datetime | None  # the first of its films' screenings to go on general sale
    pace: list[PaceDay]


@dataclass
class CampaignReport:
    campaign: Campaign
    totals: Figures
    by_day: list[Line]
    by_film: list[Line]
    by_cinema: list[Line]
    by_city: list[Line]
    presale: Presale


def _ticket_sums(prefix: str = "", *, settled_only: bool = False) -> dict:
    """The aggregates of a group of tickets: counts, gross, discount, and discount by funder.
    `prefix` is the path from the queried model to the ticket ("" when querying tickets)."""
    only = Q(**{f"{prefix}order__paid_via": PaidVia.PARTNER}) if settled_only else Q()
    sums = {
        "n_tickets": Count(f"{prefix}pk" if prefix else "pk", filter=only or None),
        "sum_gross": Sum(F(f"{prefix}price") + F(f"{prefix}surcharge"), filter=only or None),
        "sum_discount": Sum(f"{prefix}discount", filter=only or None),
    }
    for funder in FUNDERS:
        sums[f"sum_discount_{funder}"] = Sum(
            f"{prefix}discount", filter=only & Q(**{f"{prefix}discount_funder": funder})
        )
    return sums


def _figures(row: dict, *, orders: int = 0, prefix: str = "") -> Figures:
    return Figures(
        orders=orders,
        tickets=row[f"{prefix}n_tickets"] or 0,
        gross=row[f"{prefix}sum_gross"] or 0,
        discount=row[f"{prefix}sum_discount"] or 0,
        by_funder={funder: row[f"{prefix}sum_discount_{funder}"] or 0 for funder in FUNDERS},
    )


def _standing_tickets():
    """Tickets of paid orders, not refunded."""
    return Ticket.objects.filter(order__status=OrderStatus.PAID, refunded_at__isnull=True)


def _sale_day(path: str = "order__") -> LocalDate:
    return LocalDate(f"{path}paid_at", f"{path}screening__auditorium__cinema__time_zone")


def _group(rows: Iterable[tuple[object, str, Figures, str]]) -> list[Line]:
    lines: dict[object, Line] = {}
    for key, label, figures, city in rows:
        line = lines.setdefault(key, Line(key=key, label=label, city=city))
        line.figures.add(figures)
    return list(lines.values())


def campaign_report(*, campaign: Campaign) -> CampaignReport:
    """The campaign's sales, in three queries (whatever the number of orders)."""
    cinema = "order__screening__auditorium__cinema__"
    rows = list(
        _standing_tickets()
        .filter(order__redemption__campaign=campaign)
        .annotate(day=_sale_day())
        .values(
            "day",
            film=F("order__screening__film_id"),
            title=F("order__screening__film__title"),
            cinema=F(f"{cinema}id"),
            cinema_name=F(f"{cinema}name"),
            city=F(f"{cinema}city"),
        )
        .annotate(n_orders=Count("order_id", distinct=True), **_ticket_sums())
        .order_by()
    )
    # An order is one screening paid on one day: it lies in exactly one row, so the rows'
    # order counts add up.
    cells = [(row, _figures(row, orders=row["n_orders"])) for row in rows]
    totals = Figures()
    for _, figures in cells:
        totals.add(figures)
    by_day = _group((r["day"], r["day"].isoformat(), f, "") for r, f in cells)
    by_film = _group((r["film"], r["title"], f, "") for r, f in cells)
    by_cinema = _group((r["cinema"], r["cinema_name"], f, r["city"]) for r, f in cells)
    by_city = _group((r["city"], r["city"] or "-", f, r["city"]) for r, f in cells)
    return CampaignReport(
        campaign=campaign,
        totals=totals,
        by_day=sorted(by_day, key=lambda line: line.key),
        by_film=sorted(by_film, key=lambda line: (-line.figures.tickets, line.label)),
        by_cinema=sorted(by_cinema, key=lambda line: (-line.figures.tickets, line.label)),
        by_city=sorted(by_city, key=lambda line: (-line.figures.tickets, line.label)),
        presale=_presale(campaign),
    )


def _presale(campaign: Campaign) -> Presale:
    """Tickets sold before general sale, day by day: orders placed from the presale's opening
    until their screening went on general sale, through the campaign's codes or by its
    studio's or platform's keys (who else may buy then), for its films in its currency."""
    opens_at = campaign.presale_opens_at
    if opens_at is None:
        return Presale(opens_at=None, general_sale_at=None, pace=[])
    screenings = {
        "order__screening__film__in": campaign.films.all(),
        "order__screening__auditorium__cinema__currency": campaign.currency,
    }
    general_sale_at = Screening.objects.filter(
        film__in=campaign.films.all(),
        auditorium__cinema__currency=campaign.currency,
        sales_open_at__gt=opens_at,
    ).aggregate(first=Min("sales_open_at"))["first"]
    sellers = [p for p in (campaign.studio_id, campaign.platform_id) if p]
    days = (
        _standing_tickets()
        .filter(
            Q(order__redemption__campaign=campaign) | Q(order__partner_id__in=sellers),
            order__created_at__gte=opens_at,
            order__created_at__lt=F("order__screening__sales_open_at"),
            **screenings,
        )
        .annotate(day=_sale_day())
        .values("day")
        .annotate(n_tickets=Count("pk"))
        .order_by("day")
    )
    sold = {row["day"]: row["n_tickets"] for row in days}
    pace, cumulative = [], 0
    if sold:
        day, last = min(sold), max(sold)
        while day <= last:  # every day, a day without a sale too: the pace stays flat
            cumulative += sold.get(day, 0)
            pace.append(PaceDay(day=day, tickets=sold.get(day, 0), cumulative=cumulative))
            day += timedelta(days=1)
    return Presale(opens_at=opens_at, general_sale_at=general_sale_at, pace=pace)


# ---- a partner's sales and settlement -----------------------------------------------------------
@dataclass
class SalesLine:
    """A partner's sales in one group (a day, a film, a screening) and one currency."""

    group: dict  # {"day": date} | {"film": id, "title": ...} | {"screening": id, ...}
    currency: str
    figures: Figures
    booking_fees: int = 0
    commission: int = 0

    @property
    def sales(self) -> int:
        """What buyers paid for the standing tickets: their net price and the booking fees."""
        return self.figures.net + self.booking_fees


@dataclass
class Statement:
    """A settlement statement in one currency, for the orders the partner settled (took the
    buyers' money itself): it collected their totals, keeps its commission, owes the cinema
    the rest; a discount is owed by the one funding it (the studio, or the platform)."""

    currency: str
    orders: int = 0
    tickets: int = 0
    collected: int = 0
    commission: int = 0
    discounts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FUNDERS, 0))

    @property
    def owed_to_cinema(self) -> int:
        return self.collected - self.commission

    @property
    def studio_owes(self) -> int:
        return self.discounts[Funder.STUDIO]


@dataclass
class PartnerSales:
    starts: date
    ends: date
    group_by: str
    lines: list[SalesLine]
    totals: list[SalesLine]  # one per currency, grouped by nothing
    statements: list[Statement]


def _group_fields(group_by: str, order: str = "") -> dict:
    """The columns a sales line is grouped by, under names no model field has (`g_...`)."""
    screening = f"{order}screening__"
    if group_by == "day":
        return {"g_day": F("sale_day")}
    if group_by == "film":
        return {"g_film": F(f"{screening}film_id"), "g_title": F(f"{screening}film__title")}
    return {
        "g_screening": F(f"{order}screening_id"),
        "g_film": F(f"{screening}film_id"),
        "g_title": F(f"{screening}film__title"),
        "g_cinema": F(f"{screening}auditorium__cinema__name"),
        "g_starts_at": F(f"{screening}starts_at"),
    }


def partner_sales(*, partner, starts: date, ends: date, group_by: str = "day") -> PartnerSales:
    """The partner's paid orders whose payment day (in their cinema's zone) is from `starts` to
    `ends` included, in two queries: the orders' own sums (booking fees, commission, what was
    collected) and their standing tickets' sums, each grouped by `group_by` and currency."""
    if group_by not in GROUPS:
        raise ValueError(f"group_by is one of {GROUPS}")
    # Any zone's day lies within a day and a half of UTC's: a coarse bound on paid_at first.
    since = datetime.combine(starts - timedelta(days=1), time.min, tzinfo=UTC)
    until = datetime.combine(ends + timedelta(days=2), time.min, tzinfo=UTC)
    settled = Q(paid_via=PaidVia.PARTNER)
    orders = (
        Order.objects.filter(
            partner=partner, status=OrderStatus.PAID, paid_at__gte=since, paid_at__lt=until
        )
        .annotate(sale_day=_sale_day(""))
        .filter(sale_day__gte=starts, sale_day__lte=ends)
        .values("currency", **_group_fields(group_by))
        .annotate(
            n_orders=Count("pk"),
            sum_fees=Sum("booking_fee"),
            sum_commission=Sum("commission"),
            n_settled=Count("pk", filter=settled),
            sum_collected=Sum("total", filter=settled),
            sum_settled_commission=Sum("commission", filter=settled),
        )
        .order_by()
    )
    tickets = (
        _standing_tickets()
        .filter(order__partner=partner, order__paid_at__gte=since, order__paid_at__lt=until)
        .annotate(sale_day=_sale_day())
        .filter(sale_day__gte=starts, sale_day__lte=ends)
        .values(currency=F("order__currency"), **_group_fields(group_by, "order__"))
        .annotate(**_ticket_sums(), **_prefixed("settled_", _ticket_sums(settled_only=True)))
        .order_by()
    )
    keys = ["currency", *_group_fields(group_by)]
    by_key = {tuple(row[k] for k in keys): row for row in tickets}
    lines, statements = [], {}
    totals: dict[str, SalesLine] = {}
    for row in orders:
        key = tuple(row[k] for k in keys)
        counted = by_key.get(key) or _no_tickets()
        line = SalesLine(
            group={k.removeprefix("g_"): row[k] for k in keys[1:]},
            currency=row["currency"],
            figures=_figures(counted, orders=row["n_orders"]),
            booking_fees=row["sum_fees"] or 0,
            commission=row["sum_commission"] or 0,
        )
        lines.append(line)
        total = totals.setdefault(
            line.currency, SalesLine(group={}, currency=line.currency, figures=Figures())
        )
        total.figures.add(line.figures)
        total.booking_fees += line.booking_fees
        total.commission += line.commission
        if row["n_settled"]:
            statement = statements.setdefault(line.currency, Statement(currency=line.currency))
            settled_figures = _figures(counted, prefix="settled_")
            statement.orders += row["n_settled"]
            statement.tickets += settled_figures.tickets
            statement.collected += row["sum_collected"] or 0
            statement.commission += row["sum_settled_commission"] or 0
            for funder, amount in settled_figures.by_funder.items():
                statement.discounts[funder] += amount
    lines.sort(key=lambda line: _sort_key(line, group_by))
    return PartnerSales(
        starts=starts,
        ends=ends,
        group_by=group_by,
        lines=lines,
        totals=[totals[c] for c in sorted(totals)],
        statements=[statements[c] for c in sorted(statements)],
    )


def _prefixed(prefix: str, sums: dict) -> dict:
    return {f"{prefix}{name}": aggregate for name, aggregate in sums.items()}


def _no_tickets() -> dict:
    names = ["n_tickets", "sum_gross", "sum_discount", *(f"sum_discount_{f}" for f in FUNDERS)]
    return {f"{prefix}{name}": 0 for prefix in ("", "settled_") for name in names}


def _sort_key(line: SalesLine, group_by: str) -> tuple:
    group = line.group
    if group_by == "day":
        return (group["day"], line.currency)
    if group_by == "film":
        return (group["title"], group["film"], line.currency)
    return (group["starts_at"], group["screening"], line.currency)
