"""The CPU each kind of request costs the server, summed per worker process.

Both servers the bench can start use it: gunicorn through bench/gunicorn_conf.py's request hooks,
Granian through bench/granian_app.py, a WSGI wrapper around the project's application. Each
worker adds up the CPU time of the thread that served a request by kind (seat map, hold, order,
other) and the SQL statements its requests sent (every statement, BEGIN and COMMIT included,
counted by an execute wrapper on each new database connection); a thread of the worker writes
the sums to `$BENCH_CPU_DIR/worker-<pid>.json` five times a second, so the bench reads them
between phases without asking the server (bench/cpu.py's `request_sums`).
"""

from __future__ import annotations

import json
import os
import re
import threading
import time

_SEAT_MAP = re.compile(r"^/api/v1/screenings/\d+/seats/$")
_sums: dict[str, list[float]] = {}  # kind -> [requests, CPU seconds, SQL statements]
_lock = threading.Lock()
_writer_started = False
_local = threading.local()


def kind_of(method: str, path: str) -> str:
    if method == "GET" and _SEAT_MAP.match(path):
        return "seatmap"
    if method == "POST" and path == "/api/v1/holds/":
        return "hold"
    if method == "POST" and path == "/api/v1/orders/":
        return "order"
    return "other"


def begin() -> None:
    """A request starts on this thread: its CPU and statements are counted from here."""
    _local.statements = 0
    _local.started = time.thread_time()


def end(method: str, path: str) -> None:
    """The request begun on this thread is answered: add it to its kind's sums."""
    started = getattr(_local, "started", None)
    if started is None:
        return
    cpu_seconds = time.thread_time() - started
    statements = getattr(_local, "statements", 0)
    _local.started = None
    kind = kind_of(method, path)
    with _lock:
        entry = _sums.setdefault(kind, [0, 0.0, 0])
        entry[0] += 1
        entry[1] += cpu_seconds
        entry[2] += statements


def _count_statement(execute, sql, params, many, context):
    _local.statements = getattr(_local, "statements", 0) + 1
    return execute(sql, params, many, context)


def _on_connection(sender, connection, **kwargs) -> None:
    if _count_statement not in connection.execute_wrappers:
        connection.execute_wrappers.append(_count_statement)


def _write_sums(directory: str) -> None:
    path = os.path.join(directory, f"worker-{os.getpid()}.json")
    while True:
        time.sleep(0.2)
        with _lock:
            body = json.dumps({k: list(v) for k, v in _sums.items()})
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            f.write(body)
        os.replace(tmp, path)


def start_writer() -> None:
    """Start this process's writer once, if the bench asked for the sums ($BENCH_CPU_DIR), and
    count the statements of every database connection the process opens from now on."""
    global _writer_started
    directory = os.environ.get("BENCH_CPU_DIR")
    with _lock:
        if _writer_started or not directory:
            return
        _writer_started = True
    from django.db.backends.signals import connection_created

    connection_created.connect(_on_connection, weak=False)
    threading.Thread(target=_write_sums, args=(directory,), name="bench-cpu", daemon=True).start()
