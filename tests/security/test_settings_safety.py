"""With DEBUG off a process is production: unsafe settings stop gunicorn, Celery and manage.py
alike at settings load, with a message that says what to set (ticketing/security.py)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
import yaml

from tests.security.startup import (
    ROOT,
    SIGNING_KEYS,
    STRONG_KEY,
    production,
    settings_of,
    start,
)

GUNICORN = [sys.executable, "-m", "gunicorn", "--check-config", "-c", "gunicorn.conf.py"]
ENTRY_POINTS = {
    "django.setup": None,
    "manage.py check": [sys.executable, "manage.py", "check"],
    "gunicorn": [*GUNICORN, "ticketing.wsgi:application"],
    "celery worker": [sys.executable, "-m", "celery", "-A", "ticketing", "worker", "--pool=solo"],
}


def refused(done) -> str:
    assert done.returncode != 0, "it started"
    assert "Marquee refuses to start" in done.stderr + done.stdout, done.stderr[-2000:]
    return done.stderr + done.stdout


def started(done) -> None:
    assert done.returncode == 0, done.stderr[-2000:]


# ---- secret key ------------------------------------------------------------------------------
@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_every_entry_point_refuses_to_start_without_a_secret_key(entry):
    env = production()
    del env["DJANGO_SECRET_KEY"]
    output = refused(start(env, ENTRY_POINTS[entry]))
    assert "DJANGO_SECRET_KEY is not set" in output


def test_the_refusal_says_how_to_generate_a_key():
    env = production()
    del env["DJANGO_SECRET_KEY"]
    output = refused(start(env))
    assert "secrets.token_urlsafe(50)" in output
    assert "DJANGO_DEBUG=1" in output  # and what development does instead


@pytest.mark.parametrize(
    "key",
    [
        "change-me-in-production",  # the compose file's old fallback
        "insecure-development-key-change-me",  # the development key
        "django-insecure-" + "k3y" * 20,  # startproject's
    ],
)
def test_a_published_secret_key_refuses_to_start(key):
    output = refused(start(production(DJANGO_SECRET_KEY=key)))
    assert "published value" in output


@pytest.mark.parametrize("key", ["short-but-random-9f8e7d6c5b4a", "ab" * 40])
def test_a_short_or_repetitive_secret_key_refuses_to_start(key):
    output = refused(start(production(DJANGO_SECRET_KEY=key)))
    assert "too weak" in output and "at least 50" in output


def test_a_strong_key_with_stripe_starts():
    started(start(production()))


def test_in_development_no_key_is_needed():
    values = settings_of({"DJANGO_DEBUG": "1"}, "SECRET_KEY")
    assert values["SECRET_KEY"] == "insecure-development-key-change-me"


# ---- the sandbox ------------------------------------------------------------------------------
@pytest.mark.parametrize("providers", ["sandbox", "stripe,sandbox"])
def test_the_sandbox_without_its_opt_in_refuses_to_start(providers):
    output = refused(
        start(production(MARQUEE_PAYMENT_PROVIDERS=providers, MARQUEE_SANDBOX_WEBHOOK_SECRET="x1"))
    )
    assert "sandbox payment provider is enabled" in output
    assert "MARQUEE_SANDBOX_IN_PRODUCTION=1" in output


@pytest.mark.parametrize("secret", [None, "sandbox-webhook-secret", ""])
def test_the_sandbox_with_its_public_webhook_secret_refuses_to_start(secret):
    env = production(MARQUEE_PAYMENT_PROVIDERS="sandbox", MARQUEE_SANDBOX_IN_PRODUCTION="1")
    if secret is not None:
        env["MARQUEE_SANDBOX_WEBHOOK_SECRET"] = secret
    output = refused(start(env))
    assert "MARQUEE_SANDBOX_WEBHOOK_SECRET of its own" in output
    assert "MARQUEE_SANDBOX_IN_PRODUCTION=1 and" not in output  # the opt-in is there


@pytest.mark.parametrize("entry", ["gunicorn", "celery worker"])
def test_gunicorn_and_celery_refuse_the_sandbox_too(entry):
    env = production(MARQUEE_PAYMENT_PROVIDERS="sandbox")
    refused(start(env, ENTRY_POINTS[entry]))


def test_the_sandbox_opted_in_with_a_secret_of_its_own_starts():
    env = production(
        MARQUEE_PAYMENT_PROVIDERS="sandbox",
        MARQUEE_SANDBOX_IN_PRODUCTION="1",
        MARQUEE_SANDBOX_WEBHOOK_SECRET="a-smoke-test-secret",
    )
    started(start(env))


def test_in_development_the_sandbox_needs_nothing():
    """`make run`: DEBUG on, SQLite, the sandbox with its test secret."""
    started(start({"DJANGO_DEBUG": "1"}))


def test_every_problem_is_reported_at_once():
    output = refused(start({"DJANGO_DEBUG": "0"}))
    assert "DJANGO_SECRET_KEY is not set" in output
    assert "sandbox payment provider is enabled" in output


# ---- HTTPS -------------------------------------------------------------------------------------
HTTPS_SETTINGS = (
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "SECURE_PROXY_SSL_HEADER",
)


def test_in_production_https_is_on_by_default():
    values = settings_of(production(), *HTTPS_SETTINGS)
    assert values["SECURE_SSL_REDIRECT"] is True
    assert values["SECURE_HSTS_SECONDS"] >= 365 * 24 * 3600
    assert values["SESSION_COOKIE_SECURE"] is True and values["CSRF_COOKIE_SECURE"] is True
    assert values["SECURE_PROXY_SSL_HEADER"] is None


def test_marquee_https_off_serves_plain_http_for_a_local_smoke_test():
    values = settings_of(production(MARQUEE_HTTPS="0"), *HTTPS_SETTINGS)
    assert values == {
        "SECURE_SSL_REDIRECT": False,
        "SECURE_HSTS_SECONDS": 0,
        "SESSION_COOKIE_SECURE": False,
        "CSRF_COOKIE_SECURE": False,
        "SECURE_PROXY_SSL_HEADER": None,
    }


def test_behind_a_tls_proxy_the_forwarded_scheme_is_trusted_and_https_stays_on():
    env = production(DJANGO_BEHIND_TLS_PROXY="1", MARQUEE_NUM_PROXIES="1")
    values = settings_of(env, *HTTPS_SETTINGS)
    assert values["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert values["SECURE_SSL_REDIRECT"] is True and values["SESSION_COOKIE_SECURE"] is True


def test_in_development_https_is_off():
    values = settings_of({"DJANGO_DEBUG": "1"}, *HTTPS_SETTINGS)
    assert not values["SECURE_SSL_REDIRECT"] and not values["SESSION_COOKIE_SECURE"]


def test_the_deploy_check_finds_nothing_to_say_about_keys_https_or_cookies():
    done = start(production(), [sys.executable, "manage.py", "check", "--deploy"])
    found = set(re.findall(r"security\.W\d+", done.stdout + done.stderr))
    assert not found & {f"security.W{n:03}" for n in (4, 8, 9, 12, 16, 18)}, found


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_probes_from_inside_the_network_are_not_redirected_to_https(client, settings, path):
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/").status_code == 301
    assert client.get(path).status_code in (200, 503)


# ---- the compose file ------------------------------------------------------------------------
def _compose_env() -> dict[str, str]:
    compose = yaml.safe_load(Path(ROOT, "docker-compose.yml").read_text())
    return {k: str(v) for k, v in compose["x-app"]["environment"].items()}


def _interpolate(value: str, given: dict[str, str]) -> str:
    """Compose's `${VAR:-default}` and `${VAR:?error}`, for an operator who set `given`."""

    def one(match):
        name, op, arg = match.group(1), match.group(2), match.group(3)
        if given.get(name):
            return given[name]
        if op == ":?":
            raise LookupError(f"{name}: {arg}")
        return arg or ""

    return re.sub(r"\$\{(\w+)(:-|:\?)?([^}]*)\}", one, value)


def test_compose_does_not_start_until_the_secret_key_and_the_payment_provider_are_set():
    required = {}
    for name, value in _compose_env().items():
        try:
            _interpolate(value, {})
        except LookupError as exc:
            required[name] = str(exc)
    assert set(required) >= {"DJANGO_SECRET_KEY", "MARQUEE_PAYMENT_PROVIDERS"}
    assert "secrets.token_urlsafe" in required["DJANGO_SECRET_KEY"]
    assert "MARQUEE_SANDBOX_IN_PRODUCTION" in required["MARQUEE_PAYMENT_PROVIDERS"]


def _start_as_compose(given: dict[str, str]):
    """The app's environment as compose builds it, with the services' addresses left out."""
    env = {name: _interpolate(value, given) for name, value in _compose_env().items()}
    for service in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL"):
        env.pop(service, None)
    return start(env)


def test_compose_with_the_sandbox_chosen_but_not_opted_in_refuses_to_start():
    given = {
        "DJANGO_SECRET_KEY": STRONG_KEY,
        "MARQUEE_TICKET_SIGNING_KEYS": SIGNING_KEYS,
        "MARQUEE_PAYMENT_PROVIDERS": "sandbox",
    }
    refused(_start_as_compose(given))
    given |= {"MARQUEE_SANDBOX_IN_PRODUCTION": "1", "MARQUEE_SANDBOX_WEBHOOK_SECRET": "own-one"}
    started(_start_as_compose(given))
