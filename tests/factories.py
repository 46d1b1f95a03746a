"""Small builders for test data. Plain functions: readable, no magic."""

from __future__ import annotations

import itertools
import string
from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from ticketing.inventory.models import Hold, SeatClaim
from ticketing.partners.services import partner_create
from ticketing.screenings.models import (
    Auditorium,
    Cinema,
    Film,
    Screening,
    Seat,
    SeatTypeSurcharge,
    TicketType,
)

_seq = itertools.count(1)

BUYER = "factory-session"  # who holds and orders, unless a test names another buyer


def cinema(**kw) -> Cinema:
    n = next(_seq)
    defaults = {
        "name": f"Cinema {n}",
        "slug": f"cinema-{n}",
        "time_zone": "Europe/Paris",
        "currency": "EUR",
        "booking_fee": 100,
        "booking_fee_cap": 300,
    }
    defaults.update(kw)
    c = Cinema.objects.create(**defaults)
    TicketType.objects.create(cinema=c, code="adult", name="Adult", price=1200, sort_order=1)
    TicketType.objects.create(cinema=c, code="child", name="Child", price=800, sort_order=2)
    SeatTypeSurcharge.objects.create(cinema=c, seat_type="premium", amount=300)
    return c


def auditorium(
    cinema: Cinema, rows: int = 5, per_row: int = 10, name: str | None = None
) -> Auditorium:
    room = Auditorium.objects.create(cinema=cinema, name=name or f"Screen {next(_seq)}")
    Seat.objects.bulk_create(
        Seat(auditorium=room, row_label=string.ascii_uppercase[y], number=x + 1, x=x, y=y)
        for y in range(rows)
        for x in range(per_row)
    )
    return room


def film(**kw) -> Film:
    n = next(_seq)
    defaults = {
        "title": f"Film {n}",
        "slug": f"film-{n}",
        "runtime_minutes": 120,
        "certificate": "12A",
    }
    defaults.update(kw)
    return Film.objects.create(**defaults)


def screening(room: Auditorium, starts_in: timedelta = timedelta(days=1), **kw) -> Screening:
    kw.setdefault("film", film())
    return Screening.objects.create(auditorium=room, starts_at=timezone.now() + starts_in, **kw)


def seats(room: Auditorium, *labels: str) -> list[int]:
    """Seat ids by label, e.g. seats(room, "A1", "A2")."""
    by_label = {f"{s.row_label}{s.number}": s.pk for s in room.seats.all()}
    return [by_label[label] for label in labels]


def partner_with_key(name: str | None = None, scopes=None):
    return partner_create(name=name or f"Partner {next(_seq)}", scopes=scopes)


def layout_room(cinema: Cinema, text: str, name: str | None = None) -> Auditorium:
    """An auditorium whose seats come from a layout text (see ticketing/screenings/layouts.py)."""
    from ticketing.flows.layouts import layout_replace

    room = Auditorium.objects.create(cinema=cinema, name=name or f"Screen {next(_seq)}")
    layout_replace(auditorium=room, text=text)
    return room


def hold(screening: Screening, *which: str | int, session: str = BUYER) -> Hold:
    """A live hold on these seats (labels such as "A1", or seat ids) for the buyer `session`,
    made through the hold service: the one place the tests' helpers call it."""
    from ticketing.inventory.holds import hold_create

    labels = [s for s in which if isinstance(s, str)]
    by_label = dict(
        zip(labels, seats(screening.auditorium, *labels) if labels else [], strict=True)
    )
    return hold_create(
        screening_id=screening.pk,
        seat_ids=[by_label.get(s, s) for s in which],
        buyer_key=session,
    )


def held(screening: Screening, *labels: str, buyer_key: str = BUYER) -> Hold:
    """`hold`, under the keyword the storefront and admin tests name the buyer with."""
    return hold(screening, *labels, session=buyer_key)


def live_claims(screening: Screening | None = None, **filters) -> list[SeatClaim]:
    """The claims alive now (sold, or held until later than now), in seat order, read from the
    table itself rather than through the code under test. Filters as `SeatClaim.objects`."""
    if screening is not None:
        filters["screening"] = screening
    alive = Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now())
    return list(SeatClaim.objects.filter(alive, **filters).order_by("seat_id"))


def pending_order(screening: Screening, *labels: str, buyer_key: str = BUYER, partner=None):
    """An order awaiting payment for these seats (adult tickets), made through the services:
    a browser buyer's, or a partner's when `partner` is given."""
    from ticketing.inventory.holds import hold_create
    from ticketing.orders.services import order_create

    seat_ids = seats(screening.auditorium, *labels)
    if partner is None:
        the_hold, owner = hold(screening, *labels, session=buyer_key), {"buyer_key": buyer_key}
    else:
        the_hold = hold_create(screening_id=screening.pk, seat_ids=seat_ids, partner=partner)
        owner = {"partner": partner}
    return order_create(
        hold_id=the_hold.pk,
        customer_email="buyer@example.com",
        customer_name="Buyer",
        tickets=[(seat_id, "adult") for seat_id in seat_ids],
        actor="test",
        **owner,
    )
