"""A year of sales for the staff dashboard's timing (`make bench-pages`), loaded in set-based SQL.

Three cinemas in three zones and currencies (Paris EUR, London GBP, New York USD), five
auditoriums each (140 to 352 seats), forty films, four screenings a day in every auditorium from
330 days ago to 35 days ahead (about 22,000 screenings), and their sales: each screening sells a
share of its seats (most a few per cent to a fifth, one in thirty-five nearly all of it; those
ahead less the further they are), in orders of one to four tickets paid up to two weeks before
the start (never after now). Of the orders, about 2% were refunded whole, 1% had one ticket
refunded, 1.5% were cancelled and 3% expired unpaid; each paid order has its sandbox payment,
each refund its refund row (a few failed, a few still pending). Sold seats have their sold seat
claims, as the claims service leaves them. Then a few live holds and orders awaiting payment
made through the services.

The rows are written straight into the tables by `INSERT ... SELECT` over `generate_series`
(the ORM would take many minutes for half a million tickets), consistent by construction: every
ticket's seat is its screening's auditorium's, one claim per sold seat, totals add up. Not
written: order status history and confirmation emails, which the dashboard does not read.
Call after `django.setup()` and migrate, on the bench's own database.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import timedelta

CINEMAS = [
    # name, slug, city, zone, currency, adult, child, premium surcharge
    ("Bench Paris", "bench-paris", "Paris", "Europe/Paris", "EUR", 1250, 850, 300),
    ("Bench London", "bench-london", "London", "Europe/London", "GBP", 1150, 790, 250),
    ("Bench New York", "bench-new-york", "New York", "America/New_York", "USD", 1600, 1100, 400),
]
ROOMS = [(10, 14), (12, 18), (14, 20), (15, 22), (16, 22)]  # rows x seats per row
FILMS = 40
DAYS_BACK = 330
DAYS_AHEAD = 35
SLOTS = ("11:00", "14:15", "17:30", "20:45")  # 3 h 15 apart: the longest film plus cleaning fits


@dataclass
class Loaded:
    cinema_ids: list[int]
    screenings: int
    orders: int
    tickets: int
    sold_claims: int
    refunds: int
    seconds: float


# A cheap deterministic hash of an integer (Knuth's multiplicative), 0..999999.
H = "(({x})::bigint * 2654435761 % 1000003)"


def load() -> Loaded:
    from django.db import connection, transaction

    from bench.fixtures import Layout
    from ticketing.screenings.models import (
        Auditorium,
        Cinema,
        Film,
        Seat,
        SeatTypeSurcharge,
        TicketType,
    )

    started = time.perf_counter()
    with transaction.atomic():
        cinema_ids = []
        for name, slug, city, zone, currency, adult, child, premium in CINEMAS:
            cinema = Cinema.objects.create(
                name=name,
                slug=slug,
                city=city,
                time_zone=zone,
                currency=currency,
                booking_fee=100,
                booking_fee_cap=300,
            )
            TicketType.objects.create(
                cinema=cinema, code="adult", name="Adult", price=adult, sort_order=1
            )
            TicketType.objects.create(
                cinema=cinema, code="child", name="Child", price=child, sort_order=2
            )
            SeatTypeSurcharge.objects.create(cinema=cinema, seat_type="premium", amount=premium)
            for n, (rows, per_row) in enumerate(ROOMS, start=1):
                room = Auditorium.objects.create(cinema=cinema, name=f"Screen {n}")
                spec = Layout(rows=rows, per_row=per_row).seats()
                Seat.objects.bulk_create(Seat(auditorium=room, **s) for s in spec)
            cinema_ids.append(cinema.pk)
        Film.objects.bulk_create(
            Film(
                title=f"Bench feature {i:02d}",
                slug=f"bench-feature-{i:02d}",
                runtime_minutes=90 + (i * 7) % 60,
                certificate="12A",
                languages=["en"],
            )
            for i in range(1, FILMS + 1)
        )
        with connection.cursor() as cursor:
            _sql(cursor, cinema_ids)
    _live_waiting(cinema_ids)
    with connection.cursor() as cursor:
        for table in (
            "screenings_screening",
            "orders_order",
            "orders_ticket",
            "inventory_seatclaim",
            "payments_payment",
            "payments_refund",
        ):
            cursor.execute(f"VACUUM ANALYZE {table}")
        counts = {}
        for table in ("screenings_screening", "orders_order", "orders_ticket", "payments_refund"):
            cursor.execute(f"SELECT count(*) FROM {table}")
            counts[table] = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM inventory_seatclaim WHERE expires_at IS NULL")
        sold = cursor.fetchone()[0]
    return Loaded(
        cinema_ids=cinema_ids,
        screenings=counts["screenings_screening"],
        orders=counts["orders_order"],
        tickets=counts["orders_ticket"],
        sold_claims=sold,
        refunds=counts["payments_refund"],
        seconds=time.perf_counter() - started,
    )


def _sql(cursor, cinema_ids: list[int]) -> None:
    # A bench database, written in one transaction: room to sort and hash in memory, and no
    # per-row foreign-key triggers (every reference is made from the rows it points to).
    cursor.execute("SET LOCAL work_mem = '64MB'")
    cursor.execute("SET LOCAL session_replication_role = replica")
    ids = ",".join(str(i) for i in cinema_ids)
    slots = ",".join(f"time '{s}'" for s in SLOTS)
    steps = [
        # Screenings: every auditorium, every day, every slot, at the cinema's local time.
        f"""
        INSERT INTO screenings_screening
            (film_id, auditorium_id, starts_at, ends_at, format, audio_language, subtitles,
             status, sales_open_at, sales_close_at)
        SELECT f.id, a.id, ((d.day + s.slot) AT TIME ZONE c.time_zone),
               ((d.day + s.slot) AT TIME ZONE c.time_zone)
                   + make_interval(mins => f.runtime_minutes + 15),
               '2D', 'en', '', 'scheduled', NULL, NULL
        FROM generate_series(current_date - {DAYS_BACK}, current_date + {DAYS_AHEAD},
                             interval '1 day') AS d(day)
        CROSS JOIN unnest(ARRAY[{slots}]) WITH ORDINALITY AS s(slot, n)
        JOIN screenings_auditorium a ON a.cinema_id IN ({ids})
        JOIN screenings_cinema c ON c.id = a.cinema_id
        JOIN LATERAL (
            SELECT id, runtime_minutes FROM screenings_film WHERE slug LIKE 'bench-feature-%'
            ORDER BY id
            OFFSET ((extract(epoch FROM d.day)::bigint / 86400 / 7 + s.n * 3 + a.id)
                    % {FILMS}) LIMIT 1
        ) f ON true
        """,
        # Sellable seats numbered per auditorium, to deal them out in order.
        f"""
        CREATE TEMP TABLE bench_seat ON COMMIT DROP AS
        SELECT s.id AS seat_id, s.auditorium_id, s.row_label || s.number AS label, s.seat_type,
               row_number() OVER (PARTITION BY s.auditorium_id ORDER BY s.id) AS ord
        FROM screenings_seat s JOIN screenings_auditorium a ON a.id = s.auditorium_id
        WHERE s.is_sellable AND a.cinema_id IN ({ids})
        """,
        "CREATE INDEX ON bench_seat (auditorium_id, ord)",
        # Each screening's share sold and its orders' size.
        f"""
        CREATE TEMP TABLE bench_show ON COMMIT DROP AS
        SELECT sc.id, sc.auditorium_id, sc.starts_at, a.cinema_id, c.currency,
               1 + {H.format(x="sc.id")} % 4 AS per_order,
               floor(cap.n * CASE WHEN {H.format(x="sc.id")} % 35 = 0
                                  THEN 0.86 + ({H.format(x="sc.id + 7")} % 14) / 100.0
                                  ELSE 0.02 + ({H.format(x="sc.id")} % 11) / 100.0 END
                     * CASE WHEN sc.starts_at <= now() THEN 1
                            ELSE greatest(0.0, 1 - extract(epoch FROM sc.starts_at - now())
                                                   / (86400.0 * 40)) END)::int AS quota
        FROM screenings_screening sc
        JOIN screenings_auditorium a ON a.id = sc.auditorium_id
        JOIN screenings_cinema c ON c.id = a.cinema_id
        JOIN (SELECT auditorium_id, count(*) AS n FROM bench_seat GROUP BY auditorium_id) cap
          ON cap.auditorium_id = sc.auditorium_id
        WHERE a.cinema_id IN ({ids})
        """,
        # The cinemas' prices.
        f"""
        CREATE TEMP TABLE bench_price ON COMMIT DROP AS
        SELECT c.id AS cinema_id, adult.id AS adult_id, adult.price AS adult,
               child.id AS child_id, child.price AS child, sur.amount AS premium
        FROM screenings_cinema c
        JOIN screenings_tickettype adult ON adult.cinema_id = c.id AND adult.code = 'adult'
        JOIN screenings_tickettype child ON child.cinema_id = c.id AND child.code = 'child'
        JOIN screenings_seattypesurcharge sur ON sur.cinema_id = c.id
        WHERE c.id IN ({ids})
        """,
        # Every seat sold (or ordered and then not kept), with its order's number in the show
        # and its price (every fourth seat a child's).
        """
        CREATE TEMP TABLE bench_sale ON COMMIT DROP AS
        SELECT sh.id AS screening_id, sh.cinema_id, bs.seat_id, bs.label, bs.seat_type, g.ord,
               (g.ord - 1) / sh.per_order AS grp,
               (g.ord - 1) % sh.per_order = 0 AS first_in_order,
               CASE WHEN g.ord % 4 = 0 THEN p.child_id ELSE p.adult_id END AS ticket_type_id,
               CASE WHEN g.ord % 4 = 0 THEN p.child ELSE p.adult END AS price,
               CASE WHEN bs.seat_type = 'premium' THEN p.premium ELSE 0 END AS surcharge,
               CASE WHEN g.ord % 4 = 0 THEN 'Child' ELSE 'Adult' END AS type_name
        FROM bench_show sh
        CROSS JOIN LATERAL generate_series(1, sh.quota) AS g(ord)
        JOIN bench_seat bs ON bs.auditorium_id = sh.auditorium_id AND bs.ord = g.ord
        JOIN bench_price p ON p.cinema_id = sh.cinema_id
        """,
        "ANALYZE bench_sale",
        # The orders: what happened to each, when it was paid.
        f"""
        CREATE TEMP TABLE bench_order ON COMMIT DROP AS
        SELECT gen_random_uuid() AS id, o.screening_id, o.grp, o.n, o.subtotal, o.currency,
               least(o.n * 100, 300) AS fee,
               CASE WHEN o.h % 1000 < 20 THEN 'refunded'
                    WHEN o.h % 1000 < 30 THEN 'partly'
                    WHEN o.h % 1000 < 45 THEN 'cancelled'
                    WHEN o.h % 1000 < 75 THEN 'expired'
                    ELSE 'paid' END AS fate,
               CASE WHEN o.starts_at - make_interval(secs => 1800 + o.h % (14 * 86400)) < now()
                    THEN o.starts_at - make_interval(secs => 1800 + o.h % (14 * 86400))
                    ELSE now() - make_interval(secs => 60 + o.h % (14 * 86400)) END AS paid_at,
               o.h
        FROM (
            SELECT s.screening_id, s.grp, count(*) AS n, sum(s.price + s.surcharge) AS subtotal,
                   sh.currency, sh.starts_at, {H.format(x="s.screening_id * 131 + s.grp")} AS h
            FROM bench_sale s JOIN bench_show sh ON sh.id = s.screening_id
            GROUP BY s.screening_id, s.grp, sh.currency, sh.starts_at
        ) o
        """,
        "CREATE UNIQUE INDEX ON bench_order (screening_id, grp)",
        "ANALYZE bench_order",
        """
        INSERT INTO orders_order
            (id, code, screening_id, hold_id, partner_id, user_id, customer_email, customer_name,
             language, status, currency, subtotal, booking_fee, discount, total, promo_code,
             partner_reference, commission, expires_at, created_at, paid_at, paid_via)
        SELECT o.id, 'Y' || lpad(to_hex(row_number() OVER ()), 10, '0'), o.screening_id,
               NULL, NULL, NULL, 'buyer' || (o.h % 50000) || '@example.org', 'Bench buyer',
               'en',
               CASE o.fate WHEN 'partly' THEN 'paid' WHEN 'expired' THEN 'expired'
                           ELSE o.fate END,
               o.currency, o.subtotal, o.fee, 0, o.subtotal + o.fee, '', '', 0,
               o.paid_at + interval '15 minutes', o.paid_at - interval '3 minutes',
               CASE WHEN o.fate = 'expired' THEN NULL ELSE o.paid_at END,
               CASE WHEN o.fate = 'expired' THEN ''
                    WHEN o.fate = 'cancelled' THEN 'other' ELSE 'provider' END
        FROM bench_order o
        """,
        """
        INSERT INTO orders_ticket
            (order_id, seat_id, ticket_type_id, ticket_type_name, seat_label, seat_type, price,
             surcharge, discount, discount_funder, code, checked_in_at, refunded_at)
        SELECT o.id, s.seat_id, s.ticket_type_id, s.type_name, s.label, s.seat_type, s.price,
               s.surcharge, 0, '', md5(s.screening_id || ':' || s.seat_id), NULL,
               CASE WHEN o.fate = 'refunded' OR (o.fate = 'partly' AND s.first_in_order)
                    THEN least(o.paid_at + interval '1 day', now()) END
        FROM bench_sale s JOIN bench_order o ON o.screening_id = s.screening_id AND o.grp = s.grp
        """,
        # Sold seats: a claim with no expiry per standing ticket of a paid order.
        """
        INSERT INTO inventory_seatclaim (screening_id, seat_id, order_id, expires_at, created_at)
        SELECT s.screening_id, s.seat_id, o.id, NULL, o.paid_at
        FROM bench_sale s JOIN bench_order o ON o.screening_id = s.screening_id AND o.grp = s.grp
        WHERE o.fate = 'paid' OR (o.fate = 'partly' AND NOT s.first_in_order)
        """,
        """
        INSERT INTO payments_payment
            (id, order_id, provider, provider_ref, amount, currency, status, redirect_url,
             failure_reason, captured_amount, captured_currency, created_at, updated_at)
        SELECT gen_random_uuid(), o.id, 'sandbox', 'bench_pay_' || replace(o.id::text, '-', ''),
               o.subtotal + o.fee, o.currency,
               CASE o.fate WHEN 'refunded' THEN 'refunded'
                           WHEN 'partly' THEN 'partially_refunded' ELSE 'succeeded' END,
               '', '', o.subtotal + o.fee, o.currency, o.paid_at - interval '1 minute', o.paid_at
        FROM bench_order o WHERE o.fate IN ('paid', 'refunded', 'partly')
        """,
        # Refunds: most went through; one in twenty-five failed, the last days' ones pending.
        """
        INSERT INTO payments_refund
            (id, payment_id, amount, currency, reason, actor, status, provider_ref,
             failure_reason, retry_of_id, created_at)
        SELECT gen_random_uuid(), p.id, r.amount, o.currency, 'buyer asked', 'bench',
               CASE WHEN o.h % 25 = 0 THEN 'failed'
                    WHEN least(o.paid_at + interval '1 day', now()) > now() - interval '2 days'
                         AND o.h % 3 = 0 THEN 'pending'
                    ELSE 'succeeded' END,
               'bench_re_' || replace(o.id::text, '-', ''),
               CASE WHEN o.h % 25 = 0 THEN 'card closed' ELSE '' END,
               NULL, least(o.paid_at + interval '1 day', now())
        FROM bench_order o
        JOIN payments_payment p ON p.order_id = o.id
        JOIN (SELECT screening_id, grp,
                     sum(price + surcharge) FILTER (WHERE first_in_order) AS first_amount,
                     sum(price + surcharge) AS all_amount
              FROM bench_sale GROUP BY screening_id, grp) t
          ON t.screening_id = o.screening_id AND t.grp = o.grp
        CROSS JOIN LATERAL (SELECT CASE o.fate WHEN 'refunded' THEN t.all_amount + o.fee
                                               ELSE t.first_amount END AS amount) r
        WHERE o.fate IN ('refunded', 'partly')
        """,
        # Staff asked again for the failures older than a week, and the second try went through;
        # the newer ones still wait for someone (their payment says so).
        """
        INSERT INTO payments_refund
            (id, payment_id, amount, currency, reason, actor, status, provider_ref,
             failure_reason, retry_of_id, created_at)
        SELECT gen_random_uuid(), r.payment_id, r.amount, r.currency, r.reason, 'user:1',
               'succeeded', r.provider_ref || '_2', '', r.id, r.created_at + interval '1 day'
        FROM payments_refund r
        WHERE r.status = 'failed' AND r.actor = 'bench' AND r.created_at < now() - interval '7 days'
        """,
        """
        UPDATE payments_payment p SET status = 'refund_failed'
        FROM payments_refund r
        WHERE r.payment_id = p.id AND r.status = 'failed'
          AND NOT EXISTS (SELECT 1 FROM payments_refund again WHERE again.retry_of_id = r.id)
        """,
    ]
    for statement in steps:
        cursor.execute(statement)


def _live_waiting(cinema_ids: list[int]) -> None:
    """A few buyers holding seats and a few orders awaiting payment right now, through the
    services: tomorrow's screenings, seats nobody has."""
    from django.db.models import Q
    from django.utils import timezone

    from ticketing.inventory.holds import hold_create
    from ticketing.inventory.models import SeatClaim
    from ticketing.orders.services import order_create
    from ticketing.screenings.models import Screening

    now = timezone.now()
    shows = list(
        Screening.objects.filter(
            auditorium__cinema_id__in=cinema_ids,
            starts_at__gt=now + timedelta(hours=6),
            starts_at__lt=now + timedelta(days=2),
        ).order_by("starts_at")[:30]
    )
    for i, show in enumerate(shows):
        taken = SeatClaim.objects.filter(screening=show).filter(
            Q(expires_at__isnull=True) | Q(expires_at__gt=now)
        )
        free = list(
            show.auditorium.seats.filter(is_sellable=True, pair__isnull=True)
            .exclude(pk__in=taken.values("seat_id"))
            .order_by("-y", "x")
            .values_list("pk", flat=True)[:2]
        )
        if len(free) < 2:
            continue
        key = f"bench-dashboard-{i}"
        hold = hold_create(screening_id=show.pk, seat_ids=free, buyer_key=key)
        if i % 3 == 0:
            order_create(
                hold_id=hold.pk,
                customer_email="waiting@example.org",
                customer_name="Waiting buyer",
                tickets=[(s, "adult") for s in free],
                buyer_key=key,
                actor="bench",
            )
