"""Health and readiness.

`/healthz` (liveness): the database must answer; Redis is reported but never fails the check
(sales go on without it).

`/readyz` (readiness of the whole shape): the database answers, every migration is applied, and
the worker and beat have shown a heartbeat lately (ticketing.observability.heartbeats). When
tasks run in-process (the embedded mode) there is no worker or beat to wait for. The same
checks back `manage.py check_ready`, which the worker and beat containers use.
"""

from __future__ import annotations

from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.http import JsonResponse
from django.views.decorators.http import require_GET

from ticketing import cache

OK = "ok"
_migrated = False  # once all are applied they stay applied: the graph is not read again


def _database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:
        return "down"
    return OK


def _cache() -> str:
    cache.set("healthz", "1", 5)
    return OK if cache.get("healthz") == "1" else "degraded"


def health(request):
    database = _database()
    status = 200 if database == OK else 503
    return JsonResponse({"database": database, "cache": _cache()}, status=status)


def _migrations() -> str:
    global _migrated
    if _migrated:
        return OK
    try:
        executor = MigrationExecutor(connection)
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except Exception:
        return "unknown"
    if pending:
        return f"{len(pending)} not applied"
    _migrated = True
    return OK


def _tasks_in_process() -> bool:
    from ticketing.celery import app

    return bool(app.conf.task_always_eager)


def _background(components) -> dict[str, dict]:
    from ticketing.observability import heartbeats

    if _tasks_in_process():
        return {name: {"status": "not used: tasks run in-process"} for name in components}
    limit = heartbeats.max_age_seconds()
    try:
        ages = heartbeats.heartbeat_ages()
    except Exception:
        return {name: {"status": "unknown"} for name in components}
    report = {}
    for name in components:
        age = ages.get(name)
        if age is None:
            report[name] = {"status": "never seen"}
        else:
            status = OK if age <= limit else f"stale: older than {limit} s"
            report[name] = {"status": status, "age_seconds": round(age, 1)}
    return report


def readiness(components=None) -> tuple[bool, dict]:
    """(ready, report). `components` narrows the background ones checked (worker, beat)."""
    from ticketing.observability.heartbeats import REQUIRED

    report: dict = {"database": _database()}
    report["migrations"] = _migrations() if report["database"] == OK else "unknown"
    background = _background(components or REQUIRED)
    report.update(background)
    ready = (
        report["database"] == OK
        and report["migrations"] == OK
        and all(
            c["status"] == OK or c["status"].startswith("not used") for c in background.values()
        )
    )
    return ready, report


@require_GET
def ready(request):
    is_ready, report = readiness()
    report["cache"] = _cache()  # reported, never a reason to refuse (sales go on without it)
    body = {"ready": is_ready, **report}
    return JsonResponse(body, status=200 if is_ready else 503)
