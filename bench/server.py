"""Gunicorn, configured by the repository's gunicorn.conf.py, on a free port of 127.0.0.1."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
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
            raise RuntimeError(f"gunicorn exited with {proc.returncode} before it was healthy")
        try:
            with urllib.request.urlopen(f"{base_url}/healthz", timeout=2) as resp:  # noqa: S310 - loopback
                if resp.status == 200:
                    return
                last = f"HTTP {resp.status}"
        except (urllib.error.URLError, OSError) as exc:
            last = str(exc)
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not become healthy in {timeout:.0f}s: {last}")


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
) -> Iterator[tuple[str, subprocess.Popen]]:
    """Start gunicorn, wait for /healthz, yield (base URL, process); stop it on the way out.

    The configuration is gunicorn.conf.py's, through bench/gunicorn_conf.py, whose workers
    write the CPU per kind of request into `cpu_dir` when one is given."""
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
    cmd = [
        sys.executable,
        "-m",
        "gunicorn",
        "--config",
        str(ROOT / "bench" / "gunicorn_conf.py"),
        "--no-control-socket",  # several gunicorns on one machine must not share $HOME's socket
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
