"""A whole onsale through the waiting room: `make bench-onsale` (`python -m bench.onsale_room -h`).

1. Its own database (dropped, created, migrated) and Redis db (flushed); a few screenings of
   15x20 seats, and one more outside the onsale for the calibration.
2. gunicorn as `make bench` runs it (gunicorn.conf.py), the sandbox's events delivered at once.
3. Calibration: the hot path's throughput measured on the storefront itself, `--calibrate`
   seconds of buyers going through seat map, hold, checkout and the sandbox's card page as fast
   as they can, on the screening outside the onsale: purchases a second, and the database's
   transactions a second while doing it (its capacity at that pace). The onsale's admission
   rate is set to `--headroom` of that pace (or `--rate` a minute).
4. The onsale: `--buyers` waiters (3,000) arrive, a share before opening (over `--early-seconds`)
   and the rest after (over `--late-seconds`), each through the waiting page, then polling its
   JSON status every `--poll` seconds as the page does. An admitted buyer follows the page to
   the seat map with the admission cookie, holds 1-4 seats (best available), checks out and
   pays with the sandbox's test card (the provider's event waits for a worker, as it would in
   production: the orders stay awaiting payment, their seats claimed); a few greedy ones try
   to buy again past the limit. The
   run ends when every seat is sold and the waiting room has let everyone in (or at the cap).
5. The figures: status polls a second, admitted a minute against the rate, purchases a minute,
   seats sold of the capacity; fairness (after opening: the share of pairs of arrivals admitted
   in arrival order; before opening: Kendall's tau between arrival and admission order, near 0
   for one shuffle); integrity (no seat sold twice, no buyer past the ticket limit by email,
   browser or tally, the database's transactions a second never above the calibrated capacity).
   Exit 1 when an integrity check fails.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import random
import re
import statistics
import sys
import threading
import time
from http.cookies import SimpleCookie
from pathlib import Path

from . import fixtures, server
from .transport import LeanTransport

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/marquee_bench_onsale_room"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/12"
CARD = {"number": "4242424242424242", "expiry": "12/39", "cvc": "123", "name": "Bench Buyer"}

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
TYPE_FIELD = re.compile(r'<select[^>]*name="(type_\d+)"[^>]*>(.*?)</select>', re.S)
OPTION = re.compile(r'<option value="([^"]+)"')
TOKEN_FIELD = re.compile(r'name="t" value="([^"]+)"')


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="python -m bench.onsale_room",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--buyers", type=int, default=3000, help="waiting buyers (default 3000)")
    p.add_argument("--early-share", type=float, default=0.15, help="share arriving before opening")
    p.add_argument("--early-seconds", type=float, default=12.0, help="arrivals before opening")
    p.add_argument("--late-seconds", type=float, default=20.0, help="arrivals after opening")
    p.add_argument("--screenings", type=int, default=3, help="screenings in the onsale")
    p.add_argument("--rows", type=int, default=15)
    p.add_argument("--seats-per-row", type=int, default=20)
    p.add_argument("--ticket-limit", type=int, default=4, help="the onsale's per-buyer limit")
    p.add_argument("--poll", type=float, default=4.0, help="seconds between a waiter's polls")
    p.add_argument("--calibrate", type=float, default=6.0, help="calibration seconds")
    p.add_argument("--calibrate-buyers", type=int, default=12, help="calibration's buyers")
    p.add_argument("--headroom", type=float, default=0.8, help="rate = this x measured pace")
    p.add_argument("--rate", type=int, default=None, help="admissions a minute (skips the pace)")
    p.add_argument("--greedy-share", type=float, default=0.1, help="buyers who try again")
    p.add_argument("--cap", type=float, default=85.0, help="seconds after opening, at most")
    p.add_argument(
        "--after-sold-out", type=float, default=30.0, help="seconds the run goes on once sold out"
    )
    p.add_argument("--connections", type=int, default=48, help="keep-alive connections polling")
    p.add_argument("--workers", type=int, default=None)
    p.add_argument("--threads", type=int, default=None)
    p.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_ONSALE_DATABASE_URL", DEFAULT_DATABASE_URL),
    )
    p.add_argument(
        "--redis-url", default=os.environ.get("BENCH_ONSALE_REDIS_URL", DEFAULT_REDIS_URL)
    )
    p.add_argument("--server-log", type=Path, default=Path("var/bench-onsale-room-gunicorn.log"))
    p.add_argument("--seed", type=int, default=13)
    return p.parse_args(argv)


# ---- a browser: cookies kept by hand, redirects followed by hand ---------------------------------
class Browser:
    """One buyer's cookies over a shared aiohttp session (its own jar is a dummy)."""

    def __init__(self, http, base_url: str) -> None:
        self.http = http
        self.base = base_url
        self.cookies: dict[str, str] = {}

    def _header(self) -> dict:
        if not self.cookies:
            return {}
        return {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}

    def _keep(self, response) -> None:
        for raw in response.headers.getall("Set-Cookie", []):
            jar = SimpleCookie()
            jar.load(raw)
            for name, morsel in jar.items():
                if morsel["max-age"] == "0" or not morsel.value:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value

    async def go(self, method: str, path: str, data=None, follow: int = 5):
        """(status, text, final path) following redirects on this site."""
        url = path if path.startswith("http") else self.base + path
        for _ in range(follow + 1):
            async with self.http.request(
                method, url, data=data, headers=self._header(), allow_redirects=False
            ) as response:
                self._keep(response)
                text = await response.text()
                if response.status in (301, 302, 303) and "Location" in response.headers:
                    location = response.headers["Location"]
                    url = location if location.startswith("http") else self.base + location
                    method, data = "GET", None
                    continue
                return response.status, text, url
        return 599, "", url


def _checkout_form(text: str, email: str) -> dict:
    form = {"csrfmiddlewaretoken": CSRF.search(text).group(1), "name": "Bench Buyer"}
    form["email"] = email
    form["promo_code"] = ""
    for field, options in TYPE_FIELD.findall(text):
        form[field] = OPTION.search(options).group(1)
    return form


class Tally:
    def __init__(self) -> None:
        self.purchases: list[float] = []  # when each order was placed (monotonic)
        self.paid: list[float] = []
        self.tickets = 0
        self.limit_refusals = 0
        self.sold_out = 0
        self.errors: dict[str, int] = {}
        self.failures: dict[int, int] = {}  # screening -> holds refused for want of seats

    def full(self, screening_id: int) -> bool:
        return self.failures.get(screening_id, 0) >= 3

    def error(self, what: str) -> None:
        self.errors[what] = self.errors.get(what, 0) + 1


async def buy(browser: Browser, screening_ids, *, quantity: int, email: str, tally: Tally, rng):
    """Seat map, best `quantity` seats on some screening, checkout, the sandbox card page.
    True if an order was placed."""
    order = [s for s in screening_ids if not tally.full(s)]
    rng.shuffle(order)
    if not order:  # sold out: the buyer looks at a seat map and leaves
        await browser.go("GET", f"/screenings/{screening_ids[0]}/")
        tally.sold_out += 1
        return False
    for screening_id in order:
        status, text, _url = await browser.go("GET", f"/screenings/{screening_id}/")
        if status != 200 or "csrfmiddlewaretoken" not in text:
            tally.error(f"seat map {status}")
            continue
        token = CSRF.search(text).group(1)
        status, text, url = await browser.go(
            "POST",
            f"/screenings/{screening_id}/hold/",
            data={"csrfmiddlewaretoken": token, "mode": "best", "quantity": str(quantity)},
        )
        if "/checkout/" not in url or status != 200:
            if "tickets per buyer" in text:
                tally.limit_refusals += 1
                return False
            tally.failures[screening_id] = tally.failures.get(screening_id, 0) + 1
            continue  # no seats together here: another screening
        status, text, url = await browser.go("POST", url, data=_checkout_form(text, email))
        if "/payments/sandbox/" not in url:
            if "tickets per buyer" in text:
                tally.limit_refusals += 1
                return False
            tally.error(f"checkout {status}")
            return False
        tally.purchases.append(time.monotonic())
        tally.tickets += quantity
        pay = {"csrfmiddlewaretoken": CSRF.search(text).group(1), **CARD}
        found = TOKEN_FIELD.search(text)
        if found:
            pay["t"] = found.group(1)
        status, text, url = await browser.go("POST", url, data=pay)
        if status == 200 and "/checkout/done/" in url:
            tally.paid.append(time.monotonic())
        else:
            tally.error(f"pay {status}")
        return True
    tally.sold_out += 1
    return False


# ---- calibration -----------------------------------------------------------------------------
class XactSampler(threading.Thread):
    """The database's committed transactions, each second (pg_stat_database.xact_commit)."""

    def __init__(self, database_url: str, dbname: str) -> None:
        super().__init__(daemon=True)
        self.url, self.dbname = database_url, dbname
        self.samples: list[tuple[float, int]] = []
        self.stopping = threading.Event()

    def run(self) -> None:
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            while not self.stopping.is_set():
                row = conn.execute(
                    "SELECT xact_commit FROM pg_stat_database WHERE datname = %s", (self.dbname,)
                ).fetchone()
                conn.execute("SELECT pg_stat_clear_snapshot()")
                self.samples.append((time.monotonic(), int(row[0])))
                self.stopping.wait(1.0)

    def per_purchase(self, since: float, until: float, purchases: int) -> float:
        points = [s for s in self.samples if since <= s[0] <= until]
        if len(points) < 2 or not purchases:
            return float("nan")
        return (points[-1][1] - points[0][1]) / purchases

    def rates(self, since: float = 0.0, until: float = float("inf")) -> list[float]:
        points = [s for s in self.samples if since <= s[0] <= until]
        return [(b[1] - a[1]) / (b[0] - a[0]) for a, b in itertools.pairwise(points) if b[0] > a[0]]


async def calibrate(base_url: str, screening_id: int, *, seconds: float, buyers: int, seed: int):
    import aiohttp

    tally = Tally()
    rng = random.Random(seed)
    deadline = time.monotonic() + seconds
    connector = aiohttp.TCPConnector(limit=buyers * 2)
    async with aiohttp.ClientSession(
        connector=connector, cookie_jar=aiohttp.DummyCookieJar()
    ) as http:

        async def one(n: int) -> None:
            k = 0
            while time.monotonic() < deadline:
                k += 1
                browser = Browser(http, base_url)
                if (
                    not await buy(
                        browser,
                        [screening_id],
                        quantity=1,
                        email=f"cal{n}-{k}@bench.test",
                        tally=tally,
                        rng=rng,
                    )
                    and tally.sold_out
                ):
                    return

        for n in range(min(buyers, 4)):  # warm-up: workers import, connect, load templates
            await buy(
                Browser(http, base_url),
                [screening_id],
                quantity=1,
                email=f"warm{n}@bench.test",
                tally=Tally(),
                rng=rng,
            )
        deadline = time.monotonic() + seconds
        started = time.monotonic()
        await asyncio.gather(*(one(n) for n in range(buyers)))
        used = time.monotonic() - started
    return len(tally.purchases) / used, tally, started


# ---- the onsale ------------------------------------------------------------------------------
class Waiter:
    __slots__ = (
        "admitted_at",
        "arrived_at",
        "browser",
        "done",
        "early",
        "greedy",
        "n",
        "sent_at",
        "waiter",
    )

    def __init__(self, n: int, browser: Browser, early: bool, greedy: bool) -> None:
        self.n, self.browser, self.early, self.greedy = n, browser, early, greedy
        self.sent_at = 0.0  # the arrival's request sent
        self.arrived_at = 0.0  # ... and answered
        self.admitted_at = 0.0
        self.waiter = ""
        self.done = False


async def run_onsale(args, base_url, sale, screening_ids, opens_mono, tally, polls, rng):
    import aiohttp

    connector = aiohttp.TCPConnector(limit=64)
    lean = LeanTransport(base_url, {"Accept": "application/json"}, timeout=20)
    gate = asyncio.Semaphore(args.connections)  # keep-alive connections for the polls
    deadline = [opens_mono + args.cap]
    waiters: list[Waiter] = []
    early_n = int(args.buyers * args.early_share)
    async with aiohttp.ClientSession(
        connector=connector, cookie_jar=aiohttp.DummyCookieJar()
    ) as http:

        async def life(w: Waiter, arrive_at: float) -> None:
            await asyncio.sleep(max(0.0, arrive_at - time.monotonic()))
            path = f"/wait/{sale}/?s={screening_ids[0]}"
            w.sent_at = time.monotonic()
            try:
                _status, _text, _url = await w.browser.go("GET", path, follow=0)
            except (aiohttp.ClientError, TimeoutError):
                tally.error("arrival")
                return
            w.arrived_at = time.monotonic()
            signed = w.browser.cookies.get("marquee_waiter", "")
            w.waiter = signed.split(":")[0]
            cookie = {"Cookie": f"marquee_waiter={signed}"}
            await asyncio.sleep(rng.uniform(0, args.poll))
            while time.monotonic() < deadline[0]:
                try:
                    async with gate:
                        status, body, _ = await lean.request(
                            "GET", f"/wait/{sale}/status.json", headers=cookie
                        )
                except (OSError, TimeoutError):
                    tally.error("poll")
                    await asyncio.sleep(args.poll)
                    continue
                polls.append(time.monotonic())
                if status != 200:
                    tally.error(f"poll {status}")
                elif b'"admitted": true' in body:
                    w.admitted_at = time.monotonic()
                    break
                await asyncio.sleep(args.poll)
            if not w.admitted_at:
                return
            try:
                status, _text, _url = await w.browser.go("GET", path, follow=0)  # the token
                quantity = rng.randint(1, args.ticket_limit)
                bought = await buy(
                    w.browser,
                    screening_ids,
                    quantity=quantity,
                    email=f"buyer{w.n}@bench.test",
                    tally=tally,
                    rng=rng,
                )
                if bought and w.greedy:  # tries for more than the limit leaves
                    await buy(
                        w.browser,
                        screening_ids,
                        quantity=args.ticket_limit,
                        email=f"buyer{w.n}@bench.test",
                        tally=tally,
                        rng=rng,
                    )
            except (aiohttp.ClientError, TimeoutError, AttributeError) as exc:
                tally.error(type(exc).__name__)
            w.done = True
            if all(tally.full(s) for s in screening_ids):
                # sold out: the run ends a little later (the waiting room keeps admitting)
                deadline[0] = min(deadline[0], time.monotonic() + args.after_sold_out)

        tasks = []
        for n in range(args.buyers):
            early = n < early_n
            if early:
                at = opens_mono - args.early_seconds + rng.uniform(0, args.early_seconds - 1.0)
            else:
                at = opens_mono + rng.uniform(0.5, args.late_seconds)
            w = Waiter(n, Browser(http, base_url), early, rng.random() < args.greedy_share)
            waiters.append(w)
            tasks.append(life(w, at))
        await asyncio.gather(*tasks)
    await lean.close()
    return waiters


def kendall_tau(xs: list[float], ys: list[float]) -> float:
    n = len(xs)
    concordant = discordant = 0
    for i in range(n):
        for j in range(i + 1, n):
            s = (xs[i] - xs[j]) * (ys[i] - ys[j])
            if s > 0:
                concordant += 1
            elif s < 0:
                discordant += 1
    total = concordant + discordant
    return (concordant - discordant) / total if total else float("nan")


def in_order_share(waiters: list, numbers: dict) -> tuple[float, int, float, int]:
    """(share, pairs) of pairs admitted in arrival order, two ways: every pair ordered by when
    the arrivals were answered; and only the pairs where one arrival was answered before the
    other was sent (a later arrival for certain: requests in flight together may be numbered
    either way by the server, which is no overtaking)."""
    rows = sorted((w.arrived_at, w.sent_at, numbers[w.waiter]) for w in waiters)
    ordered = total = sure_ordered = sure = 0
    for i in range(len(rows)):
        for j in range(i + 1, len(rows)):
            if rows[j][0] <= rows[i][0]:
                continue
            total += 1
            ordered += rows[i][2] < rows[j][2]
            if rows[i][0] < rows[j][1]:
                sure += 1
                sure_ordered += rows[i][2] < rows[j][2]
    nan = float("nan")
    return (
        ordered / total if total else nan,
        total,
        sure_ordered / sure if sure else nan,
        sure,
    )


def integrity(database_url, sale_id: int, limit: int, screening_ids) -> list[tuple[str, bool, str]]:
    import psycopg

    ids = list(screening_ids)
    checks = []
    with psycopg.connect(database_url, autocommit=True) as conn:
        twice = conn.execute(
            "SELECT t.seat_id, o.screening_id, count(*) FROM orders_ticket t "
            "JOIN orders_order o ON o.id = t.order_id WHERE o.status IN ('paid', 'pending_payment') "
            "AND t.refunded_at IS NULL GROUP BY 1, 2 HAVING count(*) > 1 LIMIT 5"
        ).fetchall()
        checks.append(("no seat sold twice", not twice, f"{twice}" if twice else "0 seats"))
        claims = conn.execute(
            "SELECT count(*) FROM inventory_seatclaim c JOIN orders_order o ON o.id = c.order_id "
            "WHERE c.screening_id = ANY(%s) AND o.status IN ('paid', 'pending_payment')",
            (ids,),
        ).fetchone()[0]
        tickets = conn.execute(
            "SELECT count(*) FROM orders_ticket t JOIN orders_order o ON o.id = t.order_id "
            "WHERE o.screening_id = ANY(%s) AND o.status IN ('paid', 'pending_payment')",
            (ids,),
        ).fetchone()[0]
        checks.append(
            (
                "every ticket has its own claim",
                claims == tickets,
                f"{tickets} tickets, {claims} claims",
            )
        )
        over = conn.execute(
            "SELECT lower(o.customer_email), count(t.id) FROM orders_order o "
            "JOIN orders_ticket t ON t.order_id = o.id WHERE o.screening_id = ANY(%s) "
            "AND o.status IN ('paid', 'pending_payment') GROUP BY 1 HAVING count(t.id) > %s LIMIT 5",
            (ids, limit),
        ).fetchall()
        top = conn.execute(
            "SELECT coalesce(max(n), 0) FROM (SELECT count(t.id) n FROM orders_order o "
            "JOIN orders_ticket t ON t.order_id = o.id WHERE o.screening_id = ANY(%s) "
            "AND o.status IN ('paid', 'pending_payment') GROUP BY lower(o.customer_email)) x",
            (ids,),
        ).fetchone()[0]
        checks.append(
            (f"no email past the limit of {limit}", not over, f"most by one email: {top}")
        )
        tally = conn.execute(
            "SELECT kind, max(tickets), count(*) FROM onsale_buyertally WHERE onsale_id = %s "
            "GROUP BY kind ORDER BY kind",
            (sale_id,),
        ).fetchall()
        worst = max((row[1] for row in tally), default=0)
        checks.append(
            (
                "no tally past the limit (browser, account, email)",
                worst <= limit,
                ", ".join(f"{k}: {n} buyers, max {m}" for k, m, n in tally) or "none",
            )
        )
        counted = conn.execute(
            "SELECT coalesce(sum(tickets), 0) FROM onsale_buyertally WHERE onsale_id = %s "
            "AND kind = 'email'",
            (sale_id,),
        ).fetchone()[0]
        checks.append(
            (
                "the email tallies = the tickets of live orders",
                counted == tickets,
                f"{counted} counted, {tickets} tickets",
            )
        )
    return checks


def per_minute(times: list[float], start: float, end: float) -> float:
    seconds = max(1e-9, end - start)
    return 60.0 * sum(1 for t in times if start <= t <= end) / seconds


def main(argv=None) -> int:
    args = parse_args(argv)
    rng = random.Random(args.seed)
    dbname = fixtures.check_local_database(args.database_url)
    t0 = time.monotonic()
    fixtures.reset_database(args.database_url)
    fixtures.flush_redis(args.redis_url)
    port = server.free_port()
    base_url = f"http://{server.HOST}:{port}"
    env = {
        **fixtures.PRODUCTION_SHAPE_ENV,
        "DJANGO_SETTINGS_MODULE": "ticketing.settings",
        "DATABASE_URL": args.database_url,
        "REDIS_URL": args.redis_url,
        "CELERY_BROKER_URL": "memory://",
        # Confirmations and the sandbox's events wait for a worker, as in production (a web
        # request that ran them itself would measure e-ticket rendering, not the sale).
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "CACHE_KEY_PREFIX": "marquee-bench-onsale-room",
        "DJANGO_DEBUG": "0",
        "MARQUEE_MANIFEST_STATIC": "0",
        "MARQUEE_SITE_URL": base_url,
        "MARQUEE_THROTTLE_STOREFRONT": "10000000/min",
        "MARQUEE_THROTTLE_ANON": "10000000/min",
        "MARQUEE_THROTTLE_USER": "10000000/min",
        "MARQUEE_HOLD_LIMIT_PER_NETWORK": "1000000",
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    }
    os.environ.update(env)
    import django

    django.setup()
    fixtures.migrate()
    from datetime import timedelta

    from django.utils import timezone

    from ticketing.onsale import services, waiting
    from ticketing.onsale.models import Onsale

    layout = fixtures.Layout(rows=args.rows, per_row=args.seats_per_row)
    scenario = fixtures.seed(
        screenings=args.screenings + 1, layout=layout, rooms=args.screenings + 1
    )
    calibration_screening, *onsale_screenings = scenario.screening_ids
    capacity = sum(scenario.capacity[s] for s in onsale_screenings)
    print(
        f"bench: {args.screenings} screenings, {capacity} seats in the onsale; set up in "
        f"{time.monotonic() - t0:.1f} s",
        flush=True,
    )
    sampler = XactSampler(args.database_url, dbname)
    failed = False
    with server.running(
        env=env,
        log_path=args.server_log,
        workers=args.workers,
        threads=args.threads,
        worker_class=None,
        port=port,
    ) as (base_url, _proc):
        print(f"bench: gunicorn on {base_url}", flush=True)
        sampler.start()
        # 1. the hot path's pace, on the storefront, outside the onsale
        cal_start = time.monotonic()
        pace, cal, cal_start = asyncio.run(
            calibrate(
                base_url,
                calibration_screening,
                seconds=args.calibrate,
                buyers=args.calibrate_buyers,
                seed=args.seed,
            )
        )
        cal_end = time.monotonic()
        cal_rates = sorted(sampler.rates(cal_start + 1, cal_end))
        # The database's pace while the storefront sells as fast as it can: its capacity here.
        capacity_xacts = statistics.fmean(cal_rates) if cal_rates else float("nan")
        rate = args.rate or max(1, int(pace * 60 * args.headroom))
        print(
            f"calibration: {pace:.1f} purchases/s through the storefront ({len(cal.purchases)} in "
            f"{cal_end - cal_start:.1f} s, {args.calibrate_buyers} buyers), the database at "
            f"{statistics.median(cal_rates) if cal_rates else float('nan'):.0f} transactions/s "
            f"(mean {capacity_xacts:.0f}, peak {cal_rates[-1] if cal_rates else 0:.0f}); "
            f"{sampler.per_purchase(cal_start, cal_end, len(cal.purchases)):.1f} transactions a "
            f"purchase; errors {cal.errors or 0}",
            flush=True,
        )
        print(
            f"admission rate: {rate} a minute ({'--rate' if args.rate else f'{args.headroom:.0%} of the measured pace'})",
            flush=True,
        )
        # 2. the onsale
        opens_in = args.early_seconds + 2.0
        sale = Onsale.objects.create(
            name="Bench blockbuster",
            opens_at=timezone.now() + timedelta(seconds=opens_in),
            admit_per_minute=rate,
            admission_minutes=5,
            ticket_limit=args.ticket_limit,
        )
        sale.screenings.set(onsale_screenings)
        services._sync(sale.pk)
        opens_mono = time.monotonic() + opens_in
        tally, polls = Tally(), []
        granted: list[tuple[float, int]] = []
        stop = threading.Event()

        def watch() -> None:
            while not stop.is_set():
                try:
                    figures = waiting.stats(sale)
                    if figures is not None:
                        granted.append((time.monotonic(), figures.admitted))
                except waiting.WaitingRoomUnavailable:
                    pass
                stop.wait(1.0)

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        waiters = asyncio.run(
            run_onsale(args, base_url, sale.pk, onsale_screenings, opens_mono, tally, polls, rng)
        )
        end = time.monotonic()
        stop.set()
        watcher.join()
        sampler.stopping.set()
        sampler.join()

    # ---- figures
    from django.core.cache import cache

    client = cache._cache.get_client(None, write=True)
    numbers = {
        (w.decode() if isinstance(w, bytes) else w): int(n)
        for n, w in client.hgetall(f"{waiting.prefix(sale.pk)}:ids").items()
    }
    admitted = [w for w in waiters if w.admitted_at]
    sold_at = max(tally.purchases) if tally.purchases else end
    poll_window = [t for t in polls if opens_mono - args.early_seconds <= t <= end]
    poll_rate = len(poll_window) / max(1e-9, end - (opens_mono - args.early_seconds))
    # admitted a minute: the waiting room's own counter, from opening until everyone was in
    after = [g for g in granted if g[0] >= opens_mono]
    if len(after) >= 2:
        last_change = next(
            (g for g in reversed(after) if g[1] != after[-1][1] or g is after[0]), after[0]
        )
        busy = [g for g in after if g[0] <= max(last_change[0], after[0][0] + 1)]
        first, last = busy[0], busy[-1]
        admitted_rate = 60 * (last[1] - first[1]) / max(1e-9, last[0] - first[0])
    else:
        admitted_rate = float("nan")
    purchases_rate = per_minute(tally.purchases, opens_mono, sold_at)
    print(
        f"queue: {len(waiters)} buyers ({sum(w.early for w in waiters)} before opening), "
        f"{len(polls)} status polls, {poll_rate:,.0f} polls/s",
        flush=True,
    )
    print(
        f"admitted: {len(admitted)} of {len(waiters)}; {admitted_rate:,.0f} a minute "
        f"(target {rate}: {admitted_rate / rate:.0%})",
        flush=True,
    )
    print(
        f"purchases: {len(tally.purchases)} orders, {len(tally.paid)} paid at the provider's page "
        f"(its event waits for a worker), {tally.tickets} "
        f"tickets; {purchases_rate:,.0f} a minute from opening until the last; "
        f"{tally.limit_refusals} refused at the ticket limit, {tally.sold_out} found it sold out",
        flush=True,
    )
    # fairness
    late = [w for w in admitted if not w.early and w.waiter in numbers]
    share, pairs, sure_share, sure_pairs = in_order_share(late, numbers)
    early = [w for w in admitted if w.early and w.waiter in numbers]
    tau = kendall_tau([w.arrived_at for w in early], [numbers[w.waiter] for w in early])
    first_late = min((numbers[w.waiter] for w in late), default=0)
    last_early = max((numbers[w.waiter] for w in early), default=0)
    print(
        f"fairness after opening: {sure_share:.2%} of {sure_pairs:,} pairs where one arrival "
        f"was answered before the other was sent admitted in arrival order (target 100%); "
        f"{share:.2%} of all {pairs:,} pairs ordered by when they were answered",
        flush=True,
    )
    print(
        f"fairness before opening: Kendall tau {tau:+.3f} between arrival and admission order "
        f"over {len(early)} buyers (one shuffle: near 0); every early buyer ahead of every "
        f"later one: {last_early < first_late if early and late else 'n/a'}",
        flush=True,
    )
    checks = integrity(args.database_url, sale.pk, args.ticket_limit, onsale_screenings)
    sold = 0
    import psycopg

    with psycopg.connect(args.database_url, autocommit=True) as conn:
        sold = conn.execute(
            "SELECT count(*) FROM inventory_seatclaim WHERE screening_id = ANY(%s) "
            "AND (expires_at IS NULL OR expires_at > now())",
            (list(onsale_screenings),),
        ).fetchone()[0]
    print(f"seats: {sold} of {capacity} sold or being paid ({sold / capacity:.0%})", flush=True)
    onsale_rates = sampler.rates(opens_mono - args.early_seconds, end)
    smooth = [
        statistics.fmean(onsale_rates[i : i + 5]) for i in range(max(0, len(onsale_rates) - 4))
    ]
    peak = max(onsale_rates, default=0.0)
    peak5 = max(smooth, default=peak)
    db_ok = not onsale_rates or peak5 <= capacity_xacts
    checks.append(
        (
            "the database's transactions/s never above the calibrated capacity",
            db_ok,
            f"busiest 5 s {peak5:.0f}/s, busiest second {peak:.0f}/s, median "
            f"{statistics.median(onsale_rates) if onsale_rates else 0:.0f}/s; capacity "
            f"{capacity_xacts:.0f}/s",
        )
    )
    for name, ok, detail in checks:
        print(f"integrity: {'PASS' if ok else 'FAIL'} {name} ({detail})", flush=True)
        failed = failed or not ok
    print(f"bench: errors {tally.errors or 0}; {time.monotonic() - t0:.0f} s in all", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
