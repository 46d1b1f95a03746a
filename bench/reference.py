"""The same-run reference: the bare PostgreSQL hold transaction, run by `pgbench`.

Absolute figures move by a factor of two between machines of the same size here, so the rush's
targets are ratios to what the same database server does, in the same run, with the least work
a hold can be: `BEGIN`; `SELECT` one free seat of a 300-seat screening `FOR UPDATE SKIP LOCKED`;
`UPDATE` it; `INSERT` a hold row; `COMMIT`. 8 clients for 10 seconds, on tables of its own in the
bench database (dropped afterwards, so autovacuum does not clean up after them during the rush).

A seat is free when its hold has expired (`held_until < now()`), holds last one second, and each
transaction picks one of 20 screenings at random: the seats come back faster than 8 clients take
them, so the `SELECT` always finds one, as the claim insert always finds a free or dead claim.

`pgbench` comes with PostgreSQL's client tools: on Debian and Ubuntu
`apt-get install postgresql-client` (it is in /usr/bin).
"""

from __future__ import annotations

import math
import os
import re
import resource
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from .cpu import CpuMeter
from .stats import percentile

INSTALL_HINT = (
    "pgbench not found: it is in PostgreSQL's client tools "
    "(Debian/Ubuntu: sudo apt-get install postgresql-client)"
)
SCREENINGS = 20
SEATS = 300
# A quarter second: at 4,700 tps one second of holds could fill a 300-seat screening, and a
# client that finds no free seat aborts pgbench (seen on a faster machine of this kind).
HOLD_SECONDS = 0.25

SETUP_SQL = f"""
DROP TABLE IF EXISTS bench_ref_hold, bench_ref_seat;
CREATE TABLE bench_ref_seat (
    screening_id integer NOT NULL,
    seat_id integer NOT NULL,
    held_until timestamptz NOT NULL DEFAULT '-infinity',
    PRIMARY KEY (screening_id, seat_id)
);
CREATE TABLE bench_ref_hold (
    id bigserial PRIMARY KEY,
    screening_id integer NOT NULL,
    seat_id integer NOT NULL,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL
);
INSERT INTO bench_ref_seat (screening_id, seat_id)
SELECT s, n FROM generate_series(1, {SCREENINGS}) s, generate_series(1, {SEATS}) n;
ANALYZE bench_ref_seat;
"""

TEARDOWN_SQL = "DROP TABLE IF EXISTS bench_ref_hold, bench_ref_seat;"

SCRIPT = f"""\\set s random(1, {SCREENINGS})
BEGIN;
SELECT seat_id FROM bench_ref_seat WHERE screening_id = :s AND held_until < now() LIMIT 1 FOR UPDATE SKIP LOCKED \\gset
UPDATE bench_ref_seat SET held_until = now() + interval '{HOLD_SECONDS} second' WHERE screening_id = :s AND seat_id = :seat_id;
INSERT INTO bench_ref_hold (screening_id, seat_id, created_at, expires_at) VALUES (:s, :seat_id, now(), now() + interval '{HOLD_SECONDS} second');
COMMIT;
"""


@dataclass
class Reference:
    ok: bool
    clients: int
    seconds: float
    tps: float = math.nan
    transactions: int = 0
    p50: float = math.nan  # seconds
    p99: float = math.nan
    postgres_cpu_ms: float = math.nan  # per transaction, the backends
    pgbench_cpu_ms: float = math.nan  # per transaction, pgbench itself
    other_cpu_s: float = math.nan  # CPU other processes used meanwhile
    problem: str = ""
    output: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        def r(v, k=2):
            return None if isinstance(v, float) and math.isnan(v) else round(v, k)

        return {
            "ok": self.ok,
            "clients": self.clients,
            "seconds": self.seconds,
            "tps": r(self.tps, 1),
            "transactions": self.transactions,
            "p50_ms": r(self.p50 * 1000),
            "p99_ms": r(self.p99 * 1000),
            "postgres_cpu_ms_per_tx": r(self.postgres_cpu_ms, 3),
            "pgbench_cpu_ms_per_tx": r(self.pgbench_cpu_ms, 3),
            "other_processes_cpu_s": r(self.other_cpu_s),
            "problem": self.problem,
        }


def _pg_args(database_url: str) -> tuple[list[str], dict[str, str]]:
    parts = urlsplit(database_url)
    args = [
        "-h",
        parts.hostname or "127.0.0.1",
        "-p",
        str(parts.port or 5432),
        "-U",
        parts.username or "postgres",
    ]
    env = dict(os.environ)
    if parts.password:
        env["PGPASSWORD"] = parts.password
    return [*args, parts.path.lstrip("/")], env


def _execute(database_url: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(sql)


def _latencies(log_dir: Path) -> list[float]:
    """Per-transaction latencies (seconds) from pgbench's --log files: the third field, in us."""
    out = []
    for path in log_dir.glob("pgbench_log*"):
        for line in path.read_text().splitlines():
            fields = line.split()
            if len(fields) >= 3 and fields[2].isdigit():
                out.append(int(fields[2]) / 1e6)
    return out


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(
    *, database_url: str, dbname: str, redis_url: str, clients: int = 8, seconds: float = 10
) -> Reference:
    """Create the reference's tables, run pgbench on them, drop them; never raises for pgbench's
    own failures (the report says what went wrong and prints no ratios)."""
    ref = Reference(ok=False, clients=clients, seconds=seconds)
    binary = shutil.which("pgbench")
    if binary is None:
        ref.problem = INSTALL_HINT
        return ref
    target, env = _pg_args(database_url)
    _execute(database_url, SETUP_SQL)
    try:
        with tempfile.TemporaryDirectory(prefix="marquee-pgbench-") as tmp:
            script = Path(tmp, "hold.sql")
            script.write_text(SCRIPT)
            cmd = [
                binary,
                "--no-vacuum",  # not pgbench's own tables
                "--client",
                str(clients),
                "--jobs",
                str(min(clients, os.cpu_count() or 1)),
                "--time",
                str(int(seconds)),
                "--file",
                str(script),
                "--log",
                "--log-prefix",
                str(Path(tmp, "pgbench_log")),
                *target,
            ]
            meter = CpuMeter(os.getpid(), dbname, redis_url, interval=0.1)
            meter.start()
            children0 = _children_cpu()
            done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
            cpu = meter.stop()
            pgbench_cpu = _children_cpu() - children0
            ref.output = (done.stdout + done.stderr).splitlines()
            latencies = sorted(_latencies(Path(tmp)))
    finally:
        _execute(database_url, TEARDOWN_SQL)

    text = done.stdout
    tps = re.search(r"^tps = ([\d.]+)", text, re.M)
    processed = re.search(r"number of transactions actually processed: (\d+)", text)
    failed = re.search(r"number of failed transactions: (\d+)", text)
    if done.returncode != 0 or tps is None or processed is None:
        tail = " | ".join(ref.output[-3:])
        ref.problem = f"pgbench exited with {done.returncode}: {tail}"
        return ref
    ref.tps = float(tps.group(1))
    ref.transactions = int(processed.group(1))
    if failed and int(failed.group(1)):
        ref.problem = f"{failed.group(1)} transactions failed"
        return ref
    if latencies:
        ref.p50 = percentile(latencies, 50)
        ref.p99 = percentile(latencies, 99)
    if ref.transactions:
        ref.postgres_cpu_ms = cpu["postgres_cpu_s"] / ref.transactions * 1000
        ref.pgbench_cpu_ms = pgbench_cpu / ref.transactions * 1000
        # The meter counted this process's children (pgbench) as "workers": they are ours.
        ref.other_cpu_s = max(
            0.0,
            cpu["other_processes_cpu_s"] - max(0.0, pgbench_cpu - cpu["gunicorn_workers_cpu_s"]),
        )
    ref.ok = True
    return ref
