"""Live seat maps pushed: `make bench-push` (`python -m bench.push --help` for the knobs).

1. Its own PostgreSQL database (dropped, created, migrated) and Redis db (flushed); one cinema,
   one screening of 15x20 seats, a partner key (bench/fixtures.py).
2. gunicorn (the site, for the holds through the real API) and ONE push process (uvicorn serving
   ticketing.asgi), each on a free port of 127.0.0.1; the open-files limit raised to its hard
   limit first (the push process and this one each hold a socket per viewer).
3. Viewers: `--viewers` aiohttp streams on the screening's /live/ endpoint, opened
   `--open-concurrency` at a time; a viewer counts as open when its first event arrived.
4. Holds: `--holds` single-seat holds through POST /api/v1/holds/, one every `--interval`
   seconds; every viewer notes when each seat's "held" arrives. The latency of a hold on a
   viewer is from just before the POST to the event's arrival: p50/p99/max over every
   (hold, viewer), and per hold the time until the LAST viewer had it.
5. The push process's CPU (and RSS) while the viewers sit idle and while the holds fan out.
Everything runs on this machine: the viewers share the two cores with the servers.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

from . import fixtures, server
from .cpu import own_cpu, process_cpu
from .stats import summarise

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/marquee_bench_push"


def parse_args(argv):
    p = argparse.ArgumentParser(prog="python -m bench.push", description=__doc__.split("\n")[0])
    p.add_argument("--viewers", type=int, default=3000, help="open push connections (3000)")
    p.add_argument("--holds", type=int, default=30, help="holds fanned out to them (30)")
    p.add_argument("--interval", type=float, default=0.5, help="seconds between holds (0.5)")
    p.add_argument("--idle-seconds", type=float, default=5.0, help="idle CPU measured (5)")
    p.add_argument("--open-concurrency", type=int, default=200, help="streams opened at once")
    p.add_argument(
        "--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL)
    )
    p.add_argument(
        "--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/8")
    )
    p.add_argument("--log", type=Path, default=ROOT / "var" / "bench" / "push.log")
    return p.parse_args(argv)


def raise_open_files() -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def start_push(env: dict, log: Path) -> tuple[str, subprocess.Popen]:
    port = server.free_port()
    log.parent.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "ticketing.asgi:application",
            "--host",
            server.HOST,
            "--port",
            str(port),
            "--no-access-log",
            "--log-level",
            "warning",
            "--backlog",
            "4096",
        ],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    return f"http://{server.HOST}:{port}", proc


class Viewer:
    def __init__(self) -> None:
        self.opened = asyncio.Event()
        self.arrivals: dict[int, float] = {}  # seat id -> when its "held" arrived
        self.failed = ""

    async def run(self, session, url: str) -> None:
        try:
            async with session.get(url, headers={"Accept": "text/event-stream"}) as resp:
                if resp.status != 200:
                    self.failed = f"HTTP {resp.status}"
                    self.opened.set()
                    return
                buffer = b""
                while True:
                    chunk = await resp.content.readany()
                    if not chunk:
                        return
                    now = time.monotonic()
                    buffer += chunk
                    *events, buffer = buffer.split(b"\n\n")
                    for event in events:
                        start = event.find(b"data: ")
                        if start < 0:
                            continue
                        self.opened.set()
                        if b'"held"' not in event:
                            continue
                        message = json.loads(event[start + 6 :].split(b"\n", 1)[0])
                        for seat, status in message.get("seats", {}).items():
                            if status == "held":
                                self.arrivals.setdefault(int(seat), now)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self.failed = self.failed or type(exc).__name__
            self.opened.set()


async def measure(args, site: str, push_url: str, push_proc, scenario, seats) -> dict:
    import aiohttp

    sid = scenario.screening_ids[0]
    url = f"{push_url}/live/screenings/{sid}/seats/"
    connector = aiohttp.TCPConnector(limit=0, force_close=False)
    timeout = aiohttp.ClientTimeout(total=None, sock_read=None, sock_connect=30)
    viewers = [Viewer() for _ in range(args.viewers)]
    tasks = []
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        # Open the streams, a batch at a time.
        opened_at = time.monotonic()
        for start in range(0, len(viewers), args.open_concurrency):
            batch = viewers[start : start + args.open_concurrency]
            tasks += [asyncio.create_task(v.run(session, url)) for v in batch]
            await asyncio.wait([asyncio.create_task(v.opened.wait()) for v in batch], timeout=60)
        open_seconds = time.monotonic() - opened_at
        open_ok = [v for v in viewers if v.opened.is_set() and not v.failed]
        failures: dict[str, int] = {}
        for v in viewers:
            if v.failed:
                failures[v.failed] = failures.get(v.failed, 0) + 1
        print(
            f"bench: {len(open_ok)} of {len(viewers)} streams open in {open_seconds:.1f} s",
            flush=True,
        )

        # Idle: heartbeats only.
        cpu0 = process_cpu(push_proc.pid)
        await asyncio.sleep(args.idle_seconds)
        idle_cpu = (process_cpu(push_proc.pid) - cpu0) / args.idle_seconds

        # The holds, through the real API (a partner's key), one seat each.
        sent: dict[int, float] = {}
        api = aiohttp.ClientSession(
            headers={"Authorization": f"Bearer {scenario.api_key}", "Accept": "application/json"}
        )
        published: dict[int, float] = {}  # seat -> when Redis handed its message out
        answered: dict[int, float] = {}  # seat -> when the API answered the hold
        watcher = asyncio.create_task(_watch_channel(args.redis_url, sid, published))
        await asyncio.sleep(0.3)
        cpu1, own1 = process_cpu(push_proc.pid), own_cpu()
        t_holds = time.monotonic()
        statuses: dict[int, int] = {}
        async with api:
            for seat in seats:
                sent[seat] = time.monotonic()
                async with api.post(
                    f"{site}/api/v1/holds/", json={"screening": sid, "seats": [seat]}
                ) as resp:
                    statuses[resp.status] = statuses.get(resp.status, 0) + 1
                    await resp.read()
                answered[seat] = time.monotonic()
                await asyncio.sleep(args.interval)
        await asyncio.sleep(2.0)  # the last one's stragglers
        hold_seconds = time.monotonic() - t_holds
        fan_cpu = process_cpu(push_proc.pid) - cpu1
        own = own_cpu() - own1
        watcher.cancel()
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    latencies, last_viewer, missing, fan_out = [], [], 0, []
    for seat, t0 in sent.items():
        per = [v.arrivals[seat] - t0 for v in open_ok if seat in v.arrivals]
        missing += len(open_ok) - len(per)
        latencies += per
        if per:
            last_viewer.append(max(per))
        if seat in published:
            fan_out += [v.arrivals[seat] - published[seat] for v in open_ok if seat in v.arrivals]
    api_times = [answered[s] - sent[s] for s in answered]
    to_publish = [published[s] - sent[s] for s in published if s in sent]
    return {
        "viewers_asked": len(viewers),
        "viewers_open": len(open_ok),
        "open_failures": failures,
        "open_seconds": round(open_seconds, 2),
        "push_rss_mb": round(rss_mb(push_proc.pid), 1),
        "idle_cpu_share": round(idle_cpu, 4),
        "holds": len(sent),
        "hold_statuses": statuses,
        "deliveries": len(latencies),
        "missing": missing,
        "latency": summarise(latencies).as_ms() if latencies else {},
        "last_viewer": summarise(last_viewer).as_ms() if last_viewer else {},
        "hold_api": summarise(api_times).as_ms() if api_times else {},
        "hold_to_publish": summarise(to_publish).as_ms() if to_publish else {},
        "publish_to_viewer": summarise(fan_out).as_ms() if fan_out else {},
        "fan_cpu_s": round(fan_cpu, 3),
        "fan_cpu_share": round(fan_cpu / hold_seconds, 3),
        "cpu_ms_per_delivery": round(1000 * fan_cpu / max(1, len(latencies)), 4),
        "viewers_cpu_share": round(own / hold_seconds, 3),
    }


async def _watch_channel(url: str, sid: int, published: dict[int, float]) -> None:
    """When Redis hands each message out: a subscriber of our own, beside the push process."""
    import redis.asyncio

    from ticketing.inventory import live

    client = redis.asyncio.Redis.from_url(url)
    pubsub = client.pubsub(ignore_subscribe_messages=True)
    await pubsub.subscribe(live.channel(sid))
    try:
        while True:
            message = await pubsub.get_message(timeout=None)
            if message and message["type"] == "message":
                now = time.monotonic()
                for seat in json.loads(message["data"]).get("seats", {}):
                    published.setdefault(int(seat), now)
    finally:
        await pubsub.aclose()
        await client.aclose()


def _sellable(sid: int):
    from ticketing.screenings.models import Screening, Seat

    room = Screening.objects.get(pk=sid).auditorium_id
    return Seat.objects.filter(auditorium_id=room, is_sellable=True).order_by("id").values("id")


def report(r: dict) -> None:
    out = print
    out("")
    out("Live seat maps: one push process (uvicorn, ticketing.asgi), one screening")
    out(
        f"  open streams     {r['viewers_open']} of {r['viewers_asked']} asked "
        f"(opened in {r['open_seconds']} s; failures {r['open_failures'] or 'none'})"
    )
    out(
        f"  push process     RSS {r['push_rss_mb']} MB; idle CPU {r['idle_cpu_share']:.1%} of a core"
    )
    out(f"  holds            {r['holds']} through POST /api/v1/holds/ ({r['hold_statuses']})")
    lat, last = r["latency"], r["last_viewer"]
    if lat:
        out(
            f"  hold -> every viewer  {r['deliveries']} deliveries, {r['missing']} missing: "
            f"p50 {lat['p50_ms']:.0f} ms, p99 {lat['p99_ms']:.0f} ms, max {lat['max_ms']:.0f} ms"
        )
        out(
            f"  hold -> LAST viewer   p50 {last['p50_ms']:.0f} ms, p99 {last['p99_ms']:.0f} ms, "
            f"max {last['max_ms']:.0f} ms"
        )
    for key, label in (
        ("hold_api", "the hold's API answer"),
        ("hold_to_publish", "hold sent -> published"),
        ("publish_to_viewer", "published -> a viewer"),
    ):
        if r[key]:
            out(
                f"  {label:<22} p50 {r[key]['p50_ms']:.0f} ms, p99 {r[key]['p99_ms']:.0f} ms, "
                f"max {r[key]['max_ms']:.0f} ms"
            )
    out(
        f"  fan-out CPU      {r['fan_cpu_s']} s ({r['fan_cpu_share']:.1%} of a core), "
        f"{r['cpu_ms_per_delivery']} ms per delivered event"
    )
    out(
        f"  the viewers      (this process, the load generator) {r['viewers_cpu_share']:.0%} of a core"
    )
    if r["cpu_ms_per_delivery"]:
        out(
            f"  capacity         ~{1000 / r['cpu_ms_per_delivery']:,.0f} events delivered per "
            "second per core"
        )
    out("JSON " + json.dumps(r))


def main(argv=None) -> int:
    args = parse_args(argv)
    limit = raise_open_files()
    if limit < args.viewers * 2 + 200:
        print(f"bench: open-files limit {limit} is low for {args.viewers} viewers", flush=True)
    env = {
        **fixtures.PRODUCTION_SHAPE_ENV,
        "DJANGO_SETTINGS_MODULE": "ticketing.settings",
        "DATABASE_URL": args.database_url,
        "REDIS_URL": args.redis_url,
        "CACHE_KEY_PREFIX": "marquee-bench-push",
        "DJANGO_DEBUG": "0",
        "MARQUEE_THROTTLE_PARTNER": "1000000/min",
        "MARQUEE_THROTTLE_ANON": "1000000/min",
        "MARQUEE_MANIFEST_STATIC": "0",
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    }
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    dbname = fixtures.check_local_database(args.database_url)
    import django

    django.setup()
    print(f"bench: resetting database {dbname} and Redis {args.redis_url}", flush=True)
    fixtures.reset_database(args.database_url)
    fixtures.flush_redis(args.redis_url)
    fixtures.migrate()
    scenario = fixtures.seed(screenings=1, layout=fixtures.Layout(rows=15, per_row=20), rooms=1)
    from django.db import connection

    connection.close()
    with server.running(
        env=env,
        log_path=ROOT / "var" / "bench" / "gunicorn-push.log",
        workers=None,
        threads=None,
        worker_class=None,
    ) as (site, _proc):
        push_url, push_proc = start_push(env, args.log)
        try:
            _wait_push(push_url, push_proc, scenario.screening_ids[0])
            print(f"bench: site {site}, push {push_url} (open files {limit})", flush=True)
            seats = [s["id"] for s in _sellable(scenario.screening_ids[0])][: args.holds]
            result = asyncio.run(measure(args, site, push_url, push_proc, scenario, seats))
        finally:
            server.stop(push_proc)
    report(result)
    return 0 if result["viewers_open"] and not result["missing"] else 1


def _wait_push(url: str, proc, sid: int, timeout: float = 60.0) -> None:
    import http.client

    host, port = url.removeprefix("http://").split(":")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("the push server exited before it answered")
        try:
            conn = http.client.HTTPConnection(host, int(port), timeout=3)
            conn.request("GET", f"/live/screenings/{sid}/seats/")
            status = conn.getresponse().status
            conn.close()
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise RuntimeError("the push server did not answer in time")


if __name__ == "__main__":
    raise SystemExit(main())
