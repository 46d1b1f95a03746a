"""The benchmark's own database and Redis db, and what it sells: a cinema, its screenings, a partner.

Everything here is destructive by design (drop, create, flush), so it refuses anything but a
loopback server and a database whose name says it is a benchmark's.
"""

from __future__ import annotations

import string
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import urlsplit, urlunsplit

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", ""}
# The benchmark runs with DJANGO_DEBUG off, so it says on purpose what it is instead of being
# refused as an unsafe production site (ticketing/security.py): keys of its own, the sandbox
# opted in, plain HTTP on loopback.
PRODUCTION_SHAPE_ENV = {
    "DJANGO_SECRET_KEY": "bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
    "MARQUEE_SANDBOX_IN_PRODUCTION": "1",
    "MARQUEE_SANDBOX_WEBHOOK_SECRET": "bench-only-sandbox-webhook-secret",
    "MARQUEE_HTTPS": "0",
    # base64url of 32 bytes: a published, bench-only key that signs tickets' QR codes
    "MARQUEE_TICKET_SIGNING_KEYS": "bench:YmVuY2gtb25seS10aWNrZXQtc2lnbmluZy1rZXktMzI",
}


class UnsafeTarget(RuntimeError):
    pass


@dataclass
class Layout:
    """A rectangular room with one aisle; a few accessible places in the front row."""

    rows: int = 15
    per_row: int = 20
    aisle_after: int | None = None  # seat number after which the aisle runs; default: middle

    def seats(self) -> list[dict]:
        aisle = self.aisle_after if self.aisle_after is not None else self.per_row // 2
        out = []
        for y in range(self.rows):
            for n in range(1, self.per_row + 1):
                x = n - 1 + (1 if n > aisle else 0)  # one empty column: the aisle
                kind = "standard"
                if y == 0 and n in (1, self.per_row):
                    kind = "wheelchair"
                elif y == 0 and n in (2, self.per_row - 1):
                    kind = "companion"
                elif self.rows >= 8 and y in (self.rows - 5, self.rows - 4, self.rows - 3):
                    kind = "premium"
                out.append(
                    {"row_label": _row_label(y), "number": n, "x": x, "y": y, "seat_type": kind}
                )
        return out


def _row_label(y: int) -> str:
    letters = string.ascii_uppercase
    return letters[y] if y < 26 else letters[y // 26 - 1] + letters[y % 26]


@dataclass
class Scenario:
    screening_ids: list[int]
    capacity: dict[int, int]  # screening id -> sellable seats
    api_key: str
    partner_id: int
    film_titles: dict[int, str] = field(default_factory=dict)
    promo_code: str = ""  # the campaign's code, valid on every screening, no use limit
    promo_percent: int = 0

    @property
    def total_capacity(self) -> int:
        return sum(self.capacity.values())


# ---- database and Redis ----------------------------------------------------------------------
def check_local_database(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql"):
        raise UnsafeTarget(f"the bench needs PostgreSQL, not {parts.scheme!r}")
    if (parts.hostname or "") not in LOCAL_HOSTS:
        raise UnsafeTarget(
            f"the bench only drops databases on this machine, not on {parts.hostname}"
        )
    name = parts.path.lstrip("/")
    if "bench" not in name:
        raise UnsafeTarget(
            f"refusing to drop {name!r}: the bench database's name must contain 'bench'"
        )
    return name


def reset_database(url: str) -> None:
    """DROP and CREATE the benchmark database (connections to it are terminated)."""
    import psycopg
    from psycopg import sql

    name = check_local_database(url)
    parts = urlsplit(url)
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def flush_redis(url: str) -> None:
    import redis

    parts = urlsplit(url)
    if (parts.hostname or "") not in LOCAL_HOSTS:
        raise UnsafeTarget(f"the bench only flushes Redis on this machine, not on {parts.hostname}")
    client = redis.Redis.from_url(url)
    try:
        client.flushdb()
    finally:
        client.close()


# ---- Django: migrate and seed (call after django.setup()) ------------------------------------
def migrate() -> None:
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)


PROMO_CODE = "ROGUE20"
PROMO_PERCENT = 20


def seed(*, screenings: int, layout: Layout, rooms: int = 6) -> Scenario:
    """One cinema with `rooms` identical auditoriums; `screenings` shows spread over them
    (never overlapping), the first being the blockbuster's premiere; a partner with a key; a
    studio's campaign running for every film on sale, with a budget no sell-out can spend and
    a percent code without use limits, for the buyers who send one (`--promo-share`)."""
    from django.db import connection, transaction
    from django.utils import timezone

    from promotions.codes import code_create
    from promotions.models import Campaign
    from ticketing.partners.models import PartnerKind
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

    rooms = max(1, min(rooms, screenings))
    with transaction.atomic():
        cinema = Cinema.objects.create(
            name="Bench Palace",
            slug="bench-palace",
            city="Paris",
            time_zone="Europe/Paris",
            currency="EUR",
            hold_minutes=10,
            booking_fee=100,
            booking_fee_cap=300,
        )
        TicketType.objects.create(
            cinema=cinema, code="adult", name="Adult", price=1250, sort_order=1
        )
        TicketType.objects.create(
            cinema=cinema, code="child", name="Child", price=850, sort_order=2
        )
        SeatTypeSurcharge.objects.create(cinema=cinema, seat_type="premium", amount=300)

        blockbuster = Film.objects.create(
            title="Mission: Impossible - Rogue Nation",
            slug="mission-impossible-rogue-nation",
            runtime_minutes=131,
            certificate="12A",
            languages=["en"],
        )
        others = [
            Film.objects.create(title=f"Feature {i}", slug=f"feature-{i}", runtime_minutes=100 + i)
            for i in range(1, 4)
        ]
        spec = layout.seats()
        auditoriums = []
        for r in range(rooms):
            room = Auditorium.objects.create(cinema=cinema, name=f"Screen {r + 1}")
            Seat.objects.bulk_create(Seat(auditorium=room, **s) for s in spec)
            auditoriums.append(room)

        start = timezone.now().replace(microsecond=0) + timedelta(days=1)
        slot = timedelta(hours=3)  # longer than any runtime plus cleaning
        created = []
        for i in range(screenings):
            room = auditoriums[i % rooms]
            film = blockbuster if i == 0 or i % 3 == 0 else others[i % len(others)]
            created.append(
                Screening.objects.create(
                    film=film, auditorium=room, starts_at=start + slot * (i // rooms), format="2D"
                )
            )
        partner, raw_key = partner_create(name="Bench ticketing platform")

        sellable = sum(1 for _ in spec)
        studio, _key = partner_create(name="Bench studio", kind=PartnerKind.STUDIO)
        now = timezone.now()
        campaign = Campaign.objects.create(
            name="Rogue Nation opening (bench)",
            studio=studio,
            platform=partner,
            starts_at=now - timedelta(days=1),
            ends_at=now + timedelta(days=30),
            currency=cinema.currency,
            # every seat of every screening at the dearest price, all of it off: never spent
            budget=min(screenings * sellable * 10_000, 2**31 - 1),
        )
        campaign.films.set([blockbuster, *others])
        code_create(campaign=campaign, code=PROMO_CODE, kind="percent", value=PROMO_PERCENT)

    scenario = Scenario(
        screening_ids=[s.pk for s in created],
        capacity={s.pk: sellable for s in created},
        api_key=raw_key,
        partner_id=partner.pk,
        film_titles={s.pk: s.film.title for s in created},
        promo_code=PROMO_CODE,
        promo_percent=PROMO_PERCENT,
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    connection.close()
    return scenario
