"""What a production process refuses to start with.

`refuse_unsafe` runs at the end of settings.py, so `gunicorn`, `celery worker`, `celery beat`
and every `manage.py` command stop alike, before they serve or run anything. A system check
would not do: gunicorn and Celery never run checks. With `DJANGO_DEBUG` off a process is
production unless its environment says otherwise on purpose (docs/operations.md, "Refusals").
Everything is reported at once, so an operator fixes the environment in one go.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from django.core.exceptions import ImproperlyConfigured

DEVELOPMENT_SECRET_KEY = "insecure-development-key-change-me"  # noqa: S105 - DEBUG on only
DEFAULT_SANDBOX_SECRET = "sandbox-webhook-secret"  # noqa: S105 - the documented test default
# Keys that were printed somewhere: ours (development, the compose file's old fallback, the
# Dockerfile's old build-time key) and the placeholders people paste.
PUBLISHED_SECRET_KEYS = frozenset(
    {
        DEVELOPMENT_SECRET_KEY,
        "change-me-in-production",
        "build-only",
        "change-me",
        "changeme",
        "secret",
        "secret-key",
        "django-insecure",
    }
)
# Django's own deploy check (security.W009) asks for as much.
SECRET_KEY_MIN_LENGTH = 50
SECRET_KEY_MIN_UNIQUE_CHARACTERS = 5
GENERATE_SECRET_KEY = "python -c 'import secrets; print(secrets.token_urlsafe(50))'"  # noqa: S105
MAX_TRUSTED_PROXIES = 10


def secret_key_problem(key: str) -> str | None:
    if not key:
        return "DJANGO_SECRET_KEY is not set."
    if key in PUBLISHED_SECRET_KEYS or key.startswith("django-insecure-"):
        return "DJANGO_SECRET_KEY is a published value that anyone can read."
    if len(key) < SECRET_KEY_MIN_LENGTH or len(set(key)) < SECRET_KEY_MIN_UNIQUE_CHARACTERS:
        return (
            f"DJANGO_SECRET_KEY is too weak ({len(key)} characters, {len(set(key))} different; "
            f"it needs at least {SECRET_KEY_MIN_LENGTH} with "
            f"{SECRET_KEY_MIN_UNIQUE_CHARACTERS} different)."
        )
    return None


def sandbox_problem(*, providers: Iterable[str], opted_in: bool, webhook_secret: str) -> str | None:
    """The sandbox hands out tickets for test card numbers, and its default secret is public:
    on a production site it runs only when asked for by name, with a secret of the site's own."""
    if "sandbox" not in providers:
        return None
    missing = []
    if not opted_in:
        missing.append("MARQUEE_SANDBOX_IN_PRODUCTION=1")
    if not webhook_secret or webhook_secret == DEFAULT_SANDBOX_SECRET:
        missing.append("a MARQUEE_SANDBOX_WEBHOOK_SECRET of its own")
    if not missing:
        return None
    return (
        "The sandbox payment provider is enabled (MARQUEE_PAYMENT_PROVIDERS): anyone could get "
        "tickets with its test card numbers. Set MARQUEE_PAYMENT_PROVIDERS=stripe for a real "
        "site; to run the sandbox on purpose (a demo, a smoke test) set "
        + " and ".join(missing)
        + "."
    )


def trusted_proxies(raw: str, *, behind_tls_proxy: bool) -> int:
    """MARQUEE_NUM_PROXIES, read and checked: how many proxies in front append to
    X-Forwarded-For (ticketing/client_ip.py). Always checked, DEBUG or not."""
    try:
        count = int(raw.strip() or "0")
    except ValueError:
        count = -1
    if not 0 <= count <= MAX_TRUSTED_PROXIES:
        raise ImproperlyConfigured(
            f"MARQUEE_NUM_PROXIES must be the number of proxies in front of Marquee that append "
            f"to X-Forwarded-For, from 0 (none: the header is ignored) to "
            f"{MAX_TRUSTED_PROXIES}; it is {raw!r}."
        )
    if behind_tls_proxy and count == 0:
        raise ImproperlyConfigured(
            "DJANGO_BEHIND_TLS_PROXY=1 says a proxy is in front, but MARQUEE_NUM_PROXIES=0: "
            "every buyer would share the proxy's address, and its rate limits. Set "
            "MARQUEE_NUM_PROXIES to the number of proxies in front (usually 1)."
        )
    return count


def staff_otp_problem(*, staff_otp: bool) -> str | None:
    """Staff can refund money: without the second factor a stolen password is enough. Turning
    it off is for a developer's own machine."""
    if staff_otp:
        return None
    return (
        "MARQUEE_STAFF_OTP is off: staff would sign in with a password alone. It is for local "
        "development only (with DJANGO_DEBUG=1); remove it, or set MARQUEE_STAFF_OTP=1."
    )


def ticket_signing_problem(raw: str, *, debug: bool) -> str | None:
    """Tickets' QR codes are signed with MARQUEE_TICKET_SIGNING_KEYS (ticketing/ticket_signing.py).
    Without them a key is derived from SECRET_KEY: fine on a developer's machine, but a site's
    doors would then trust whoever learns that one secret, and could never rotate it alone."""
    from ticketing.ticket_signing import parse_keys

    if not raw.strip():
        if debug:
            return None
        return (
            "MARQUEE_TICKET_SIGNING_KEYS is not set: tickets' QR codes need a signing key of the "
            "site's own. Generate one with `python manage.py ticket_signing_key KID` and set it."
        )
    try:
        parse_keys(raw)
    except ImproperlyConfigured as exc:
        return str(exc)
    return None


def rate_problems(rates: Mapping[str, str | None]) -> list[str]:
    """A rate is `<number>/<s|min|hour|day>`; a typo would otherwise fail every request."""
    found = []
    for scope, rate in rates.items():
        if rate is None:
            continue
        number, _, period = rate.partition("/")
        if not (number.strip().isdigit() and period[:1] in {"s", "m", "h", "d"}):
            found.append(f"The {scope!r} rate limit {rate!r} is not like '60/min'.")
    return found


def refuse_unsafe(
    *,
    debug: bool,
    secret_key: str,
    payment_providers: Iterable[str],
    sandbox_opted_in: bool,
    sandbox_webhook_secret: str,
    rates: Mapping[str, str | None],
    staff_otp: bool = True,
    ticket_signing_keys: str | None = None,
) -> None:
    problems = rate_problems(rates)
    if ticket_signing_keys is not None:
        signing = ticket_signing_problem(ticket_signing_keys, debug=debug)
        problems += [signing] if signing else []
    if not debug:
        problems += [
            p
            for p in (
                secret_key_problem(secret_key),
                sandbox_problem(
                    providers=payment_providers,
                    opted_in=sandbox_opted_in,
                    webhook_secret=sandbox_webhook_secret,
                ),
                staff_otp_problem(staff_otp=staff_otp),
            )
            if p
        ]
    if not problems:
        return
    advice = ""
    if any(p.startswith("DJANGO_SECRET_KEY") for p in problems):
        advice = (
            f"\nGenerate a secret key with {GENERATE_SECRET_KEY} and set DJANGO_SECRET_KEY to "
            "it, the same in the web, worker and beat processes, and keep it out of the "
            "repository."
        )
    where = "" if debug else " (DJANGO_DEBUG is off: this is production)"
    raise ImproperlyConfigured(
        f"Marquee refuses to start with these settings{where}:\n"
        + "\n".join(f"  - {p}" for p in problems)
        + advice
        + ("" if debug else "\nFor development, set DJANGO_DEBUG=1 instead.")
        + "\nSee docs/operations.md, 'Refusals'."
    )
