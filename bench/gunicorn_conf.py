"""The repository's gunicorn.conf.py plus a meter of the CPU each kind of request costs.

`make bench` starts gunicorn with this file. Everything of gunicorn.conf.py applies unchanged;
on top, each worker adds up the CPU time of the thread that served a request (from just before
gunicorn parses it into WSGI to just after the answer is written) by kind (bench/request_meter.py).
What the workers spend outside requests (accepting connections, reading keep-alive sockets,
the gthread loop) is the rest of their CPU: the bench prints it as "outside requests".
"""

from __future__ import annotations

import os
import sys

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_REPO_CONF = os.path.join(_ROOT, "gunicorn.conf.py")
with open(_REPO_CONF) as _f:
    _namespace = {"__file__": _REPO_CONF, "__name__": "gunicorn_conf"}
    exec(compile(_f.read(), _REPO_CONF, "exec"), _namespace)  # noqa: S102 - our own config file
globals().update({k: v for k, v in _namespace.items() if not k.startswith("__")})

sys.path.insert(0, _ROOT)
from bench import request_meter  # noqa: E402


def pre_request(worker, req):
    request_meter.begin()


def post_request(worker, req, environ, resp):
    request_meter.end(req.method, req.path)


def post_worker_init(worker):
    request_meter.start_writer()
