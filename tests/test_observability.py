"""Request ids, logs, metrics, error reporting and readiness (ticketing/observability,
ticketing/health.py). The worker and beat heartbeats with real processes: tests/worker."""

from __future__ import annotations

import gzip
import io
import json
import logging
import logging.config
import os
import subprocess
import sys
import threading
import uuid
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django.test import Client
from django.utils import timezone
from prometheus_client import REGISTRY

from payments.models import Payment
from payments.services import payment_start
from tests import factories
from tests.api.support import hold, order
from tests.payments import flow
from tests.storefront.support import hold_seats
from tests.worker.conftest import process_env
from ticketing.api import throttling
from ticketing.celery import app
from ticketing.inventory import holds
from ticketing.inventory.models import SeatClaim
from ticketing.observability import celery_hooks, heartbeats, request_id
from ticketing.observability.logs import log_format, logging_config
from ticketing.observability.models import Heartbeat
from ticketing.outbox.services import message_add

ROOT = Path(__file__).resolve().parent.parent


def python(script: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    """`script` in a Python process of its own, with the test suite's settings."""
    env = {"DJANGO_SETTINGS_MODULE": "tests.settings", **env}
    return subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=60,
        text=True,
        capture_output=True,
    )


def sample(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


# ---- request id ------------------------------------------------------------------------------
def test_every_response_carries_a_request_id_made_here(client):
    first = client.get("/healthz")["X-Request-ID"]
    second = client.get("/healthz")["X-Request-ID"]
    assert len(first) == 32 and int(first, 16) >= 0
    assert first != second


def test_an_incoming_request_id_is_ignored_unless_a_proxy_is_trusted_to_set_it(client, settings):
    assert client.get("/healthz", HTTP_X_REQUEST_ID="abc-123")["X-Request-ID"] != "abc-123"

    settings.MARQUEE_OBSERVABILITY = {**settings.MARQUEE_OBSERVABILITY, "TRUST_REQUEST_ID": True}
    assert client.get("/healthz", HTTP_X_REQUEST_ID="abc-123")["X-Request-ID"] == "abc-123"


@pytest.mark.parametrize("forged", ["two words", "x" * 129, "id\nFAKE log line", "<script>"])
def test_a_trusted_request_id_that_does_not_look_like_one_is_replaced(client, settings, forged):
    settings.MARQUEE_OBSERVABILITY = {**settings.MARQUEE_OBSERVABILITY, "TRUST_REQUEST_ID": True}
    answered = client.get("/healthz", HTTP_X_REQUEST_ID=forged)["X-Request-ID"]
    assert answered != forged and request_id.well_formed(answered)


# ---- logs ------------------------------------------------------------------------------------
def test_logs_are_plain_in_development_and_json_otherwise_unless_asked():
    assert log_format(debug=True) == "plain"
    assert log_format(debug=False) == "json"
    assert log_format(debug=True, requested="JSON") == "json"
    assert log_format(debug=False, requested="plain") == "plain"
    with pytest.raises(ValueError, match="MARQUEE_LOG_FORMAT"):
        log_format(debug=False, requested="xml")


@pytest.fixture
def log_lines(settings):
    """Logging configured as in production (JSON), written to a buffer; restored afterwards."""
    buffer = io.StringIO()
    config = logging_config(fmt="json")
    config["handlers"]["console"]["stream"] = buffer
    logging.config.dictConfig(config)
    yield lambda: [json.loads(line) for line in buffer.getvalue().splitlines()]
    logging.config.dictConfig(settings.LOGGING)


def test_a_log_line_written_during_a_request_is_json_with_the_request_id(client, log_lines):
    response = client.get("/metrics", REMOTE_ADDR="192.0.2.7")  # refused: Django logs a warning

    lines = [line for line in log_lines() if line["logger"] == "django.request"]
    assert lines, log_lines()
    assert lines[0]["request_id"] == response["X-Request-ID"]
    assert lines[0]["level"] == "WARNING" and "timestamp" in lines[0]


def test_a_log_line_outside_a_request_has_a_placeholder_id(log_lines):
    logging.getLogger("ticketing.test").info("nothing to do with a request")
    (line,) = log_lines()
    assert line["request_id"] == "-" and line["message"] == "nothing to do with a request"


def test_a_log_line_inside_a_task_names_the_task(log_lines):
    from ticketing.observability.tasks import heartbeat

    @app.task(name="tests.observability.log_something")
    def log_something():
        logging.getLogger("ticketing.test").info("in a task")

    log_something.apply(task_id="t-1")
    (line,) = [line for line in log_lines() if line["message"] == "in a task"]
    assert line["task_id"] == "t-1" and line["task"] == "tests.observability.log_something"
    assert heartbeat.name == celery_hooks.HEARTBEAT_TASK


# ---- the request id in Celery tasks ----------------------------------------------------------
def _published_headers(**bound) -> dict:
    """Publish a task to a queue of this test's own on the real broker; the message's headers."""
    queue = f"test-observability-{uuid.uuid4().hex[:8]}"
    token = request_id.bind(bound.get("rid"))
    app.conf.task_always_eager = False  # send_task always publishes; say so to Celery
    try:
        app.send_task(celery_hooks.HEARTBEAT_TASK, queue=queue)
    finally:
        app.conf.task_always_eager = True
        request_id.unbind(token)
    with app.connection_for_read() as conn:
        inbox = conn.SimpleQueue(queue)
        try:
            message = inbox.get(timeout=5)
            message.ack()
            return message.headers
        finally:
            inbox.queue.delete()
            inbox.close()


def test_a_task_queued_during_a_request_carries_its_request_id():
    assert _published_headers(rid="req-42")[celery_hooks.HEADER] == "req-42"


def test_a_task_queued_outside_a_request_carries_none():
    assert celery_hooks.HEADER not in _published_headers()


def test_the_worker_reads_the_request_id_from_the_headers_of_the_task():
    task = app.tasks[celery_hooks.HEARTBEAT_TASK]
    task.push_request(request_id="req-7")
    try:
        assert celery_hooks.task_request_id(task) == "req-7"
    finally:
        task.pop_request()
    task.push_request(headers={"request_id": "bad id\n"})
    try:
        assert celery_hooks.task_request_id(task) is None
    finally:
        task.pop_request()


# ---- metrics: counting -----------------------------------------------------------------------
def test_holds_orders_and_payments_are_counted_once_committed(
    api, screening, django_capture_on_commit_callbacks
):
    before = {
        name: sample(name)
        for name in (
            "marquee_holds_created_total",
            "marquee_orders_created_total",
            "marquee_orders_paid_total",
        )
    }
    conflicts = sample("marquee_hold_conflicts_total", surface="api")
    seats = factories.seats(screening.auditorium, "A1", "A2")
    with django_capture_on_commit_callbacks(execute=True):
        held = hold(api, screening, *seats)
        assert held.status_code == 201, held.content
        assert hold(api, screening, *seats).status_code == 409
        made = order(api, held.json()["id"], [(s, "adult") for s in seats])
        assert made.status_code == 201, made.content
    with django_capture_on_commit_callbacks(execute=True):
        started = payment_start(
            order_id=made.json()["id"],
            provider_name="sandbox",
            return_url="http://testserver/",
            actor="test",
        )
        assert flow.receive(flow.event(started)).status == 200
        assert flow.receive(flow.event(started)).status == 200  # a repeat pays nothing twice
    assert Payment.objects.get(pk=started.pk).status == "succeeded"

    assert sample("marquee_holds_created_total") == before["marquee_holds_created_total"] + 1
    assert sample("marquee_orders_created_total") == before["marquee_orders_created_total"] + 1
    assert sample("marquee_orders_paid_total") == before["marquee_orders_paid_total"] + 1
    assert sample("marquee_hold_conflicts_total", surface="api") == conflicts + 1


def test_a_hold_that_is_rolled_back_is_not_counted(screening, django_capture_on_commit_callbacks):
    before = sample("marquee_holds_created_total")
    seats = factories.seats(screening.auditorium, "B1")
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        holds.hold_create(screening_id=screening.pk, seat_ids=seats, buyer_key="k")
        raise RuntimeError("the sale failed after the hold")
    assert sample("marquee_holds_created_total") == before


def test_a_storefront_hold_refused_with_409_is_counted_as_a_site_conflict(screening):
    holds.hold_create(
        screening_id=screening.pk,
        seat_ids=factories.seats(screening.auditorium, "C1"),
        buyer_key="someone-else",
    )
    before = sample("marquee_hold_conflicts_total", surface="site")
    assert hold_seats(Client(), screening, "C1").status_code == 409
    assert sample("marquee_hold_conflicts_total", surface="site") == before + 1


def test_a_409_that_is_not_about_a_hold_is_not_a_hold_conflict(api, screening):
    before = sample("marquee_hold_conflicts_total", surface="api")
    seats = factories.seats(screening.auditorium, "D1")
    held = hold(api, screening, *seats).json()
    assert api.delete(f"/api/v1/holds/{held['id']}/").status_code in (200, 204)
    assert order(api, held["id"], [(seats[0], "adult")]).status_code in (409, 410)
    assert sample("marquee_hold_conflicts_total", surface="api") == before


def test_answers_429_are_counted(anon_api, screening, monkeypatch, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"throttle-{uuid.uuid4()}",
        }
    }
    monkeypatch.setattr(throttling.AnonRateThrottle, "THROTTLE_RATES", {"anon": "1/min"})
    before = sample("marquee_throttled_responses_total", surface="api")
    assert anon_api.get("/api/v1/films/").status_code == 200
    assert anon_api.get("/api/v1/films/").status_code == 429
    assert sample("marquee_throttled_responses_total", surface="api") == before + 1


# ---- metrics: the endpoint -------------------------------------------------------------------
def scrape(client, **extra) -> dict[str, float]:
    response = client.get("/metrics", **extra)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain")
    values = {}
    for line in response.content.decode().splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            values[name] = float(value)
    return values


def test_metrics_are_served_to_this_machine_without_a_token(client, db):
    assert "marquee_holds_created_total" in scrape(client, REMOTE_ADDR="127.0.0.1")
    assert "marquee_holds_created_total" in scrape(client, REMOTE_ADDR="::1")
    assert client.get("/metrics", REMOTE_ADDR="192.0.2.7").status_code == 403


def test_metrics_are_refused_to_a_request_a_local_proxy_passed_on(client, db):
    response = client.get("/metrics", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="192.0.2.7")
    assert response.status_code == 403


def test_with_a_token_metrics_need_it_from_anywhere(client, settings, db):
    settings.MARQUEE_OBSERVABILITY = {**settings.MARQUEE_OBSERVABILITY, "METRICS_TOKEN": "s3cret"}
    refused = client.get("/metrics", REMOTE_ADDR="127.0.0.1")
    assert refused.status_code == 401 and refused["WWW-Authenticate"].startswith("Bearer")
    wrong = client.get("/metrics", HTTP_AUTHORIZATION="Bearer guess")
    assert wrong.status_code == 401
    assert scrape(client, REMOTE_ADDR="192.0.2.7", HTTP_AUTHORIZATION="Bearer s3cret")


def test_the_outbox_backlog_and_the_sweep_lag_are_read_at_scrape_time(client, screening):
    empty = scrape(client)
    assert empty['marquee_outbox_messages{status="pending"}'] == 0
    assert empty["marquee_sweep_lag_seconds"] == 0

    message_add(topic="test.topic", dedupe_key="metrics-1", payload={})
    holds.hold_create(
        screening_id=screening.pk,
        seat_ids=factories.seats(screening.auditorium, "E1", "E2"),
        buyer_key="k",
    )
    SeatClaim.objects.update(expires_at=timezone.now() - timedelta(minutes=2))
    heartbeats.heartbeat_record(component="sweep", now=timezone.now() - timedelta(seconds=90))

    values = scrape(client)
    assert values['marquee_outbox_messages{status="pending"}'] == 1
    assert values["marquee_dead_claims"] == 2
    assert 120 <= values["marquee_sweep_lag_seconds"] < 180
    assert 90 <= values['marquee_heartbeat_age_seconds{component="sweep"}'] < 150


def test_counts_of_several_processes_are_added_up_in_multiprocess_mode(tmp_path, db):
    """What gunicorn's workers do: each counts in its own file of PROMETHEUS_MULTIPROC_DIR, and
    the process that answers the scrape adds them up."""
    count = "from ticketing.observability import metrics; metrics.HOLDS_CREATED.inc()"
    for _ in range(2):
        python(count, {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)})
    render = (
        "import django; django.setup()\n"
        "from prometheus_client import generate_latest\n"
        "from ticketing.observability import metrics\n"
        "print(generate_latest(metrics._registry()).decode())"
    )
    out = python(render, process_env(PROMETHEUS_MULTIPROC_DIR=str(tmp_path))).stdout
    assert "marquee_holds_created_total 2.0" in out, out
    assert "marquee_outbox_messages" in out  # the database gauges are there too


# ---- readiness -------------------------------------------------------------------------------
@pytest.fixture
def with_worker():
    """Tasks go to a worker (as in production) rather than running in-process."""
    app.conf.task_always_eager = False
    yield
    app.conf.task_always_eager = True


def test_readiness_with_tasks_in_process_needs_no_worker_or_beat(client, db):
    response = client.get("/readyz")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["ready"] is True
    assert body["database"] == "ok" and body["migrations"] == "ok"
    assert body["worker"]["status"].startswith("not used")


def test_readiness_fails_until_the_worker_and_beat_have_been_seen(client, db, with_worker):
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["worker"] == {"status": "never seen"}

    heartbeats.heartbeat_record(component="worker")
    heartbeats.heartbeat_record(component="beat")
    response = client.get("/readyz")
    assert response.status_code == 200, response.json()
    assert response.json()["worker"]["status"] == "ok"


def test_readiness_fails_when_a_heartbeat_is_older_than_the_intervals_allowed(
    client, db, with_worker, settings
):
    limit = heartbeats.max_age_seconds()
    assert limit == 3 * settings.MARQUEE_OBSERVABILITY["HEARTBEAT_INTERVAL_SECONDS"]
    heartbeats.heartbeat_record(component="worker")
    heartbeats.heartbeat_record(component="beat", now=timezone.now() - timedelta(seconds=limit + 5))
    body = client.get("/readyz").json()
    assert body["ready"] is False
    assert body["worker"]["status"] == "ok"
    assert body["beat"]["status"].startswith("stale")


def test_a_heartbeat_is_one_row_per_component_moved_forward(db):
    earlier = timezone.now() - timedelta(minutes=5)
    heartbeats.heartbeat_record(component="worker", now=earlier)
    heartbeats.heartbeat_record(component="worker")
    row = Heartbeat.objects.get()
    assert row.beat_at > earlier and row.host


def test_check_ready_exits_non_zero_for_a_stale_component_only(db, with_worker, capsys):
    heartbeats.heartbeat_record(component="worker")
    call_command("check_ready", "worker")
    assert json.loads(capsys.readouterr().out)["ready"] is True
    with pytest.raises(CommandError, match="not ready"):
        call_command("check_ready", "beat")
    with pytest.raises(CommandError, match="unknown"):
        call_command("check_ready", "scheduler")


# ---- error reporting -------------------------------------------------------------------------
class _Collector(BaseHTTPRequestHandler):
    received: list[bytes] = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        self.received.append(body)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def _sentry_process(env_extra: dict) -> subprocess.CompletedProcess:
    script = (
        "import django, json, sentry_sdk; django.setup()\n"
        "from ticketing.observability import request_id\n"
        "client = sentry_sdk.get_client()\n"
        "print(json.dumps({'active': client.is_active(),\n"
        "  'integrations': sorted(getattr(client, 'integrations', {}) or {})}))\n"
        "request_id.bind('req-sentry')\n"
        "sentry_sdk.capture_message('smoke from a test')\n"
        "sentry_sdk.flush(5)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "SENTRY_DSN"}
    return python(script, {**env, **env_extra})


def test_without_a_dsn_nothing_is_reported():
    out = json.loads(_sentry_process({}).stdout.splitlines()[-1])
    assert out["active"] is False


def test_with_a_dsn_errors_go_to_sentry_with_the_request_id():
    _Collector.received = []
    server = HTTPServer(("127.0.0.1", 0), _Collector)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        dsn = f"http://public@127.0.0.1:{server.server_port}/1"
        out = json.loads(_sentry_process({"SENTRY_DSN": dsn}).stdout.splitlines()[-1])
    finally:
        server.shutdown()
    assert out["active"] is True
    assert {"django", "celery"} <= set(out["integrations"])
    envelope = b"\n".join(_Collector.received)
    assert b"smoke from a test" in envelope
    assert b'"request_id":"req-sentry"' in envelope.replace(b" ", b"")
