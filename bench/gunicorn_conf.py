"""The repository's gunicorn.conf.py plus a meter of the CPU each kind of request costs.

`make bench` starts gunicorn with this file. Everything of gunicorn.conf.py applies unchanged;
on top, each worker adds up the CPU time of the thread that served a request (from just before
gunicorn parses it into WSGI to just after the answer is written) by kind (seat map, hold,
order, other), and a thread of the worker writes the sums to `$BENCH_CPU_DIR/worker-<pid>.json`
five times a second, so the bench reads them between phases without asking the server.
What the workers spend outside requests (accepting connections, reading keep-alive sockets,
the gthread loop) is the rest of their CPU: the bench prints it as "outside requests".
"""

from __future__ import annotations

import json
import os
import re
import threading
import time

_REPO_CONF = os.path.join(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "gunicorn.conf.py"
)
with open(_REPO_CONF) as _f:
    _namespace = {"__file__": _REPO_CONF, "__name__": "gunicorn_conf"}
    exec(compile(_f.read(), _REPO_CONF, "exec"), _namespace)  # noqa: S102 - our own config file
globals().update({k: v for k, v in _namespace.items() if not k.startswith("__")})

_SEAT_MAP = re.compile(r"^/api/v1/screenings/\d+/seats/$")
_local = threading.local()
_sums: dict[str, list[float]] = {}  # kind -> [requests, CPU seconds]
_lock = threading.Lock()


def kind_of(method: str, path: str) -> str:
    if method == "GET" and _SEAT_MAP.match(path):
        return "seatmap"
    if method == "POST" and path == "/api/v1/holds/":
        return "hold"
    if method == "POST" and path == "/api/v1/orders/":
        return "order"
    return "other"


def pre_request(worker, req):
    _local.started = time.thread_time()


def post_request(worker, req, environ, resp):
    started = getattr(_local, "started", None)
    if started is None:
        return
    used = time.thread_time() - started
    kind = kind_of(req.method, req.path)
    with _lock:
        entry = _sums.setdefault(kind, [0, 0.0])
        entry[0] += 1
        entry[1] += used


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


def post_worker_init(worker):
    directory = os.environ.get("BENCH_CPU_DIR")
    if directory:
        threading.Thread(
            target=_write_sums, args=(directory,), name="bench-cpu", daemon=True
        ).start()
