"""Who used the CPU during a phase: gunicorn's workers, the bench database's PostgreSQL backends,
Redis, the load generator, and everything else on the machine (Linux /proc)."""

from __future__ import annotations

import math
import os
import resource
import threading
import time
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")


def process_cpu(pid: int) -> float | None:
    """User+system CPU seconds used so far by one process, or None if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime


def children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


_NOT_POSTGRES: set[int] = set()  # processes seen that are not PostgreSQL's: not read again


def postgres_backends(dbname: str) -> list[int]:
    """PostgreSQL backends serving `dbname`, by their process title. The meter calls this twice
    a second from the load generator's process, so what was seen not to be PostgreSQL at all is
    not read again (a new backend's title says postgres from its fork on)."""
    needle = f" {dbname} ".encode()
    pids = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        if pid in _NOT_POSTGRES:
            continue
        try:
            cmdline = Path(entry.path, "cmdline").read_bytes()
        except OSError:
            continue
        if cmdline.startswith(b"postgres: ") and needle in cmdline:
            pids.append(pid)
        elif b"postgres" not in cmdline and cmdline:
            _NOT_POSTGRES.add(pid)
    return pids


def machine_jiffies() -> tuple[int, int]:
    """(busy, total) jiffies of the whole machine since boot."""
    fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


def redis_cpu(url: str) -> float:
    import redis

    client = redis.Redis.from_url(url)
    try:
        info = client.info("cpu")
    finally:
        client.close()
    return float(info["used_cpu_sys"]) + float(info["used_cpu_user"])


def own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class CpuMeter:
    """Samples every `interval` seconds in a thread, so processes that come and go during the phase
    (recycled database connections, restarted workers) are counted too."""

    def __init__(self, master_pid: int, dbname: str, redis_url: str, interval: float = 0.5) -> None:
        self.master_pid, self.dbname, self.redis_url, self.interval = (
            master_pid,
            dbname,
            redis_url,
            interval,
        )
        self.first: dict[str, dict[int, float]] = {"workers": {}, "postgres": {}}
        self.last: dict[str, dict[int, float]] = {"workers": {}, "postgres": {}}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="cpu-meter", daemon=True)

    def _sample(self, baseline: bool = False) -> None:
        groups = {"workers": children(self.master_pid), "postgres": postgres_backends(self.dbname)}
        for group, pids in groups.items():
            for pid in pids:
                used = process_cpu(pid)
                if used is None:
                    continue
                # A process first seen after the start began during the phase: count it all.
                self.first[group].setdefault(pid, used if baseline else 0.0)
                self.last[group][pid] = used

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def start(self) -> None:
        self._sample(baseline=True)
        self.redis0, self.own0, self.machine0 = (
            redis_cpu(self.redis_url),
            own_cpu(),
            machine_jiffies(),
        )
        self.t0 = time.monotonic()
        self._thread.start()

    def stop(self) -> dict:
        self._stop.set()
        self._thread.join()
        self._sample()
        seconds = time.monotonic() - self.t0
        used = {
            group: sum(self.last[group][p] - self.first[group][p] for p in self.last[group])
            for group in ("workers", "postgres")
        }
        redis = redis_cpu(self.redis_url) - self.redis0
        loadgen = own_cpu() - self.own0
        busy0, total0 = self.machine0
        busy1, total1 = machine_jiffies()
        busy_s = (busy1 - busy0) / TICK
        ours = used["workers"] + used["postgres"] + redis + loadgen
        return {
            "seconds": round(seconds, 2),
            "gunicorn_workers_cpu_s": round(used["workers"], 2),
            "postgres_cpu_s": round(used["postgres"], 2),
            "redis_cpu_s": round(redis, 2),
            "loadgen_cpu_s": round(loadgen, 2),
            "other_processes_cpu_s": round(max(0.0, busy_s - ours), 2),
            "machine_busy_pct": round(100 * (busy1 - busy0) / (total1 - total0), 1)
            if total1 > total0
            else math.nan,
            "machine_cores": os.cpu_count() or 1,
        }


def request_sums(directory) -> dict[str, tuple[int, float, int]]:
    """What the server's workers measured per kind of request (bench/request_meter.py), added
    up over the workers: kind -> (requests, CPU seconds of the threads that served them, SQL
    statements they sent)."""
    import json

    total: dict[str, list[float]] = {}
    for path in Path(directory).glob("worker-*.json"):
        try:
            sums = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        for kind, (n, cpu, *rest) in sums.items():
            entry = total.setdefault(kind, [0, 0.0, 0])
            entry[0] += n
            entry[1] += cpu
            entry[2] += rest[0] if rest else 0
    return {k: (int(n), cpu, int(st)) for k, (n, cpu, st) in total.items()}


def settled_request_sums(directory) -> dict[str, tuple[int, float, int]]:
    """`request_sums` once the workers have written what they measured (five times a second)."""
    time.sleep(0.5)
    return request_sums(directory)
