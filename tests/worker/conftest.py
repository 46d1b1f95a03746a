"""A real Celery worker process on the real Redis broker, against this test's database."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from ticketing.celery import app

ROOT = Path(__file__).resolve().parents[2]


def _reset_broker_pools() -> None:
    """Forget this app's pooled broker connections, so a changed broker_url takes effect.
    (kombu keeps one pool per broker address, so the real broker's pool survives.)"""
    app._pool = None
    app.amqp._producer_pool = None


def sent_messages(folder: Path) -> list[str]:
    """The messages the worker's file email backend has finished writing. The backend creates
    its file when it opens and writes a line of 79 dashes after each message: a file read
    before that is a message still being written, not an empty one."""
    done = "-" * 79
    return [text for p in sorted(folder.glob("*.log")) if done in (text := p.read_text())]


def wait_for(predicate, timeout: float = 20.0, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return predicate()


@pytest.fixture(scope="module")
def mailbox(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("mail")


@pytest.fixture(autouse=True)
def _empty_mailbox(mailbox):
    for old in mailbox.glob("*"):
        old.unlink()


@pytest.fixture
def live_worker(_worker_process, transactional_db):
    """A real worker, consuming this run's queue, for a test whose data it must see."""
    app.conf.task_always_eager = False
    yield _worker_process
    app.conf.task_always_eager = True


def process_env(**extra: str) -> dict[str, str]:
    """The environment of a process this test starts (a worker, beat): the test database, the
    test broker and this run's queue, tasks sent to a worker."""
    db = connection.settings_dict
    return {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "CELERY_QUEUE": app.conf.task_default_queue,
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "DATABASE_CONN_MAX_AGE": "0",
        **extra,
    }


@pytest.fixture(scope="module")
def _worker_process(django_db_setup, django_db_blocker, mailbox):
    """Start `celery worker` (solo pool) on the test database and the test broker, once."""
    _reset_broker_pools()
    app.control.purge()
    env = process_env(
        EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
        EMAIL_FILE_PATH=str(mailbox),
    )
    hostname = f"test-{os.getpid()}@%h"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "ticketing",
            "worker",
            "--pool=solo",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-n",
            hostname,
            "-l",
            "INFO",
            "-Q",
            app.conf.task_default_queue,
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        ready = wait_for(
            lambda: app.control.ping(
                destination=[hostname.replace("%h", socket.gethostname())], timeout=0.5
            ),
            timeout=30,
        )
        assert ready, "the Celery worker did not come up"
        yield proc
    finally:
        stop_and_show(proc, "worker", 6000)
        _reset_broker_pools()


def stop_and_show(proc: subprocess.Popen, name: str, tail: int) -> None:
    """Stop a process this test started and print the end of what it wrote."""
    proc.terminate()
    try:
        output, _ = proc.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        output, _ = proc.communicate()
    if isinstance(output, bytes):
        output = output.decode(errors="replace")
    print(f"---- {name} log ----\n" + (output or "")[-tail:])
