"""Helpers of the start-up tests: a Marquee process started from a clean environment, with only
the variables a test names, as an operator's shell or a container would start it."""

from __future__ import annotations

import base64
import json
import os
import secrets
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STRONG_KEY = secrets.token_urlsafe(50)
# MARQUEE_TICKET_SIGNING_KEYS: any 32 random bytes are an Ed25519 private key.
SIGNING_KEYS = "prod:" + base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode()
_OURS = ("DJANGO_", "MARQUEE_", "STRIPE_", "GUNICORN_", "CELERY_")
_SERVICES = {"DATABASE_URL", "REDIS_URL", "EMAIL_BACKEND", "SENTRY_DSN"}
SETUP = [sys.executable, "-c", "import django; django.setup()"]
_VAR = tempfile.mkdtemp(prefix="marquee-startup-")


def start(env: dict[str, str], command: list[str] | None = None, *, timeout: float = 60):
    """Run `command` (by default `django.setup()`) with the given variables and nothing else of
    ours; SQLite in a scratch directory, so nothing is touched."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(_OURS) and k not in _SERVICES}
    clean.update(DJANGO_SETTINGS_MODULE="ticketing.settings", MARQUEE_VAR_DIR=_VAR, **env)
    return subprocess.run(
        command or SETUP, cwd=ROOT, env=clean, capture_output=True, text=True, timeout=timeout
    )


def production(**extra: str) -> dict[str, str]:
    """What a production site that starts sets: DEBUG off, keys of its own, Stripe."""
    return {
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": STRONG_KEY,
        "MARQUEE_TICKET_SIGNING_KEYS": SIGNING_KEYS,
        "MARQUEE_PAYMENT_PROVIDERS": "stripe",
        **extra,
    }


def settings_of(env: dict[str, str], *names: str) -> dict:
    """The values the settings take in a process started with `env`."""
    code = (
        "import json, django; django.setup(); from django.conf import settings; "
        f"print(json.dumps({{n: getattr(settings, n) for n in {list(names)!r}}}))"
    )
    done = start(env, [sys.executable, "-c", code])
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])
