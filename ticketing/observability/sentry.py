"""Error reporting to Sentry (or a Sentry-compatible service), off unless `SENTRY_DSN` is set.

Django and Celery integrations: unhandled errors of requests and tasks are reported with the
request id as a tag, so a report leads to the log lines of the same request. No personal data
is sent (`send_default_pii` off: no cookies, user ids or client addresses).
"""

from __future__ import annotations

from . import request_id


def _tag_request_id(event, hint):
    rid = request_id.current()
    if rid:
        event.setdefault("tags", {})["request_id"] = rid
    return event


def sentry_init(
    *, dsn: str, environment: str, release: str = "", traces_sample_rate: float = 0.0
) -> None:
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        release=release or None,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        traces_sample_rate=traces_sample_rate,
        send_default_pii=False,
        before_send=_tag_request_id,
    )
