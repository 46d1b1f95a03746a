"""Storefront page timings: `make bench-pages` (`python -m bench.pages --help`).

In one process, through Django's test client (no HTTP server in the way: this is the server's own
time per page, templates included), on PostgreSQL and Redis:
1. Its own database (dropped, created, migrated) and Redis db (flushed); the demo data, whose
   large auditorium has 310 seats; a third of the premiere's seats sold or held.
2. Each page requested `--requests` times after a warm-up: the seat map page with the seat-map
   cache warm (the usual case: many buyers on one screening) and cold (cache dropped before each
   request), the home page, a film page, the checkout page.
3. Queries per page, counted; p50/p95/max server time. Integrity: the seat map page shows exactly
   the seats the database says are taken. Exit 1 if it does not.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/marquee_bench_pages"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/12"


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="python -m bench.pages",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--requests", type=int, default=200, help="timed requests per page")
    p.add_argument(
        "--database-url", default=os.environ.get("BENCH_PAGES_DATABASE_URL", DEFAULT_DATABASE_URL)
    )
    p.add_argument(
        "--redis-url", default=os.environ.get("BENCH_PAGES_REDIS_URL", DEFAULT_REDIS_URL)
    )
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    from . import fixtures

    fixtures.reset_database(args.database_url)
    fixtures.flush_redis(args.redis_url)
    os.environ.update(
        **fixtures.PRODUCTION_SHAPE_ENV,
        DATABASE_URL=args.database_url,
        REDIS_URL=args.redis_url,
        CELERY_BROKER_URL="memory://",
        CELERY_TASK_ALWAYS_EAGER="1",
        DJANGO_SETTINGS_MODULE="ticketing.settings",
        DJANGO_ALLOWED_HOSTS="testserver",
        LOG_LEVEL="WARNING",
    )
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, setup_test_environment

    setup_test_environment()
    fixtures.migrate()
    import contextlib
    import io

    with contextlib.redirect_stdout(io.StringIO()):
        call_command("load_demo", verbosity=0)
    screening, checkout_url, buyer = _busy_premiere()
    client = Client()
    film_url = f"/films/{screening.film.slug}/"
    day = screening.starts_at.astimezone(screening.auditorium.cinema.tz).date().isoformat()
    pages = [
        ("seat map page, cache warm", f"/screenings/{screening.pk}/", False),
        ("seat map page, cache cold", f"/screenings/{screening.pk}/", True),
        ("home page (one day, all cinemas)", f"/?date={day}", False),
        ("film page (two weeks of showtimes)", film_url, False),
        ("checkout page (2 seats held)", checkout_url, False),
    ]
    from ticketing import cache
    from ticketing.inventory import seatmap

    print(
        f"storefront pages, {args.requests} requests each, "
        f"{screening.auditorium.seats.count()}-seat auditorium, Django test client, PostgreSQL"
    )
    print(f"{'page':40} {'queries':>7} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    for name, url, cold in pages:
        owner = buyer if url == checkout_url else client
        for _ in range(10):
            owner.get(url)
        with CaptureQueriesContext(connection) as counted:
            if cold:
                cache.delete(seatmap.cache_key(screening.pk))
            response = owner.get(url)
        assert response.status_code == 200, (url, response.status_code)
        queries = len(counted)  # now: the next request starts by emptying the log
        times = []
        for _ in range(args.requests):
            if cold:
                cache.delete(seatmap.cache_key(screening.pk))
            start = time.perf_counter()
            owner.get(url)
            times.append(time.perf_counter() - start)
        times.sort()
        p95 = times[int(0.95 * (len(times) - 1))]
        print(
            f"{name:40} {queries:7d} {statistics.median(times) * 1000:8.1f} "
            f"{p95 * 1000:8.1f} {times[-1] * 1000:8.1f}"
        )

    ok = _integrity(client, screening)
    print(f"integrity: {'PASS' if ok else 'FAIL'} (taken seats on the page match the database)")
    return 0 if ok else 1


def _busy_premiere():
    """The demo's first screening in a large auditorium, a third of it taken; a buyer holding
    two seats (their checkout page is timed)."""
    from django.db.models import Count
    from django.test import Client
    from django.utils import timezone

    from ticketing.inventory.holds import hold_create
    from ticketing.orders.services import order_create, order_mark_paid
    from ticketing.screenings.models import Screening

    screening = (
        Screening.objects.filter(starts_at__gt=timezone.now() + timezone.timedelta(hours=3))
        .select_related("film", "auditorium__cinema")
        .annotate(seat_count=Count("auditorium__seats"))
        .order_by("-seat_count", "starts_at")
        .first()
    )
    seat_ids = list(
        screening.auditorium.seats.filter(is_sellable=True, pair__isnull=True)
        .order_by("y", "x")
        .values_list("id", flat=True)
    )
    third = seat_ids[: len(seat_ids) // 3]
    for i in range(0, len(third), 4):
        chunk = third[i : i + 4]
        hold = hold_create(screening_id=screening.pk, seat_ids=chunk, buyer_key=f"bench-{i}")
        if i % 8 == 0:
            order = order_create(
                hold_id=hold.pk,
                customer_email="b@example.com",
                customer_name="B",
                tickets=[(s, "adult") for s in chunk],
                buyer_key=f"bench-{i}",
                actor="bench",
            )
            order_mark_paid(order_id=order.pk, actor="bench")
    buyer = Client()
    page = buyer.post(f"/screenings/{screening.pk}/hold/", {"mode": "best", "quantity": 2})
    assert page.status_code == 302, page.status_code
    return screening, page["Location"], buyer


def _integrity(client, screening) -> bool:
    import re

    from django.db.models import Q
    from django.utils import timezone

    from ticketing import cache
    from ticketing.inventory import seatmap
    from ticketing.inventory.models import SeatClaim

    cache.delete(seatmap.cache_key(screening.pk))
    html = client.get(f"/screenings/{screening.pk}/").content.decode()
    shown = {int(m) for m in re.findall(r'id="seat-(\d+)"[^>]*?\sdisabled', html, flags=re.S)}
    now = timezone.now()
    taken = set(
        SeatClaim.objects.filter(screening=screening)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .values_list("seat_id", flat=True)
    )
    blocked = set(screening.auditorium.seats.filter(is_sellable=False).values_list("id", flat=True))
    return shown == taken | blocked


if __name__ == "__main__":
    sys.exit(main())
