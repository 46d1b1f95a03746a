"""The project's WSGI application under Granian, with the bench's meter of CPU per kind of request.

`make bench BENCH_ARGS="--server granian"` serves `bench.granian_app:application`. The meter
counts the serving thread's CPU from the call into Django to the last byte of the body handed
back to Granian (bench/request_meter.py); what Granian's own threads spend (HTTP parsing, the
sockets, its Rust runtime) is the rest of the workers' CPU, printed as "outside requests".
"""

from __future__ import annotations

from bench import request_meter
from ticketing.wsgi import application as _django


def application(environ, start_response):
    request_meter.start_writer()
    request_meter.begin()
    body = _django(environ, start_response)
    try:
        chunks = list(body)  # the bench's answers are small and never streamed
    finally:
        close = getattr(body, "close", None)
        if close is not None:
            close()
    request_meter.end(environ["REQUEST_METHOD"], environ.get("PATH_INFO", ""))
    return chunks
