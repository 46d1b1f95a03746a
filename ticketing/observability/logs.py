"""Log configuration: JSON lines in production, readable lines in development, and the request
id (and the Celery task, inside one) on every record.

One dictConfig for Django, the Celery worker and beat (ticketing.celery applies it) and
gunicorn's own loggers (gunicorn.conf.py), so every line a process writes has the same shape.
Imports nothing of Django: gunicorn's master reads it before any app is loaded.
"""

from __future__ import annotations

import logging

from . import request_id

FORMATS = ("json", "plain")
PLAIN = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
JSON_FIELDS = "%(levelname)s %(name)s %(message)s %(request_id)s"
ACCESS_ID_ATOM = "{x-request-id}o"  # gunicorn's access-log atom for our response header


class RequestIdFilter(logging.Filter):
    """Adds `request_id` ("-" outside a request) and, inside a task, `task_id` and `task`."""

    def filter(self, record: logging.LogRecord) -> bool:
        rid = request_id.current()
        if rid is None and record.name == "gunicorn.access" and isinstance(record.args, dict):
            # gunicorn writes its access line after the request has left Django: the id is the
            # one answered in the response header.
            rid = record.args.get(ACCESS_ID_ATOM)
        record.request_id = rid or "-"
        task = _current_task()
        if task is not None:
            record.task_id = task.request.id
            record.task = task.name
        return True


def _current_task():
    try:
        from celery import current_task
    except ImportError:  # pragma: no cover - celery is a dependency
        return None
    return current_task if current_task else None


def log_format(*, debug: bool, requested: str = "") -> str:
    """`MARQUEE_LOG_FORMAT` if given, else plain with DEBUG on and JSON with it off."""
    requested = requested.strip().lower()
    if requested and requested not in FORMATS:
        raise ValueError(f"MARQUEE_LOG_FORMAT must be one of {', '.join(FORMATS)}: {requested!r}")
    return requested or ("plain" if debug else "json")


def logging_config(*, fmt: str, level: str = "INFO", access_log: str | None = None) -> dict:
    """A dictConfig: one stderr handler for everything, gunicorn's loggers included.

    `access_log` is gunicorn's: None for none, "-" for stdout, or a file path.
    """
    if fmt == "json":
        formatter = {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": JSON_FIELDS,
            "rename_fields": {"levelname": "level", "name": "logger"},
            "timestamp": True,
        }
    else:
        formatter = {"format": PLAIN}
    handlers = {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "marquee",
            "filters": ["request_id"],
        }
    }
    if access_log == "-":
        handlers["access"] = {**handlers["console"], "stream": "ext://sys.stdout"}
    elif access_log:
        handlers["access"] = {**handlers["console"], "class": "logging.FileHandler"}
        handlers["access"]["filename"] = access_log
    else:
        handlers["access"] = {"class": "logging.NullHandler"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": RequestIdFilter}},
        "formatters": {"marquee": formatter},
        "handlers": handlers,
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            # Django's own console handler would print its lines a second time, unformatted.
            "django": {"handlers": [], "level": level, "propagate": True},
            "django.db.backends": {"level": "WARNING"},
            "gunicorn.error": {"handlers": ["console"], "level": level, "propagate": False},
            "gunicorn.access": {"handlers": ["access"], "level": "INFO", "propagate": False},
        },
    }
