"""The buyers: one asyncio process, keep-alive connections (bench/transport.py), only to the
loopback server.

A buyer reads the seat map, holds 2 to 4 seats (half the time seats it picked itself from the
map, side by side when it can, half the time the best `quantity` the server finds), turns the hold
into an order, and starts again, until every screening is sold out or time is up. On a 409 it
reads the map again and retries. Most buyers crowd the premiere (the first screening still on
sale); the others spread over every screening still on sale.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections import defaultdict
from dataclasses import dataclass, field

from . import transport as transports
from .stats import Recorder

AUTO_TYPES = {"standard", "premium"}  # what a buyer picks first; accessible places come last
MAX_ATTEMPTS = 8  # reads+holds per purchase before the buyer gives up on it and chooses again
# After best-available said no_seats_together for 2, a show whose explicit picks have all failed
# (at least this many, for at least this long: longer than a cached map lives) is done.
STUCK_AFTER = 25
STUCK_FOR = 3.0


@dataclass
class ShowState:
    sold_out: bool = False
    together_fails_from: int | None = None  # smallest quantity best-available refused
    explicit_fails: int = 0  # explicit picks refused since the last hold of this show
    last_hold_at: float = 0.0


@dataclass
class Board:
    """What the buyers collectively know about which screenings are still on sale."""

    screening_ids: list[int]
    shows: dict[int, ShowState] = field(default_factory=dict)
    finished_at: dict[int, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.open = list(self.screening_ids)
        for sid in self.screening_ids:
            self.shows.setdefault(sid, ShowState())

    def premiere(self) -> int | None:
        return self.open[0] if self.open else None

    def any_open(self, rng: random.Random) -> int | None:
        return rng.choice(self.open) if self.open else None

    def done(self, sid: int, started: float) -> None:
        state = self.shows[sid]
        if not state.sold_out:
            state.sold_out = True
            self.open.remove(sid)
            self.finished_at[sid] = time.monotonic() - started


@dataclass
class RushResult:
    recorder: Recorder
    duration: float
    timed_out: bool
    board: Board
    buyers: int
    promo_buyers: int = 0


# ---- reading the map and choosing seats from it -----------------------------------------------
@dataclass
class Room:
    """What does not change between two reads of a screening's map: its seats in map order."""

    seats: list[dict]  # id, x, y, type of each seat, in the map's order
    centre_x: float
    sweet_y: float


STATUS = b'"status":"'


class SeatMaps:
    """The buyers' reading of seat maps. The first map of a screening is parsed in full; later
    ones only for their statuses (one per seat, in the same order, which the map always is), a
    tenth of the CPU of json.loads on 300 seats. A map whose seats do not line up with the
    first one's is parsed in full again."""

    def __init__(self) -> None:
        self.rooms: dict[int, Room] = {}

    def read(self, sid: int, raw: bytes) -> tuple[int, list[dict], Room]:
        """(seats available, the available seats, the room); ValueError if not a map."""
        room = self.rooms.get(sid)
        if room is not None:
            parts = raw.split(STATUS)
            if len(parts) == len(room.seats) + 1:
                free = [
                    seat
                    for seat, part in zip(room.seats, parts[1:], strict=True)
                    if part.startswith(b"available")
                ]
                return len(free), free, room
        body = json.loads(raw)
        seats = body["seats"]
        xs = [s["x"] for s in seats] or [0]
        ys = [s["y"] for s in seats] or [0]
        room = Room(
            seats=[{k: s[k] for k in ("id", "x", "y", "type")} for s in seats],
            centre_x=(min(xs) + max(xs)) / 2,
            sweet_y=min(ys) + (max(ys) - min(ys)) * 2 / 3,
        )
        self.rooms[sid] = room
        free = [
            seat for seat, s in zip(room.seats, seats, strict=True) if s["status"] == "available"
        ]
        return body["counts"].get("available", 0), free, room


def pick_seats(free: list[dict], n: int, rng: random.Random, room: Room) -> list[int]:
    """n of these available seats: side by side in one row when possible (near the middle, with
    some taste of randomness), else whatever is left, nearest first."""
    if not free:
        return []
    preferred = [s for s in free if s["type"] in AUTO_TYPES] or free
    if len(preferred) < n:
        preferred = free
    if len(preferred) <= n:
        return [s["id"] for s in preferred]
    centre_x, sweet_y = room.centre_x, room.sweet_y
    uniform = rng.uniform
    rows: dict[int, list[dict]] = defaultdict(list)
    for seat in preferred:
        rows[seat["y"]].append(seat)
    best: tuple[float, list[int]] | None = None
    for y, row in rows.items():
        row.sort(key=lambda s: s["x"])
        run: list[dict] = []
        for seat in [*row, None]:
            if seat is not None and (not run or seat["x"] == run[-1]["x"] + 1):
                run.append(seat)
                continue
            for start in range(len(run) - n + 1):
                block = run[start : start + n]
                mid = (block[0]["x"] + block[-1]["x"]) / 2
                score = abs(y - sweet_y) + 0.35 * abs(mid - centre_x) + uniform(0, 5)
                if best is None or score < best[0]:
                    best = (score, [s["id"] for s in block])
            run = [seat] if seat is not None else []
    if best is not None:
        return best[1]
    # Nothing side by side: the n nearest seats in map order from a random starting point.
    ordered = sorted(preferred, key=lambda s: (s["y"], s["x"]))
    start = rng.randrange(len(ordered) - n + 1)
    return [s["id"] for s in ordered[start : start + n]]


# ---- HTTP --------------------------------------------------------------------------------------
class Client:
    def __init__(self, transport, recorder: Recorder) -> None:
        self.transport = transport
        self.rec = recorder
        self.failures = (OSError, TimeoutError, *getattr(transport, "errors", ()))

    async def fetch(
        self, kind: str, method: str, path: str, data: bytes | None = None, headers=None
    ) -> tuple[int | None, bytes | None, str]:
        """(status, body, ETag), or (None, None, "") on a connection error or a 5xx (recorded)."""
        started = time.perf_counter()
        try:
            status, raw, etag = await self.transport.request(method, path, data, headers)
        except self.failures as exc:
            self.rec.error(kind, f"connection: {type(exc).__name__}", str(exc))
            return None, None, ""
        self.rec.latency(kind, time.perf_counter() - started)
        self.rec.status(kind, status)
        if status >= 500:
            self.rec.error(kind, f"HTTP {status}", raw.decode(errors="replace"))
            return status, None, ""
        return status, raw, etag

    async def call(
        self, kind: str, method: str, path: str, body: dict | None = None, *, parse=True
    ):
        """(status, parsed body) or (None, None) on a connection error; records everything."""
        data = json.dumps(body).encode() if body is not None else None
        status, raw, _etag = await self.fetch(kind, method, path, data)
        if raw is None or not parse:
            return status, raw
        try:
            return status, json.loads(raw) if raw else None
        except ValueError:
            self.rec.error(kind, f"HTTP {status} not JSON", raw.decode(errors="replace"))
            return None, None


# ---- the rush ----------------------------------------------------------------------------------
class Buyer:
    def __init__(
        self,
        n: int,
        client: Client,
        board: Board,
        rng: random.Random,
        *,
        fan: bool,
        started: float,
        deadline: float,
        maps: SeatMaps,
        promo_code: str = "",
        revalidate: bool = True,
    ) -> None:
        self.n = n
        self.client = client
        self.rec = client.rec
        self.board = board
        self.rng = rng
        self.fan = fan  # crowds the premiere
        self.started = started
        self.deadline = deadline
        self.promo_code = promo_code  # sent with every order when set
        self.maps = maps
        # The last map read of each screening, with its ETag: asked again with If-None-Match.
        self.revalidate = revalidate
        self.seen: dict[int, tuple] = {}

    async def run(self) -> None:
        while time.monotonic() < self.deadline:
            sid = self.board.premiere() if self.fan else self.board.any_open(self.rng)
            if sid is None:
                return
            await self.purchase(sid)

    async def purchase(self, sid: int) -> None:
        state = self.board.shows[sid]
        want = self.rng.randint(2, 4)
        explicit = self.rng.random() < 0.5
        for _attempt in range(MAX_ATTEMPTS):
            if state.sold_out or time.monotonic() >= self.deadline:
                return
            seen = self.seen.get(sid)
            asked = {"If-None-Match": seen[0]} if seen and self.revalidate else None
            status, raw, etag = await self.client.fetch(
                "seatmap", "GET", f"/api/v1/screenings/{sid}/seats/", headers=asked
            )
            if status == 304 and seen:
                _etag, available, free, room = seen  # unchanged since this buyer last read it
            elif status == 200 and raw:
                try:
                    available, free, room = self.maps.read(sid, raw)
                except (ValueError, KeyError, TypeError):
                    self.rec.error("seatmap", "not a seat map", raw[:300].decode(errors="replace"))
                    return
                self.seen[sid] = (etag, available, free, room)
            else:
                if status is not None and status < 500:
                    self.rec.error("seatmap", f"HTTP {status}")
                return
            if available == 0:
                self.board.done(sid, self.started)
                return
            use_quantity = not explicit and (
                state.together_fails_from is None or want < state.together_fails_from
            )
            if use_quantity:
                status, body = await self.client.call(
                    "hold", "POST", "/api/v1/holds/", {"screening": sid, "quantity": want}
                )
                if status == 201:
                    state.last_hold_at = time.monotonic()
                    await self.order(body)
                    return
                if status == 409 and _code(body) == "no_seats_together":
                    self.rec.conflict("hold", "no_seats_together")
                    if state.together_fails_from is None or want < state.together_fails_from:
                        state.together_fails_from = want
                    # fall through: pick seats from the map instead, in this same attempt
                elif status == 409:
                    self.rec.conflict("hold", _code(body))
                    continue
                else:
                    self._unexpected("hold", status, body)
                    return
            seats = pick_seats(free, want, self.rng, room)
            if not seats:
                continue
            status, body = await self.client.call(
                "hold", "POST", "/api/v1/holds/", {"screening": sid, "seats": seats}
            )
            if status == 201:
                state.explicit_fails = 0
                state.last_hold_at = time.monotonic()
                await self.order(body)
                return
            if status == 409:
                self.rec.conflict("hold", _code(body))
                state.explicit_fails += 1
                if (
                    state.together_fails_from == 2
                    and state.explicit_fails >= STUCK_AFTER
                    and time.monotonic() - state.last_hold_at >= STUCK_FOR
                ):
                    self.board.done(sid, self.started)
                    return
                continue
            self._unexpected("hold", status, body)
            return
        self.rec.purchases_abandoned += 1

    async def order(self, hold: dict) -> None:
        self.rec.holds += 1
        self.rec.seats_held += len(hold["seats"])
        payload = {
            "hold": hold["id"],
            "customer": {"email": f"buyer{self.n}@bench.example", "name": f"Buyer {self.n}"},
            "tickets": [{"seat": s["id"], "ticket_type": "adult"} for s in hold["seats"]],
        }
        if self.promo_code:
            payload["promo_code"] = self.promo_code
        status, body = await self.client.call("order", "POST", "/api/v1/orders/", payload)
        if status == 201 and body and body.get("status") == "pending_payment":
            self.rec.orders += 1
            self.rec.seats_ordered += len(body.get("tickets", []))
            if self.promo_code:
                self.rec.promo_orders += 1
                self.rec.discount_given += body.get("discount", 0)
        elif status == 409:
            self.rec.conflict("order", _code(body))
            self._unexpected("order", status, body)
        else:
            self._unexpected("order", status, body)

    def _unexpected(self, kind: str, status: int | None, body) -> None:
        if status is None or status >= 500:
            return  # already counted by Client.call
        self.rec.error(kind, f"unexpected HTTP {status}", json.dumps(body)[:300] if body else "")


def _code(body) -> str:
    try:
        return body["error"]["code"]
    except (TypeError, KeyError):
        return "?"


async def rush(
    *,
    base_url: str,
    api_key: str,
    screening_ids: list[int],
    buyers: int,
    hot_share: float,
    duration_cap: float,
    seed: int,
    promo_code: str = "",
    promo_share: float = 0.0,
    timeout: float = 30.0,
    client_kind: str = "lean",
    revalidate: bool = True,
) -> RushResult:
    """`promo_share` of the buyers (spread evenly over the fans and the others) send
    `promo_code` with each of their orders."""
    rec = Recorder()
    board = Board(screening_ids)
    wire = transports.transport(client_kind, base_url, api_key, timeout, buyers)
    client = Client(wire, rec)
    started = time.monotonic()
    deadline = started + duration_cap
    fans = round(buyers * hot_share)
    with_code = {i for i in range(buyers) if (i * 0.6180339887) % 1 < promo_share}
    maps = SeatMaps()
    crowd = [
        Buyer(
            i,
            client,
            board,
            random.Random(seed * 100_003 + i),
            fan=i < fans,
            started=started,
            deadline=deadline,
            maps=maps,
            promo_code=promo_code if i in with_code else "",
            revalidate=revalidate,
        )
        for i in range(buyers)
    ]
    try:
        tasks = [asyncio.create_task(b.run()) for b in crowd]
        # The buyers stop themselves at the deadline; give in-flight requests their timeout.
        _done, pending = await asyncio.wait(tasks, timeout=duration_cap + timeout + 5)
        for task in pending:
            task.cancel()
        for task in tasks:
            if task.done() and not task.cancelled() and task.exception() is not None:
                exc = task.exception()
                rec.error("buyer", f"crashed: {type(exc).__name__}", repr(exc))
    finally:
        await wire.close()
    duration = time.monotonic() - started
    return RushResult(
        rec,
        duration,
        timed_out=bool(board.open),
        board=board,
        buyers=buyers,
        promo_buyers=len(with_code),
    )


# ---- seat map reads alone ----------------------------------------------------------------------
@dataclass
class ReadResult:
    recorder: Recorder
    duration: float
    clients: int

    @property
    def reads(self) -> int:
        """Maps read: whole (200) or confirmed unchanged (304)."""
        return self.recorder.statuses.get(("seatmap", 200), 0) + self.not_modified

    @property
    def not_modified(self) -> int:
        return self.recorder.statuses.get(("seatmap", 304), 0)


async def read_only(
    *,
    base_url: str,
    api_key: str,
    screening_id: int,
    clients: int,
    seconds: float,
    timeout: float = 30.0,
    client_kind: str = "lean",
    revalidate: bool = True,
) -> ReadResult:
    """`clients` loops reading one screening's seat map as fast as they are answered, each with
    If-None-Match and the ETag of the map it read last (`revalidate`), as a browser does."""
    rec = Recorder()
    wire = transports.transport(client_kind, base_url, api_key, timeout, clients)
    client = Client(wire, rec)
    path = f"/api/v1/screenings/{screening_id}/seats/"

    async def reader() -> None:
        etag = ""
        while time.monotonic() < deadline:
            asked = {"If-None-Match": etag} if etag and revalidate else None
            status, _raw, tag = await client.fetch("seatmap", "GET", path, headers=asked)
            if status == 200:
                etag = tag
            elif status is not None and status != 304:
                rec.error("seatmap", f"unexpected HTTP {status}")

    try:
        # warm every connection and worker first, outside the measurement
        await asyncio.gather(
            *(client.call("seatmap", "GET", path, parse=False) for _ in range(clients))
        )
        rec.latencies.clear()
        rec.statuses.clear()
        started = time.monotonic()
        deadline = started + seconds
        await asyncio.gather(*(reader() for _ in range(clients)))
        duration = time.monotonic() - started
    finally:
        await wire.close()
    return ReadResult(rec, duration, clients)
