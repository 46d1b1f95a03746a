"""The site's WSGI server on a free port of 127.0.0.1: gunicorn, configured by the repository's
gunicorn.conf.py (the default, as in production), or Granian (`--server granian`), for measuring
the two side by side."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def wait_healthy(base_url: str, proc: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode} before it was healthy")
        try:
            with urllib.request.urlopen(f"{base_url}/healthz", timeout=2) as resp:  # noqa: S310 - loopback
                if resp.status == 200:
                    return
                last = f"HTTP {resp.status}"
        except (urllib.error.URLError, OSError) as exc:
            last = str(exc)
        time.sleep(0.2)
    raise RuntimeError(f"the server did not become healthy in {timeout:.0f}s: {last}")


@contextlib.contextmanager
def running(
    *,
    env: dict[str, str],
    log_path: Path,
    workers: int | None,
    threads: int | None,
    worker_class: str | None,
    port: int | None = None,
    cpu_dir: Path | None = None,
    kind: str = "gunicorn",
) -> Iterator[tuple[str, subprocess.Popen]]:
    """Start the server, wait for /healthz, yield (base URL, process); stop it on the way out.

    gunicorn's configuration is gunicorn.conf.py's, through bench/gunicorn_conf.py; Granian
    serves bench/granian_app.py with `workers` processes of `threads` blocking threads. Either
    way the workers write the CPU per kind of request into `cpu_dir` when one is given."""
    port = port or free_port()
    server_env = dict(os.environ)
    server_env.update(env)
    server_env["GUNICORN_BIND"] = f"{HOST}:{port}"
    if cpu_dir is not None:
        server_env["BENCH_CPU_DIR"] = str(cpu_dir)
    for name, value in (
        ("GUNICORN_WORKERS", workers),
        ("GUNICORN_THREADS", threads),
        ("GUNICORN_WORKER_CLASS", worker_class),
    ):
        if value:
            server_env[name] = str(value)
    metrics_dir = None
    if kind == "granian":
        cmd = granian_command(port=port, workers=workers, threads=threads)
        # gunicorn.conf.py's on_starting does this for gunicorn: the workers' metrics added up.
        if not server_env.get("PROMETHEUS_MULTIPROC_DIR"):
            metrics_dir = tempfile.mkdtemp(prefix="marquee-bench-metrics-")
            server_env["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    else:
        cmd = [
            sys.executable,
            "-m",
            "gunicorn",
            "--config",
            str(ROOT / "bench" / "gunicorn_conf.py"),
            "--no-control-socket",  # several gunicorns on one machine must not share $HOME's
        ]
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            cmd,
            cwd=ROOT,
            env=server_env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            base_url = f"http://{HOST}:{port}"
            wait_healthy(base_url, proc)
            yield base_url, proc
        finally:
            stop(proc)
            if metrics_dir is not None:
                shutil.rmtree(metrics_dir, ignore_errors=True)


def granian_sizes(workers: int | None, threads: int | None) -> tuple[int, int]:
    """gunicorn.conf.py's default sizes (2 processes per CPU, 2 threads each) unless told."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return workers or 2 * (cpus or 1), threads or 2


def granian_command(*, port: int, workers: int | None, threads: int | None) -> list[str]:
    """Granian's WSGI server, HTTP/1.1, one Rust runtime thread per worker."""
    workers, threads = granian_sizes(workers, threads)
    return [
        sys.executable,
        "-m",
        "granian",
        "--interface",
        "wsgi",
        "--host",
        HOST,
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--blocking-threads",
        str(threads),
        "--runtime-threads",
        "1",
        "--no-ws",
        "--http",
        "1",
        "bench.granian_app:application",
    ]


def stop(proc: subprocess.Popen, timeout: float = 20.0) -> None:
    """SIGTERM the master (graceful), then SIGKILL its process group if it lingers."""
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # the group we started, and only it
        proc.wait(timeout=5)
