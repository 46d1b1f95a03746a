"""The waiting room under load: `make bench-waiting` (`python -m bench.waiting --help`).

1. Its own database (dropped, created, migrated) and Redis db (flushed); one screening in an
   onsale that opened a moment ago, admitting 100 buyers at a time, with `--waiters` buyers in
   the queue (their signed waiter cookies made here, as the site makes them, and the CSRF
   cookie their first waiting page set).
2. Granian as compose's `waiting` service runs it (or `--server gunicorn`, as `make bench` runs
   web with gunicorn.conf.py), then, for `--seconds` each, keep-alive
   GETs from `--connections` concurrent clients on loopback: the waiting page (`/wait/<id>/`,
   the HTML a browser without JavaScript reloads) and its JSON status (`status.json`, what the
   page polls every 5 s), each request as one of the waiters.
3. Prints requests per second, latency, the server workers' CPU per request and the machine's
   busy share, and the database's transactions during each phase (the waiting room must cost
   it nothing: 0 expected). Exit 1 on errors or database work.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from . import cpu, fixtures, server
from .transport import LeanTransport

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/marquee_bench_waiting"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/11"


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="python -m bench.waiting",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--seconds", type=float, default=10.0, help="load per phase")
    p.add_argument("--waiters", type=int, default=5000, help="buyers in the queue")
    p.add_argument("--connections", type=int, default=48, help="concurrent clients")
    p.add_argument(
        "--server",
        choices=["gunicorn", "granian"],
        default="granian",
        help="the WSGI server (bench/server.py): granian (default), as compose's waiting "
        "service serves /wait/ in production, or gunicorn, as web would without that route",
    )
    p.add_argument("--workers", type=int, default=None, help="server workers (default: conf)")
    p.add_argument("--threads", type=int, default=None)
    p.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_WAITING_DATABASE_URL", DEFAULT_DATABASE_URL),
    )
    p.add_argument(
        "--redis-url", default=os.environ.get("BENCH_WAITING_REDIS_URL", DEFAULT_REDIS_URL)
    )
    p.add_argument("--server-log", type=Path, default=Path("var/bench-waiting-server.log"))
    return p.parse_args(argv)


def _transactions(database_url: str, dbname: str) -> int:
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = %s",
            (dbname,),
        ).fetchone()
        conn.execute("SELECT pg_stat_clear_snapshot()")
    return int(row[0])


async def _load(base_url, path_for, cookies, *, seconds, connections):
    """GETs for `seconds` from `connections` keep-alive clients: (latencies, errors)."""
    latencies: list[float] = []
    errors: dict[str, int] = {}
    admitted = [0]
    deadline = time.monotonic() + seconds
    rng = random.Random(13)

    async def client():
        conn = LeanTransport(base_url, {"Accept-Language": "en"}, timeout=10)
        try:
            while time.monotonic() < deadline:
                cookie = cookies[rng.randrange(len(cookies))]
                started = time.perf_counter()
                try:
                    status, _body, _ = await conn.request(
                        "GET", path_for(), headers={"Cookie": cookie}
                    )
                except (OSError, TimeoutError) as exc:
                    errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
                    continue
                latencies.append(time.perf_counter() - started)
                if status == 302:  # a waiter whose turn it is, sent to the seats
                    admitted[0] += 1
                elif status != 200:
                    errors[str(status)] = errors.get(str(status), 0) + 1
        finally:
            await conn.close()

    await asyncio.gather(*(client() for _ in range(connections)))
    return latencies, errors, admitted[0]


def main(argv=None) -> int:
    args = parse_args(argv)
    dbname = fixtures.check_local_database(args.database_url)
    t0 = time.monotonic()
    fixtures.reset_database(args.database_url)
    fixtures.flush_redis(args.redis_url)
    env = {
        **fixtures.PRODUCTION_SHAPE_ENV,
        "DJANGO_SETTINGS_MODULE": "ticketing.settings",
        "DATABASE_URL": args.database_url,
        "REDIS_URL": args.redis_url,
        "CELERY_BROKER_URL": "memory://",
        "CACHE_KEY_PREFIX": "marquee-bench-waiting",
        "DJANGO_DEBUG": "0",
        "MARQUEE_MANIFEST_STATIC": "0",
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    }
    os.environ.update(env)
    import django

    django.setup()
    fixtures.migrate()
    from datetime import timedelta

    from django.conf import settings
    from django.core import signing
    from django.utils import timezone
    from django.utils.crypto import get_random_string

    from ticketing.onsale import services, tokens, waiting
    from ticketing.onsale.models import Onsale

    scenario = fixtures.seed(screenings=1, layout=fixtures.Layout(rows=5, per_row=10), rooms=1)
    sale = Onsale.objects.create(
        name="Bench opening", opens_at=timezone.now() - timedelta(seconds=1), admit_per_minute=0
    )
    sale.screenings.set(scenario.screening_ids)
    services._sync(sale.pk)
    signer = signing.get_cookie_signer(salt=tokens.WAITER_COOKIE + tokens.WAITER_SALT)
    ids = [waiting.new_waiter_id() for _ in range(args.waiters)]
    for waiter in ids:
        waiting.visit(sale.pk, waiter, load=lambda: sale)
    # each waiter's browser also has the CSRF cookie its first page set (the language form)
    cookies = [
        f"{tokens.WAITER_COOKIE}={signer.sign(w)}; "
        f"{settings.CSRF_COOKIE_NAME}={get_random_string(32)}"
        for w in ids
    ]
    figures = waiting.stats(sale)
    print(
        f"bench: onsale {sale.pk}: {figures.queued} in the queue, {figures.live} admitted live; "
        f"set up in {time.monotonic() - t0:.1f} s",
        flush=True,
    )

    phases = {
        "waiting page": lambda: f"/wait/{sale.pk}/?s={scenario.screening_ids[0]}",
        "status poll": lambda: f"/wait/{sale.pk}/status.json",
    }
    failed = False
    cpu_dir = Path(tempfile.mkdtemp(prefix="marquee-bench-waiting-"))
    with server.running(
        env=env,
        log_path=args.server_log,
        workers=args.workers,
        threads=args.threads,
        worker_class=None,
        cpu_dir=cpu_dir,
        kind=args.server,
    ) as (base_url, proc):
        print(f"bench: {args.server} on {base_url}", flush=True)
        # warm-up: every worker imports, connects, loads templates and scripts
        asyncio.run(_load(base_url, phases["waiting page"], cookies, seconds=3, connections=16))
        for name, path_for in phases.items():
            xacts = _transactions(args.database_url, dbname)
            sums_before = cpu.settled_request_sums(cpu_dir)
            meter = cpu.CpuMeter(proc.pid, dbname, args.redis_url)
            meter.start()
            latencies, errors, sent_in = asyncio.run(
                _load(
                    base_url,
                    path_for,
                    cookies,
                    seconds=args.seconds,
                    connections=args.connections,
                )
            )
            used = meter.stop()
            xacts = _transactions(args.database_url, dbname) - xacts
            statements = _statements(cpu.settled_request_sums(cpu_dir)) - _statements(sums_before)
            n = len(latencies)
            rate = n / used["seconds"]
            per_request_ms = 1000 * used["gunicorn_workers_cpu_s"] / max(1, n)
            redis_ms = 1000 * used["redis_cpu_s"] / max(1, n)
            q = statistics.quantiles(latencies, n=100) if n > 100 else [math_nan()] * 99
            print(
                f"{name:<13} {rate:8,.0f} req/s  p50 {q[49] * 1000:5.1f} ms  p99 "
                f"{q[98] * 1000:6.1f} ms  server CPU {per_request_ms:.2f} ms/req "
                f"(Redis {redis_ms:.3f} ms/req, load generator {used['loadgen_cpu_s']:.1f} s)  "
                f"machine busy {used['machine_busy_pct']}% of {used['machine_cores']} cores  "
                f"SQL statements by the server {statements} (database transactions {xacts})  admitted (302) {sent_in}  errors {errors or 0}",
                flush=True,
            )
            # the server's own statements, counted in its workers: none once they are warm
            # (pg_stat_database's count also has this bench's own reads of it)
            if errors or statements:
                failed = True
    figures = waiting.stats(sale)
    print(
        f"bench: after: {figures.queued} in the queue, front {figures.front}, "
        f"{figures.live} admitted live; {time.monotonic() - t0:.0f} s in all",
        flush=True,
    )
    return 1 if failed else 0


def _statements(sums: dict) -> int:
    return sum(statements for _n, _cpu, statements in sums.values())


def math_nan() -> float:
    return float("nan")


if __name__ == "__main__":
    sys.exit(main())
