"""The test suite's settings: production's (`DJANGO_DEBUG` off), with what a test run stands for
said on purpose instead of refused (ticketing/security.py): a secret key of its own, the sandbox
opted in with its own webhook secret, plain HTTP.

Written into the environment before the settings are read, so the processes a test starts (the
Celery worker of tests/worker) read the same. A variable already set wins."""

import os

for _name, _value in {
    "DJANGO_SECRET_KEY": "tests-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
    "MARQUEE_SANDBOX_IN_PRODUCTION": "1",
    "MARQUEE_SANDBOX_WEBHOOK_SECRET": "tests-only-sandbox-webhook-secret",
    "MARQUEE_HTTPS": "0",
}.items():
    os.environ.setdefault(_name, _value)

if "MARQUEE_TICKET_SIGNING_KEYS" not in os.environ:
    # The development key (derived from the secret key, kid `dev`), named on purpose.
    from ticketing.ticket_signing import derived_key_text

    os.environ["MARQUEE_TICKET_SIGNING_KEYS"] = derived_key_text(os.environ["DJANGO_SECRET_KEY"])

from ticketing.settings import *  # noqa: E402,F403
