"""The waiting room, in Redis only: the database is never touched by waiting or polling.

Per onsale, under one key prefix `P`:

- `P:conf`    hash: opens (epoch s), rate (a minute; 0 = as fast as purchases complete),
              paused, adm (seconds an admission lasts), cap (live admissions when rate is 0),
              keep (seconds a waiter's place is kept without a poll). Written by `configure`.
- `P:early`   sorted set: waiters who came before opening, scored by when last seen.
- `P:opened`  set once, at opening, by the script that appends the shuffled early waiters.
- `P:seq`     the last number given (INCR); `P:ids` hash number -> waiter; `P:w:<waiter>` the
              waiter's number, living `keep` seconds, refreshed by every poll.
- `P:front`   the highest number the admissions have reached; `P:credit`, `P:clock` the rate's
              credit and when it was last counted (Redis' clock, one for every web process).
- `P:live`    sorted set: live admissions, scored by when they end; `P:adm:<waiter>` the end
              of a claimed admission; `P:exits` admissions ended (bought or lapsed), with
              per-minute buckets `P:xm:<minute>` for the measured pace.

Every step is one Lua script, so many web processes see one queue: the admissions advance
inside the script that answers a poll (no beat needed), by the rate over the unpaused time since
the last poll, or, at rate 0, while fewer than `cap` admissions are live. Nobody is overtaken:
numbers are given by INCR in arrival order and admitted in number order. Waiters who came before
opening get their numbers once, at opening, in an order shuffled by `secrets.SystemRandom`.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

log = logging.getLogger(__name__)

DEFAULTS = {
    # Live admissions at once when an onsale's rate is 0 ("as fast as purchases complete").
    "LIVE_ADMISSIONS": 100,
    # How long a waiter's place is kept without a poll (a reload, a closed tab).
    "KEEP_SECONDS": 300,
    # How long a waiter whose turn came has to come and take it (poll or reload).
    "GRACE_SECONDS": 120,
}


def option(name: str) -> int:
    return int(getattr(settings, "MARQUEE_ONSALE", {}).get(name, DEFAULTS[name]))


class WaitingRoomUnavailable(Exception):
    """Redis cannot be reached (or is not configured): nobody can be queued or admitted."""


_LIB = r"""
local P = KEYS[1]
local function now()
  local t = redis.call('TIME')
  return tonumber(t[1]) + tonumber(t[2]) / 1000000
end
local function conf()
  local c = redis.call('HMGET', P..':conf', 'opens', 'rate', 'paused', 'adm', 'cap', 'keep', 'grace')
  if not c[1] then return nil end
  return {opens=tonumber(c[1]), rate=tonumber(c[2]), paused=(c[3] == '1'), adm=tonumber(c[4]),
          cap=tonumber(c[5]), keep=tonumber(c[6]), grace=tonumber(c[7])}
end
local function exited(t, n)
  if n > 0 then
    redis.call('INCRBY', P..':exits', n)
    local b = P..':xm:'..math.floor(t / 60)
    redis.call('INCRBY', b, n)
    redis.call('EXPIRE', b, 900)
  end
end
local function tick(c, t)
  if redis.call('EXISTS', P..':opened') == 0 then return end
  local gone = redis.call('ZRANGEBYSCORE', P..':live', '-inf', t, 'LIMIT', 0, 5000)
  if #gone > 0 then
    for _, w in ipairs(gone) do redis.call('ZREM', P..':live', w) end
    exited(t, #gone)
  end
  local last = tonumber(redis.call('GET', P..':clock') or t)
  local credit = tonumber(redis.call('GET', P..':credit') or '0')
  if (not c.paused) and c.rate > 0 and t > last then credit = credit + (t - last) * c.rate / 60 end
  redis.call('SET', P..':clock', string.format('%.6f', t))
  local front = tonumber(redis.call('GET', P..':front') or '0')
  local seq = tonumber(redis.call('GET', P..':seq') or '0')
  local steps = 0
  while (not c.paused) and front < seq and steps < 5000 do
    if c.rate > 0 then
      if credit < 1 then break end
    elseif redis.call('ZCARD', P..':live') >= c.cap then break end
    front = front + 1
    steps = steps + 1
    local w = redis.call('HGET', P..':ids', front)
    -- a waiter who stopped polling long ago has left: skipped, costing nobody a turn
    if w and redis.call('EXISTS', P..':w:'..w) == 1 then
      redis.call('ZADD', P..':live', t + c.grace, w)
      redis.call('INCR', P..':granted')
      if c.rate > 0 then credit = credit - 1 end
    end
  end
  if front >= seq and credit > 1 then credit = 1 end  -- no saving up while nobody waits
  redis.call('SET', P..':front', front)
  redis.call('SET', P..':credit', string.format('%.6f', credit))
end
local function pace(t, c)
  local m = math.floor(t / 60)
  local sum = 0
  for i = 0, 4 do sum = sum + tonumber(redis.call('GET', P..':xm:'..(m - i)) or '0') end
  local window = math.min(240 + (t - m * 60), t - c.opens)
  return sum, window
end
"""

# A visit: register (or refresh) the waiter, advance the admissions, say where the waiter is.
# Returns {state, ...} with state one of noconf, early, opening, waiting, admitted.
_VISIT = (
    _LIB
    + r"""
local w = ARGV[1]
local c = conf()
if not c then return {'noconf'} end
local t = now()
if t < c.opens then
  redis.call('ZADD', P..':early', t, w)
  return {'early', string.format('%.3f', t), tostring(c.opens), tostring(redis.call('ZCARD', P..':early'))}
end
if redis.call('EXISTS', P..':opened') == 0 then return {'opening', string.format('%.3f', t)} end
local requeued = '0'
local n = tonumber(redis.call('GET', P..':w:'..w) or '0')
local front = tonumber(redis.call('GET', P..':front') or '0')
local score = redis.call('ZSCORE', P..':live', w)
local ends = redis.call('GET', P..':adm:'..w)
if n > 0 and n <= front and not (score and tonumber(score) > t) then
  -- the turn came and went (not taken in time, or an admission that ended): to the back
  redis.call('DEL', P..':adm:'..w)
  ends = false
  n = 0
  requeued = '1'
end
if n == 0 then
  n = redis.call('INCR', P..':seq')
  redis.call('HSET', P..':ids', n, w)
end
redis.call('SET', P..':w:'..w, n, 'EX', c.keep)
tick(c, t)
front = tonumber(redis.call('GET', P..':front') or '0')
local live = redis.call('ZSCORE', P..':live', w)
local state = 'waiting'
if live then
  state = 'admitted'
  if not ends then
    ends = string.format('%.3f', t + c.adm)
    redis.call('SET', P..':adm:'..w, ends, 'EX', c.adm + 60)
    redis.call('ZADD', P..':live', t + c.adm, w)
  end
end
local sum, window = pace(t, c)
return {state, string.format('%.3f', t), tostring(c.opens), tostring(n), tostring(front),
        redis.call('GET', P..':seq'), c.paused and '1' or '0', tostring(c.rate),
        ends or '', tostring(sum), string.format('%.3f', window), requeued,
        tostring(redis.call('ZCARD', P..':live'))}
"""
)

# The one shuffle: the early waiters, in the order given, appended once; then the sale is open.
_OPEN = (
    _LIB
    + r"""
if redis.call('EXISTS', P..':opened') == 1 then return -1 end
local c = conf()
if not c then return -2 end
local t = now()
if t < c.opens then return -3 end
for i = 1, #ARGV do
  local w = ARGV[i]
  if redis.call('EXISTS', P..':w:'..w) == 0 then
    local n = redis.call('INCR', P..':seq')
    redis.call('HSET', P..':ids', n, w)
    redis.call('SET', P..':w:'..w, n, 'EX', c.keep)
  end
end
redis.call('SET', P..':opened', string.format('%.3f', t))
redis.call('SET', P..':clock', string.format('%.6f', c.opens))
return #ARGV
"""
)

# Count what happened under the old settings, then take the new ones (a pause stops the clock).
_CONFIGURE = (
    _LIB
    + r"""
local old = conf()
local t = now()
if old and t >= old.opens then tick(old, t) end
redis.call('HSET', P..':conf', 'opens', ARGV[1], 'rate', ARGV[2], 'paused', ARGV[3],
           'adm', ARGV[4], 'cap', ARGV[5], 'keep', ARGV[6], 'grace', ARGV[7])
return 1
"""
)

# An admitted buyer bought (or gave up): the admission ends now, making room for the next.
_DONE = (
    _LIB
    + r"""
local w = ARGV[1]
local removed = redis.call('ZREM', P..':live', w)
if removed == 1 then exited(now(), 1) end
return removed
"""
)

_STATS = (
    _LIB
    + r"""
local c = conf()
if not c then return {} end
local t = now()
if t >= c.opens then tick(c, t) end
return {string.format('%.3f', t), redis.call('GET', P..':seq') or '0',
        redis.call('GET', P..':front') or '0', redis.call('GET', P..':granted') or '0',
        tostring(redis.call('ZCARD', P..':live')), redis.call('GET', P..':exits') or '0',
        tostring(redis.call('ZCARD', P..':early')), redis.call('GET', P..':opened') or ''}
"""
)


def _client():
    backend = getattr(cache, "_cache", None)
    if not hasattr(backend, "get_client"):
        raise WaitingRoomUnavailable("the waiting room needs Redis (REDIS_URL)")
    return backend.get_client(None, write=True)


_scripts: dict[str, object] = {}


def _run(name: str, source: str, onsale_id: int, *args):
    try:
        client = _client()
        script = _scripts.get(name)
        if script is None:
            script = _scripts[name] = client.register_script(source)
        # EVALSHA on this client (loading the script first where Redis lost it)
        return script(keys=[prefix(onsale_id)], args=list(args), client=client)
    except WaitingRoomUnavailable:
        raise
    except Exception as exc:  # redis' ConnectionError, TimeoutError, ...
        log.warning("waiting room: Redis unavailable: %s", exc)
        raise WaitingRoomUnavailable(str(exc)) from exc


def prefix(onsale_id: int) -> str:
    return cache.make_key(f"onsale:{onsale_id}:q")


def new_waiter_id() -> str:
    return secrets.token_urlsafe(16)


@dataclass(frozen=True)
class Visit:
    """Where a waiter stands. `position` counts from 1 (the next to be admitted) once known."""

    state: str  # early, opening, waiting, admitted
    server_time: float
    opens_at: float = 0.0
    number: int = 0
    front: int = 0
    last_number: int = 0
    paused: bool = False
    rate: int = 0
    admission_ends: float = 0.0
    paced: int = 0  # admissions ended in the measured window
    window: float = 0.0  # seconds measured
    requeued: bool = False
    live: int = 0
    early_count: int = 0

    @property
    def position(self) -> int:
        return max(0, self.number - self.front)

    @property
    def per_minute(self) -> float:
        """Admissions a minute: the onsale's rate, or the measured pace of purchases at 0."""
        if self.rate:
            return float(self.rate)
        if self.window >= 30 and self.paced:
            return self.paced * 60.0 / self.window
        return 0.0

    @property
    def wait_minutes(self) -> float | None:
        """The honest estimate: waiters ahead over the admissions a minute (None: unknown)."""
        if self.state != "waiting" or self.paused:
            return None
        pace = self.per_minute
        return self.position / pace if pace else None


def configure(onsale) -> None:
    """Put an onsale's settings where the scripts read them (the service calls this on save)."""
    _run(
        "configure",
        _CONFIGURE,
        onsale.id,
        f"{onsale.opens_at.timestamp():.3f}",
        int(onsale.admit_per_minute),
        1 if onsale.paused else 0,
        max(1, round(float(onsale.admission_minutes) * 60)),
        option("LIVE_ADMISSIONS"),
        option("KEEP_SECONDS"),
        option("GRACE_SECONDS"),
    )


def open_once(onsale_id: int) -> int:
    """The opening step, safe to call from any number of processes: the early waiters still
    present are shuffled (secrets.SystemRandom) and appended once. A SET NX lock keeps all but
    one process from doing the work; the script's `opened` check makes it happen exactly once
    even if the lock lapsed. Returns how many were appended (-1: already open, -4: another
    process is on it)."""
    client_prefix = prefix(onsale_id)
    try:
        client = _client()
        if client.exists(f"{client_prefix}:opened"):
            return -1
        if not client.set(f"{client_prefix}:opening", "1", nx=True, ex=30):
            return -4
        seconds, micros = client.time()
        keep = option("KEEP_SECONDS")
        early = client.zrangebyscore(
            f"{client_prefix}:early", seconds + micros / 1e6 - keep, "+inf"
        )
    except WaitingRoomUnavailable:
        raise
    except Exception as exc:
        raise WaitingRoomUnavailable(str(exc)) from exc
    order = [w.decode() if isinstance(w, bytes) else w for w in early]
    secrets.SystemRandom().shuffle(order)
    return int(_run("open", _OPEN, onsale_id, *order))


def _visit(onsale_id: int, waiter_id: str) -> list[str]:
    return [
        v.decode() if isinstance(v, bytes) else str(v)
        for v in _run("visit", _VISIT, onsale_id, waiter_id)
    ]


class NoSuchOnsale(Exception):
    pass


def visit(onsale_id: int, waiter_id: str, *, load) -> Visit:
    """Register or refresh the waiter and say where they stand; at opening, open first.

    Redis alone answers; `load()` (the onsale, from the cached selector) is called only when
    Redis has lost the onsale's settings, to put them back."""
    raw = _visit(onsale_id, waiter_id)
    if raw[0] == "noconf":
        onsale = load()
        if onsale is None:
            raise NoSuchOnsale(onsale_id)
        configure(onsale)
        raw = _visit(onsale_id, waiter_id)
    if raw[0] == "opening":
        open_once(onsale_id)
        raw = _visit(onsale_id, waiter_id)
    state = raw[0]
    if state == "early":
        return Visit(
            state="early",
            server_time=float(raw[1]),
            opens_at=float(raw[2]),
            early_count=int(raw[3]),
        )
    if state in ("opening", "noconf"):
        return Visit(state="opening", server_time=float(raw[1]) if len(raw) > 1 else 0.0)
    return Visit(
        state=state,
        server_time=float(raw[1]),
        opens_at=float(raw[2]),
        number=int(raw[3]),
        front=int(raw[4]),
        last_number=int(raw[5] or 0),
        paused=raw[6] == "1",
        rate=int(float(raw[7])),
        admission_ends=float(raw[8]) if raw[8] else 0.0,
        paced=int(raw[9]),
        window=float(raw[10]),
        requeued=raw[11] == "1",
        live=int(raw[12]),
    )


def admission_done(onsale_id: int, waiter_id: str) -> bool:
    """The buyer completed a purchase: their admission ends, the next one comes in (rate 0)."""
    return bool(_run("done", _DONE, onsale_id, waiter_id))


@dataclass(frozen=True)
class Stats:
    server_time: float
    queued: int  # numbers given
    front: int
    admitted: int  # admissions granted so far
    live: int
    exits: int
    early: int
    opened: bool


def stats(onsale) -> Stats | None:
    """Figures for the staff live page: queue length is `queued - front`."""
    raw = _run("stats", _STATS, onsale.id)
    if not raw:
        return None
    raw = [v.decode() if isinstance(v, bytes) else str(v) for v in raw]
    return Stats(
        server_time=float(raw[0]),
        queued=int(raw[1]),
        front=int(raw[2]),
        admitted=int(raw[3]),
        live=int(raw[4]),
        exits=int(raw[5]),
        early=int(raw[6]),
        opened=bool(raw[7]),
    )


def forget(onsale_id: int) -> int:
    """Remove an onsale's waiting room from Redis (a deleted onsale, or tests)."""
    client = _client()
    keys = list(client.scan_iter(match=f"{prefix(onsale_id)}:*", count=1000))
    return client.delete(*keys) if keys else 0
