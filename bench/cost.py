"""What one request costs the server, in CPU milliseconds: `python -m bench.cost`.

The rush measures throughput, which on a shared 2-core machine moves with whatever else runs.
This measures the other side of the same coin: the Django process's CPU time per request of
each kind, in one thread, calling the WSGI application directly (no HTTP, no gunicorn), against
its own PostgreSQL database and Redis db. CPU time per request barely moves with the machine's
load, so it is what to compare when judging a change to the request path.

Kinds: seat map (cached), seat map (rebuilt: the cache dropped before each read, as during a rush),
seat map (304: If-None-Match with the map's ETag),
hold of named seats, hold by quantity (best available), order from a hold, order from a hold with
a promo code (the bench campaign's unlimited percent code), /healthz.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import os
import statistics
import sys
import time
from pathlib import Path

from . import fixtures
from .cpu import process_cpu
from .onsale import DEFAULT_REDIS_URL

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/marquee_bench_cost"


def _environ(method: str, path: str, key: str, body: bytes = b"", extra=None) -> dict:
    return {
        **(extra or {}),
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1",
        "HTTP_AUTHORIZATION": f"Bearer {key}",
        "HTTP_ACCEPT": "application/json",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.url_scheme": "http",
        "wsgi.version": (1, 0),
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }


class App:
    def __init__(self, key: str) -> None:
        from ticketing.wsgi import application

        self.app = application
        self.key = key

    def __call__(
        self, method: str, path: str, payload: dict | None = None, extra: dict | None = None
    ) -> tuple[int, bytes]:
        body = json.dumps(payload).encode() if payload is not None else b""
        status: list[str] = []

        def start_response(s, headers, exc_info=None):
            status.append(s)

        chunks = self.app(_environ(method, path, self.key, body, extra), start_response)
        try:
            data = b"".join(chunks)
        finally:
            if hasattr(chunks, "close"):
                chunks.close()
        return int(status[0].split()[0]), data


def _backend_cpu() -> tuple[int, float] | None:
    """(pid, CPU seconds) of the PostgreSQL backend serving this thread's connection."""
    from django.db import connection

    connection.ensure_connection()
    pid = connection.connection.info.backend_pid
    used = process_cpu(pid)
    return (pid, used) if used is not None else None


def measure(name: str, fn, n: int, expect: int, profile_dir: Path | None = None) -> dict:
    from django.db import connection

    cpu, wall = [], []
    statements: list[str] = []

    def count(execute, sql, params, many, context):
        statements.append(sql)
        return execute(sql, params, many, context)

    profiler = None
    if profile_dir is not None:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    pg_start = None
    for i in range(n):
        if i == n // 10:
            pg_start = _backend_cpu()
        c0, w0 = time.process_time(), time.perf_counter()
        if i == n - 1:
            with connection.execute_wrapper(count):
                status = fn(i)
        else:
            status = fn(i)
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - w0)
        if status != expect:
            raise RuntimeError(f"{name}: HTTP {status}, expected {expect}")
    if profiler is not None:
        profiler.disable()
        profile_dir.mkdir(parents=True, exist_ok=True)
        slug = "".join(c if c.isalnum() else "-" for c in name).strip("-")
        profiler.dump_stats(profile_dir / f"{slug}.pstats")
    pg_end = _backend_cpu()
    # The first few warm caches and connections: leave them out.
    cpu, wall = cpu[n // 10 :], wall[n // 10 :]
    pg_ms = math.nan
    if pg_start and pg_end and pg_start[0] == pg_end[0]:
        pg_ms = (pg_end[1] - pg_start[1]) / len(cpu) * 1000
    return {
        "kind": name,
        "n": len(cpu),
        "cpu_ms_mean": round(statistics.fmean(cpu) * 1000, 3),
        "cpu_ms_median": round(statistics.median(cpu) * 1000, 3),
        "wall_ms_median": round(statistics.median(wall) * 1000, 3),
        "postgres_cpu_ms_mean": round(pg_ms, 3),
        "sql_statements": len(statements),
        "sql": statements,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m bench.cost",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("-n", type=int, default=300, help="requests of each kind (default 300)")
    p.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    p.add_argument(
        "--redis-url", default=f"{DEFAULT_REDIS_URL}/8", help="Redis db to FLUSH and use"
    )
    p.add_argument("--json", type=Path, default=None)
    p.add_argument(
        "--sql", action="store_true", help="list the SQL statements of one request of each kind"
    )
    p.add_argument(
        "--profile",
        type=Path,
        default=None,
        metavar="DIR",
        help="cProfile each kind into DIR/<kind>.pstats (slows every request down)",
    )
    args = p.parse_args(argv)
    n = args.n
    os.environ.update(
        {
            **fixtures.PRODUCTION_SHAPE_ENV,
            "DJANGO_SETTINGS_MODULE": "ticketing.settings",
            "DATABASE_URL": args.database_url,
            "REDIS_URL": args.redis_url,
            "CACHE_KEY_PREFIX": "marquee-cost",
            "DJANGO_DEBUG": "0",
            "MARQUEE_THROTTLE_PARTNER": "1000000/min",
            "MARQUEE_THROTTLE_ANON": "1000000/min",
            "MARQUEE_MANIFEST_STATIC": "0",
            "LOG_LEVEL": os.environ.get("LOG_LEVEL", "WARNING"),
            # one connection for the whole run, so its backend's CPU can be read
            "DATABASE_CONN_MAX_AGE": os.environ.get("DATABASE_CONN_MAX_AGE", "3600"),
        }
    )
    fixtures.reset_database(args.database_url)
    fixtures.flush_redis(args.redis_url)
    import django

    django.setup()
    fixtures.migrate()
    # Enough seats for every hold: 2n holds of 2 named seats (n for orders without a code, n
    # with), n holds of 2 by quantity.
    per_show = 300
    shows = (6 * n) // per_show + 6
    scenario = fixtures.seed(screenings=shows, layout=fixtures.Layout(), rooms=6)
    from ticketing import cache
    from ticketing.inventory import seatmap
    from ticketing.screenings.models import Screening, Seat

    app = App(scenario.api_key)
    ids = scenario.screening_ids
    last = ids[-1]
    room_of = dict(Screening.objects.filter(pk__in=ids).values_list("pk", "auditorium_id"))
    seats_of = {
        room: list(
            Seat.objects.filter(auditorium_id=room, seat_type="standard")
            .order_by("y", "x")
            .values_list("pk", flat=True)
        )
        for room in set(room_of.values())
    }
    pairs = []  # (screening, [seat, seat]) never used twice
    for sid in ids[: len(ids) // 2]:
        standard = seats_of[room_of[sid]]
        pairs += [(sid, standard[i : i + 2]) for i in range(0, len(standard) - 1, 2)]
    quantity_shows = ids[len(ids) // 2 : -1]
    held: list[str] = []
    holds_for_orders: list[dict] = []

    def seatmap_cached(_i):
        return app("GET", f"/api/v1/screenings/{last}/seats/")[0]

    held_etag = {"HTTP_IF_NONE_MATCH": seatmap.render_tagged(last)[0]}  # same across rebuilds

    def seatmap_not_modified(_i):
        return app("GET", f"/api/v1/screenings/{last}/seats/", extra=held_etag)[0]

    def seatmap_rebuilt(_i):
        cache.delete(seatmap.cache_key(last))
        return app("GET", f"/api/v1/screenings/{last}/seats/")[0]

    def hold_named(i):
        sid, seats = pairs[i]
        status, body = app("POST", "/api/v1/holds/", {"screening": sid, "seats": seats})
        if status == 201:
            holds_for_orders.append(json.loads(body))
        return status

    def hold_quantity(i):
        sid = quantity_shows[(i * len(quantity_shows)) // n]
        status, body = app("POST", "/api/v1/holds/", {"screening": sid, "quantity": 2})
        if status == 201:
            held.append(json.loads(body)["id"])
        return status

    def order(i, promo_code=""):
        hold = holds_for_orders[i]
        payload = {
            "hold": hold["id"],
            "customer": {"email": f"c{i}@bench.example", "name": "Cost"},
            "tickets": [{"seat": s["id"], "ticket_type": "adult"} for s in hold["seats"]],
        }
        if promo_code:
            payload["promo_code"] = promo_code
        return app("POST", "/api/v1/orders/", payload)[0]

    def order_with_code(i):
        return order(n + i, scenario.promo_code)

    def health(_i):
        return app("GET", "/healthz")[0]

    prof = args.profile
    results = [
        measure("healthz", health, n, 200, prof),
        measure("seat map (cached)", seatmap_cached, n, 200, prof),
        measure("seat map (rebuilt)", seatmap_rebuilt, n, 200, prof),
        measure("seat map (304)", seatmap_not_modified, n, 304, prof),
        measure("hold, named seats", hold_named, n, 201, prof),
        measure("hold, quantity", hold_quantity, n, 201, prof),
        measure("order from hold", order, n, 201, prof),
    ]
    for i in range(n):  # holds for the orders with a code, not measured
        hold_named(n + i)
    results.append(measure("order, promo code", order_with_code, n, 201, prof))
    from django.db import connection

    connection.close()
    print(
        f"{'request':<22} {'app CPU ms':>10} {'median':>7} {'PG CPU ms':>10} {'wall ms':>8} {'SQL':>4}"
    )
    for r in results:
        print(
            f"{r['kind']:<22} {r['cpu_ms_mean']:>10.2f} {r['cpu_ms_median']:>7.2f} "
            f"{r['postgres_cpu_ms_mean']:>10.2f} {r['wall_ms_median']:>8.2f} {r['sql_statements']:>4}"
        )
    if args.sql:
        for r in results:
            print(f"-- {r['kind']}")
            for statement in r["sql"]:
                print(f"   {statement[:160]}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
