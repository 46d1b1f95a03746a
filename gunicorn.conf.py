"""Gunicorn settings for Marquee, from the environment: `gunicorn -c gunicorn.conf.py`.

Used by docker-compose's web service and by `make bench`. Every knob has an env variable:

    GUNICORN_BIND           address to listen on; default 0.0.0.0:$PORT if PORT is set,
                            else 127.0.0.1:8000 (set 0.0.0.0:8000 in a container)
    GUNICORN_WORKER_CLASS   gthread (default) or sync
    GUNICORN_WORKERS        worker processes; default: twice the CPUs this process may use
    GUNICORN_THREADS        threads per gthread worker; default 2
    GUNICORN_KEEPALIVE      seconds an idle keep-alive connection stays open; default 5
    GUNICORN_TIMEOUT        seconds before a silent worker is killed and replaced; default 30
    GUNICORN_MAX_REQUESTS   recycle a worker after this many requests (0: never; default 0)
    GUNICORN_ACCESS_LOG     path or "-" for an access log (with each request's id); default none
    GUNICORN_LOG_LEVEL      default info
    GUNICORN_FORWARDED_ALLOW_IPS  proxies trusted for X-Forwarded-*; default 127.0.0.1
    GUNICORN_CONTROL_SOCKET path of the gunicornc control socket; default: none
    PROMETHEUS_MULTIPROC_DIR where the workers' metrics are added up; default: a fresh temporary
                            directory, removed on exit (an explicit one is emptied at start)
    MARQUEE_LOG_FORMAT      json or plain, as for Django (default json unless DJANGO_DEBUG)

The defaults were chosen by measurement with `make bench` (docs/performance.md): on 2 cores,
4 gthread workers of 2 threads each served the onsale rush ~15% faster than 2 workers of 4
threads (the requests are CPU-bound Python: more processes, less contention for the GIL), as
fast as 4 sync workers, with a shorter tail, and they keep connections alive (sync cannot).
Each thread keeps its own PostgreSQL connection: workers x threads connections per server.
"""

from __future__ import annotations

import glob
import os
import shutil
import sys
import tempfile

# The project's own modules, whichever directory gunicorn was started from.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ticketing.env import env_bool
from ticketing.observability.logs import log_format, logging_config


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


wsgi_app = "ticketing.wsgi:application"

_port = os.environ.get("PORT", "").strip()
bind = [os.environ.get("GUNICORN_BIND") or (f"0.0.0.0:{_port}" if _port else "127.0.0.1:8000")]

worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "gthread")
workers = _int("GUNICORN_WORKERS", 2 * _cpus())
threads = _int("GUNICORN_THREADS", 2)
keepalive = _int("GUNICORN_KEEPALIVE", 5)
timeout = _int("GUNICORN_TIMEOUT", 30)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
max_requests = _int("GUNICORN_MAX_REQUESTS", 0)
max_requests_jitter = max_requests // 10

accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# gunicorn's own lines in the same shape as the app's (JSON or plain, with the request id).
logconfig_dict = logging_config(
    fmt=log_format(
        debug=env_bool("DJANGO_DEBUG", False), requested=os.environ.get("MARQUEE_LOG_FORMAT", "")
    ),
    level=loglevel.upper(),
    access_log=accesslog,
)
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(M)sms'
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")

# The heartbeat file lives in memory: a container's overlay filesystem can stall it.
_SHM = "/dev/shm"  # noqa: S108 - gunicorn's documented choice, not a shared temp file
if os.path.isdir(_SHM):
    worker_tmp_dir = _SHM

# No control socket unless asked for: several servers on one machine would share $HOME's.
control_socket_disable = not os.environ.get("GUNICORN_CONTROL_SOCKET")
if not control_socket_disable:
    control_socket = os.environ["GUNICORN_CONTROL_SOCKET"]


# ---- metrics of all workers added up (ticketing/observability/metrics.py) ---------------------
_TEMPORARY = "MARQUEE_METRICS_DIR_TEMPORARY"  # set when the directory is ours to remove


def on_starting(server):
    """Before any worker is forked (and so before the app, not preloaded, imports
    prometheus_client, whose multiprocess mode is chosen at import): the directory where each
    worker keeps its counts, emptied of a previous run's."""
    metrics_dir = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not metrics_dir:
        metrics_dir = tempfile.mkdtemp(prefix="marquee-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = os.environ[_TEMPORARY] = metrics_dir
    os.makedirs(metrics_dir, exist_ok=True)
    for path in glob.glob(os.path.join(metrics_dir, "*.db")):
        os.remove(path)


def child_exit(server, worker):
    """A dead worker's live gauges go; its counts stay in the sums."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    metrics_dir = os.environ.get(_TEMPORARY)
    if metrics_dir and metrics_dir == os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        shutil.rmtree(metrics_dir, ignore_errors=True)
