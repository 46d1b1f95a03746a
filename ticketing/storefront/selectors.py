"""What the storefront pages read. Each page costs a fixed number of queries, whatever the size
of the programme or the auditorium."""

from __future__ import annotations

import json
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from ticketing.inventory import seatmap
from ticketing.inventory.models import Hold, HoldStatus, SeatClaim
from ticketing.orders import pricing
from ticketing.screenings import selectors as catalogue
from ticketing.screenings.models import Cinema, Film, Screening, Seat, SeatType

DAYS_AHEAD = 7  # the date strip
FILM_DAYS_AHEAD = 14  # a film's page lists its showtimes this far ahead


# ---- showtimes with their availability ---------------------------------------------------------
def _with_availability(qs: QuerySet, now: datetime) -> QuerySet:
    """Annotate `taken` (live claims) and `capacity` (sellable seats) in the same query."""
    taken = (
        SeatClaim.objects.filter(screening=OuterRef("pk"))
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .order_by()
        .values("screening")
        .annotate(n=Count("*"))
        .values("n")
    )
    capacity = (
        Seat.objects.filter(auditorium=OuterRef("auditorium"), is_sellable=True)
        .order_by()
        .values("auditorium")
        .annotate(n=Count("*"))
        .values("n")
    )
    return qs.annotate(
        taken=Coalesce(Subquery(taken, output_field=IntegerField()), Value(0)),
        capacity=Coalesce(Subquery(capacity, output_field=IntegerField()), Value(0)),
    )


@dataclass
class Showtime:
    screening: Screening
    starts_local: datetime
    on_sale: bool
    sold_out: bool
    almost_full: bool
    seats_left: int
    opens_later: bool = False  # general sale not open yet: a presale code may open it


def _showtime(screening: Screening, now: datetime) -> Showtime:
    cinema = screening.auditorium.cinema
    left = max(screening.capacity - screening.taken, 0)
    ratio = screening.taken / screening.capacity if screening.capacity else 1
    return Showtime(
        screening=screening,
        starts_local=screening.starts_at.astimezone(cinema.tz),
        on_sale=screening.is_on_sale(now),
        sold_out=left == 0,
        almost_full=left > 0 and ratio >= settings.MARQUEE["ALMOST_FULL_RATIO"],
        seats_left=left,
        opens_later=not screening.is_on_sale(now) and screening.is_selling(now),
    )


# ---- the date strip ------------------------------------------------------------------------------
def today_for(cinema: Cinema | None, now: datetime | None = None) -> date:
    now = now or timezone.now()
    zone = cinema.tz if cinema else ZoneInfo(settings.TIME_ZONE)
    return now.astimezone(zone).date()


def date_strip(first: date, days: int = DAYS_AHEAD) -> list[date]:
    return [first + timedelta(days=i) for i in range(days)]


def parse_day(value: str | None, allowed: list[date]) -> date:
    """The day a `?date=` names if it is on the strip, else the strip's first day."""
    try:
        day = date.fromisoformat(value or "")
    except ValueError:
        return allowed[0]
    return day if day in allowed else allowed[0]


# ---- home and cinema pages ---------------------------------------------------------------------
def cinemas() -> list[Cinema]:
    return list(Cinema.objects.order_by("name"))


@dataclass
class CinemaShowtimes:
    cinema: Cinema
    showtimes: list[Showtime] = field(default_factory=list)


@dataclass
class FilmShowtimes:
    film: Film
    cinemas: list[CinemaShowtimes] = field(default_factory=list)

    def add(self, cinema: Cinema, show: Showtime) -> None:
        if not self.cinemas or self.cinemas[-1].cinema.pk != cinema.pk:
            self.cinemas.append(CinemaShowtimes(cinema))
        self.cinemas[-1].showtimes.append(show)


def programme(
    *, day: date, cinema: Cinema | None, all_cinemas: list[Cinema]
) -> list[FilmShowtimes]:
    """Films with their showtimes on a local day, at one cinema or all: two queries."""
    now = timezone.now()
    scope = [cinema] if cinema else all_cinemas
    on_day = catalogue.screenings_on_local_day(
        catalogue.screenings_ahead(now=now), day=day, cinemas=scope
    )
    qs = _with_availability(on_day, now).order_by(
        "film__title", "auditorium__cinema__name", "starts_at"
    )
    films: OrderedDict[int, FilmShowtimes] = OrderedDict()
    for screening in qs:
        item = films.setdefault(screening.film_id, FilmShowtimes(screening.film))
        item.add(screening.auditorium.cinema, _showtime(screening, now))
    return list(films.values())


def coming_soon(today: date) -> list[Film]:
    """The home page's *Coming soon*, soonest first: the films coming soon (see
    `ticketing.screenings.selectors`) that have no screening ahead yet. One with a preview or a
    presale is in the programme of its days instead (tests/storefront/test_catalogue.py)."""
    bookable = catalogue.films_with_screenings_ahead(now=timezone.now())
    return list(
        catalogue.films_coming_soon(today=today)
        .exclude(pk__in=bookable.values("pk"))
        .order_by("release_date", "title")[:12]
    )


# ---- a film's page ---------------------------------------------------------------------------
@dataclass
class DayShowtimes:
    day: date
    cinemas: list[CinemaShowtimes] = field(default_factory=list)


def film_showtimes(film: Film, *, cinema: Cinema | None = None) -> list[DayShowtimes]:
    """A film's showtimes for the next weeks, grouped by local day, then cinema: one query."""
    now = timezone.now()
    qs = catalogue.screenings_ahead(now=now).filter(
        film=film, starts_at__lt=now + timedelta(days=FILM_DAYS_AHEAD)
    )
    if cinema is not None:
        qs = qs.filter(auditorium__cinema=cinema)
    qs = _with_availability(qs, now).order_by("starts_at")
    days: dict[date, dict[int, CinemaShowtimes]] = {}
    for screening in qs:
        show = _showtime(screening, now)
        by_cinema = days.setdefault(show.starts_local.date(), {})
        c = screening.auditorium.cinema
        by_cinema.setdefault(c.pk, CinemaShowtimes(c)).showtimes.append(show)
    return [
        DayShowtimes(day, sorted(by_cinema.values(), key=lambda c: c.cinema.name))
        for day, by_cinema in sorted(days.items())
    ]


# ---- a screening's page --------------------------------------------------------------------------
@dataclass
class SeatCell:
    id: int
    row: str
    number: int
    label: str
    x: int
    y: int
    type: str
    pair: int | None
    status: str

    @property
    def available(self) -> bool:
        return self.status == seatmap.AVAILABLE


@dataclass
class SeatRow:
    label: str
    y: int
    seats: list[SeatCell]


@dataclass
class SeatMap:
    rows: list[SeatRow]
    columns: int
    counts: dict
    types: list[tuple[str, str]]  # the seat types present, for the legend


def seat_map(screening_id: int) -> SeatMap | None:
    """The auditorium's layout with live statuses: the same one-query render as the API."""
    body = seatmap.cached_render(screening_id)
    if body is None:
        return None
    data = json.loads(body)
    rows: OrderedDict[int, SeatRow] = OrderedDict()
    columns = 0
    present = set()
    for s in data["seats"]:
        cell = SeatCell(
            id=s["id"],
            row=s["row"],
            number=s["number"],
            label=s["label"],
            x=s["x"],
            y=s["y"],
            type=s["type"],
            pair=s["pair"],
            status=s["status"],
        )
        present.add(cell.type)
        columns = max(columns, cell.x + 1)
        rows.setdefault(cell.y, SeatRow(cell.row, cell.y, [])).seats.append(cell)
    types = [(value, label) for value, label in SeatType.choices if value in present]
    return SeatMap(list(rows.values()), columns, data["counts"], types)


@dataclass
class PriceList:
    currency: str
    ticket_types: list[dict]  # [{"id", "code", "name", "price"}] in the cinema's order
    surcharges: dict[str, int]
    booking_fee: int
    booking_fee_cap: int | None
    table: dict  # pricing.ticket_prices(): {ticket type id: (ticket type, price)}


def price_list(screening: Screening) -> PriceList:
    cinema = screening.auditorium.cinema
    prices = pricing.ticket_prices(screening)
    types = sorted(prices.values(), key=lambda tp: (tp[0].sort_order, tp[0].code))
    return PriceList(
        currency=cinema.currency,
        ticket_types=[
            {"id": t.pk, "code": t.code, "name": t.name, "price": price} for t, price in types
        ],
        surcharges=pricing.surcharges(cinema.pk),
        booking_fee=cinema.booking_fee,
        booking_fee_cap=cinema.booking_fee_cap,
        table=prices,
    )


def live_hold_for(screening_id: int, buyer_key: str) -> Hold | None:
    """This browser's live hold on the screening, if it has one (to offer to carry on)."""
    return (
        Hold.objects.filter(
            screening_id=screening_id,
            buyer_key=buyer_key,
            status=HoldStatus.ACTIVE,
            expires_at__gt=timezone.now(),
        )
        .order_by("-created_at")
        .first()
    )
