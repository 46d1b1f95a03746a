"""Seat statuses pushed to every open seat map: Server-Sent Events from the push server.

`GET /live/screenings/<id>/seats/` (`text/event-stream`) is a Django async view served by an
ASGI server (uvicorn, `make push`); the rest of the site stays on WSGI (gunicorn) and a proxy
sends `/live/` to the push server (docs/operations.md). Each push process holds ONE Redis
subscription (a pattern over every screening's channel, `inventory.live`) and fans each message
out in-process to the queues of its open connections for that screening, so a thousand viewers
cost one Redis connection, not a thousand. It reads nothing from the database.

The stream: `retry:` (how long the browser waits before reconnecting), then a first event
telling the viewer where it stands, then every change as `id: <v>` + `data: {"v", "seats"}`,
with a comment every HEARTBEAT_SECONDS so proxies keep the connection. A viewer reconnecting
sends `Last-Event-ID` (the browser does it); if changes were published since, it is told
`{"refetch": true}` and fetches the cached map once. A process that loses Redis ends its
streams, so the browsers reconnect; while Redis is away a connection is answered 503 at once and
the page polls as before. Under WSGI (runserver, gunicorn) the view answers 503 too: a held
sync worker per viewer would starve the site.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time

import redis.asyncio
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.views.decorators.http import require_GET
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from ticketing.inventory import live

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 15.0
RETRY_MS = 3000  # the browser's reconnect delay
QUEUE_SIZE = 256  # a viewer this far behind is told to refetch instead
CONNECT_SECONDS = 2.0  # how long a new connection waits for the subscription or Redis
REDIS_CONNECTIONS = 8  # this process's: the subscription, and reading versions
REFETCH = b'data: {"refetch":true}\n\n'


class Hub:
    """This process's one subscription, and the queues of its open connections by screening."""

    def __init__(self) -> None:
        self.viewers: dict[int, set[asyncio.Queue]] = {}
        self.task: asyncio.Task | None = None
        self.up = asyncio.Event()
        self.redis = None  # for reading versions (a small pool, shared)
        self.loop = None
        self.failed_at = 0.0

    def count(self) -> int:
        return sum(len(q) for q in self.viewers.values())

    async def ready(self) -> bool:
        """Start the subscription if need be; False if Redis cannot be had right now."""
        if self.task is None or self.task.done():
            if time.monotonic() - self.failed_at < 1.0:
                return False  # it failed a moment ago: answer at once, the page polls
            self.up.clear()
            self.task = asyncio.get_running_loop().create_task(self._listen())
        if self.up.is_set():
            return True
        # Up, or failed (the listener ended), or too slow: whichever comes first.
        waiting = asyncio.ensure_future(self.up.wait())
        await asyncio.wait(
            {waiting, self.task}, timeout=CONNECT_SECONDS, return_when=asyncio.FIRST_COMPLETED
        )
        waiting.cancel()
        return self.up.is_set()

    def _client(self):
        if self.redis is None:
            # A few connections, shared: a crowd connecting at once waits for one in turn.
            pool = redis.asyncio.BlockingConnectionPool.from_url(
                settings.REDIS_URL,
                max_connections=REDIS_CONNECTIONS,
                timeout=CONNECT_SECONDS,
                socket_connect_timeout=0.5,
            )
            # No retries: Redis away is answered at once (503), and the page polls.
            self.redis = redis.asyncio.Redis(connection_pool=pool, retry=Retry(NoBackoff(), 0))
        return self.redis

    async def _listen(self) -> None:
        pubsub = None
        try:
            pubsub = self._client().pubsub()
            await asyncio.wait_for(pubsub.psubscribe(live.channel_pattern()), CONNECT_SECONDS)
            self.up.set()
            log.info("push: subscribed to %s", live.channel_pattern())
            while True:
                message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=None)
                if message is None or message["type"] != "pmessage":
                    continue
                self._fan_out(message["channel"], message["data"])
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("push: the Redis subscription failed, open maps fall back: %s", exc)
        finally:
            self.up.clear()
            self.failed_at = time.monotonic()
            self._end_all()  # they reconnect, and are told to refetch or to poll
            if pubsub is not None:
                with contextlib.suppress(Exception):  # it is gone already
                    await pubsub.aclose()
            if self.redis is not None:
                with contextlib.suppress(Exception):
                    await self.redis.aclose(close_connection_pool=True)
                self.redis = None

    def _fan_out(self, channel: bytes, data: bytes) -> None:
        try:
            screening_id = int(channel.rsplit(b":", 1)[1])
            version = json.loads(data)["v"]
        except (ValueError, KeyError, IndexError, TypeError):
            return
        queues = self.viewers.get(screening_id)
        if not queues:
            return
        frame = b"id: %d\ndata: %s\n\n" % (version, data)
        for queue in queues:
            try:
                queue.put_nowait(frame)
            except asyncio.QueueFull:  # a stalled viewer: drop its backlog, tell it to refetch
                while not queue.empty():
                    queue.get_nowait()
                queue.put_nowait(REFETCH)

    def _end_all(self) -> None:
        for queues in self.viewers.values():
            for queue in queues:
                while not queue.empty():
                    queue.get_nowait()
                queue.put_nowait(None)

    def join(self, screening_id: int) -> asyncio.Queue:
        queue: asyncio.Queue = asyncio.Queue(QUEUE_SIZE)
        self.viewers.setdefault(screening_id, set()).add(queue)
        return queue

    def leave(self, screening_id: int, queue: asyncio.Queue) -> None:
        queues = self.viewers.get(screening_id)
        if queues is not None:
            queues.discard(queue)
            if not queues:
                del self.viewers[screening_id]

    async def version(self, screening_id: int) -> int:
        value = await asyncio.wait_for(
            self._client().get(live.version_key(screening_id)), CONNECT_SECONDS
        )
        return int(value or 0)


_hubs: dict[int, Hub] = {}


def hub() -> Hub:
    """This event loop's hub (one per process under uvicorn; tests may run several loops)."""
    loop = asyncio.get_running_loop()
    found = _hubs.get(id(loop))
    if found is None or found.loop is not loop:
        found = _hubs[id(loop)] = Hub()
        found.loop = loop
    return found


def _unavailable(message: str) -> HttpResponse:
    response = JsonResponse(
        {"error": {"code": "push_unavailable", "message": message, "details": {}}}, status=503
    )
    response["Retry-After"] = "30"
    response["Cache-Control"] = "no-store"
    return response


def _last_seen(request: HttpRequest) -> int | None:
    raw = request.headers.get("Last-Event-ID") or request.GET.get("v")
    try:
        return int(raw) if raw not in (None, "") else None
    except ValueError:
        return None


@require_GET
async def screening_seats_live(request: HttpRequest, pk: int) -> HttpResponse:
    if not hasattr(request, "scope"):
        return _unavailable("Live seat maps are served by the push server; poll the seat map.")
    if not live.enabled():
        return _unavailable("Live seat maps need Redis; poll the seat map.")
    the_hub = hub()
    if not await the_hub.ready():
        return _unavailable("Live seat maps are unavailable right now; poll the seat map.")
    queue = the_hub.join(pk)  # before reading the version: nothing published after is missed
    try:
        current = await the_hub.version(pk)
    except Exception as exc:
        the_hub.leave(pk, queue)
        log.warning("push: cannot read the version of screening %s: %s", pk, exc)
        return _unavailable("Live seat maps are unavailable right now; poll the seat map.")
    seen = _last_seen(request)

    async def stream():
        try:
            yield b"retry: %d\n" % RETRY_MS
            # A first connection fetches the map once (what changed since the page was made);
            # a reconnection that missed changes does the same; one that missed none, nothing.
            kinds = {None: b"hello", current: b"caught_up"}
            kind = kinds.get(seen, b"refetch")
            yield b'id: %d\ndata: {"v":%d,"%s":true}\n\n' % (current, current, kind)
            while True:
                try:
                    async with asyncio.timeout(HEARTBEAT_SECONDS):  # no task per message
                        frame = await queue.get()
                except TimeoutError:
                    yield b": heartbeat\n\n"
                    continue
                if frame is None:
                    return  # the subscription was lost: end, the browser reconnects
                yield frame
        finally:
            the_hub.leave(pk, queue)

    response = StreamingHttpResponse(stream(), content_type="text/event-stream")
    response["Cache-Control"] = "no-store"
    response["X-Accel-Buffering"] = "no"  # nginx: pass each event on at once
    # The statuses are public (the map is): any page may listen, without credentials.
    response["Access-Control-Allow-Origin"] = "*"
    return response
