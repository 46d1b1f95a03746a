"""The heartbeats readiness reads, written by a real worker and a real beat, and the request id
a task was queued with in the worker's own log lines."""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time
import uuid

import pytest
from django.test import Client

from ticketing.observability import request_id
from ticketing.observability.models import Heartbeat
from ticketing.observability.tasks import heartbeat

from .conftest import ROOT, process_env, stop_and_show, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.xdist_group("celery-worker")]


def log_line(proc: subprocess.Popen, predicate, timeout: float = 20.0) -> dict | None:
    """The first JSON log line of the process that `predicate` accepts, read as it comes."""
    fd = proc.stdout.fileno()
    pending = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if not ready:
            continue
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        pending += chunk
        *lines, pending = pending.split(b"\n")
        for raw in lines:
            try:
                line = json.loads(raw)
            except ValueError:
                continue
            if predicate(line):
                return line
    return None


def test_a_task_runs_in_the_worker_with_the_request_id_it_was_queued_with(live_worker):
    rid = f"req-{uuid.uuid4().hex[:12]}"
    token = request_id.bind(rid)
    try:
        heartbeat.delay()
    finally:
        request_id.unbind(token)

    line = log_line(
        live_worker,
        lambda line: line.get("request_id") == rid and "succeeded" in line.get("message", ""),
    )
    assert line is not None, "no log line of the worker carried the request id"
    assert line["task"] == heartbeat.name and line["level"] == "INFO"


def test_the_worker_records_its_heartbeat_when_it_runs_the_heartbeat_task(live_worker):
    Heartbeat.objects.all().delete()
    heartbeat.delay()
    assert wait_for(lambda: Heartbeat.objects.filter(component="worker").exists())


@pytest.fixture
def beat(live_worker, tmp_path):
    """`celery beat` publishing the heartbeat every second to this run's queue."""
    env = process_env(MARQUEE_HEARTBEAT_INTERVAL="1")
    proc = subprocess.Popen(
        [
            *(sys.executable, "-m", "celery", "-A", "ticketing", "beat", "-l", "INFO"),
            f"--schedule={tmp_path / 'schedule'}",
            f"--pidfile={tmp_path / 'beat.pid'}",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    yield proc
    stop_and_show(proc, "beat", 4000)


def test_with_beat_and_a_worker_running_the_shape_is_ready(beat):
    Heartbeat.objects.all().delete()  # the worker's start-up heartbeat: wait for a task's

    def both_seen():
        return set(Heartbeat.objects.values_list("component", flat=True)) >= {"beat", "worker"}

    assert wait_for(both_seen, timeout=30), list(Heartbeat.objects.values())
    response = Client().get("/readyz")
    assert response.status_code == 200, response.json()
    assert response.json()["beat"]["status"] == "ok"
