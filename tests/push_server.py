"""The push server (uvicorn serving ticketing.asgi) as a real subprocess, for the live seat map
tests, and a small blocking Server-Sent Events reader.

The server reads the same settings as the test run, with the test database's name and a cache
key prefix of its own (its channels are named after it): a test that uses it sets the same
prefix (`use(settings)`), so what the test's services publish reaches it.
"""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings as django_settings
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent
START_SECONDS = 60  # a loaded two-core machine takes a while to import Django


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class PushServer:
    port: int
    prefix: str
    process: subprocess.Popen
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def use(self, settings) -> None:
        """Make the test's publishes reach this server: the same key prefix."""
        caches = {name: dict(conf) for name, conf in settings.CACHES.items()}
        caches["default"]["KEY_PREFIX"] = self.prefix
        settings.CACHES = caches

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def start(tmp_dir: Path, redis_url: str | None = None) -> PushServer:
    port = free_port()
    prefix = f"test-push-{uuid.uuid4().hex[:10]}"
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": (
            f"postgres://{db['USER']}{':' + db['PASSWORD'] if db['PASSWORD'] else ''}"
            f"@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
        ),
        "REDIS_URL": redis_url or django_settings.REDIS_URL,
        "CACHE_KEY_PREFIX": prefix,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
    }
    log = tmp_dir / f"push-{port}.log"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "ticketing.asgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-access-log",
        ],
        cwd=ROOT,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    server = PushServer(port, prefix, process, log)
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the push server exited:\n{log.read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return server
        except OSError:
            time.sleep(0.2)
    server.stop()
    raise RuntimeError(f"the push server did not start:\n{log.read_text()}")


@dataclass
class Event:
    id: str | None
    data: str
    at: float


@dataclass
class Listener:
    """One open stream, read in a thread: its status, headers and events as they arrive."""

    status: int
    headers: http.client.HTTPMessage
    body: str = ""
    events: list[Event] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)
    retry: int | None = None
    conn: http.client.HTTPConnection | None = None
    arrived: threading.Condition = field(default_factory=threading.Condition)

    def wait_for(self, predicate, timeout: float = 5.0) -> Event | None:
        deadline = time.monotonic() + timeout
        with self.arrived:
            while True:
                for event in self.events:
                    if predicate(event):
                        return event
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.arrived.wait(left)

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()


def listen(url: str, path: str, last_event_id: str | None = None) -> Listener:
    """Open the stream; events are collected in a thread until `close()`."""
    host, port = url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    headers = {"Accept": "text/event-stream"}
    if last_event_id is not None:
        headers["Last-Event-ID"] = last_event_id
    conn.request("GET", path, headers=headers)
    response = conn.getresponse()
    listener = Listener(response.status, response.msg, conn=conn)  # names in any case
    if response.status != 200:
        listener.body = response.read().decode()
        conn.close()
        return listener

    def read() -> None:
        event_id, data = None, []
        try:
            while True:
                raw = response.fp.readline()
                if not raw:
                    return
                line = raw.decode().rstrip("\n")
                if line == "":
                    if data:
                        with listener.arrived:
                            listener.events.append(
                                Event(event_id, "\n".join(data), time.monotonic())
                            )
                            listener.arrived.notify_all()
                    data = []
                elif line.startswith(":"):
                    listener.comments.append(line[1:].strip())
                elif line.startswith("retry:"):
                    listener.retry = int(line[6:])
                elif line.startswith("id:"):
                    event_id = line[3:].strip()
                elif line.startswith("data:"):
                    data.append(line[5:].strip())
        except (OSError, ValueError, AttributeError):
            return

    threading.Thread(target=read, daemon=True).start()
    return listener
