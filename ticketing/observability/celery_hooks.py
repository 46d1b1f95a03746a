"""Celery signal handlers: the request id travels in a task's headers, Celery logs through
Django's LOGGING, and the beat, the worker and the sweep write their heartbeats.

Connected by ticketing.celery, so they are live in the web processes (publishing), the worker
and beat. Nothing here imports Django models at import time: the Celery app is made before
Django is set up.
"""

from __future__ import annotations

import logging
import logging.config

from celery import signals

from . import request_id

log = logging.getLogger(__name__)

HEADER = "request_id"
HEARTBEAT_TASK = "ticketing.observability.tasks.heartbeat"
SWEEP_TASK = "ticketing.flows.tasks.sweep_expired"
_in_beat = False


def connect() -> None:
    signals.setup_logging.connect(_setup_logging, weak=False)
    # Sooner still in a worker: its first warning (running as root) comes before setup_logging.
    signals.celeryd_init.connect(_setup_logging, weak=False)
    signals.before_task_publish.connect(_carry_request_id, weak=False)
    signals.task_prerun.connect(_bind_request_id, weak=False)
    signals.beat_init.connect(_beat_started, weak=False)
    signals.after_task_publish.connect(_beat_published, weak=False)
    signals.worker_ready.connect(_worker_ready, weak=False)
    signals.task_success.connect(_task_succeeded, weak=False)


def _setup_logging(**_) -> None:
    """Celery would install its own handlers and format; use the project's instead (and, as
    Django does, Python's warnings as log records)."""
    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)
    logging.captureWarnings(True)


def _carry_request_id(headers=None, **_) -> None:
    rid = request_id.current()
    if rid and headers is not None:
        headers.setdefault(HEADER, rid)


def task_request_id(task) -> str | None:
    """The id a task was queued with: a message header in a worker, `headers=` in apply()."""
    rid = getattr(task.request, HEADER, None)
    if rid is None:
        rid = (getattr(task.request, "headers", None) or {}).get(HEADER)
    return rid if isinstance(rid, str) and request_id.well_formed(rid) else None


def _bind_request_id(task=None, **_) -> None:
    """In a worker each task runs with its own request id (or none) until the next one starts,
    so Celery's own 'succeeded' line carries it too. An eager task runs inside the request and
    keeps the request's."""
    if task is None or task.request.is_eager:
        return
    request_id.bind(task_request_id(task))


def _record(component: str, *, close: bool) -> None:
    """Write a heartbeat; never let it break the process that writes it. `close` for the
    long-lived main processes (beat, the worker's parent): no connection left open between
    two beats."""
    from django.db import close_old_connections, connection

    from .heartbeats import heartbeat_record

    try:
        close_old_connections()
        heartbeat_record(component=component)
    except Exception as exc:
        log.warning("could not record the %s heartbeat: %s", component, exc)
    finally:
        if close:
            connection.close()


def _beat_started(**_) -> None:
    global _in_beat
    _in_beat = True
    _record("beat", close=True)


def _beat_published(sender=None, **_) -> None:
    if _in_beat and sender == HEARTBEAT_TASK:
        _record("beat", close=True)


def _worker_ready(**_) -> None:
    _record("worker", close=True)


def _task_succeeded(sender=None, **_) -> None:
    if getattr(sender, "name", None) == SWEEP_TASK:
        _record("sweep", close=False)
