"""Webhook signatures the way real providers do them, on the shared HMAC primitive
(`ticketing.signing`): HMAC-SHA256 over "<timestamp>.<body>", sent as
`Marquee-Signature: t=<unix seconds>,v1=<hex digest>`, checked in constant time and only within
a tolerance window, so a captured delivery cannot be replayed later. This module owns the header
format and turns the primitive's errors into WebhookRejected."""

from __future__ import annotations

import time

from ticketing import signing

from .providers.base import WebhookRejected

HEADER = "Marquee-Signature"


def sign(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The header value for `body`."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    return f"t={timestamp},v1={signing.sign(secret.encode(), timestamp, body)}"


def verify(
    secret: str, body: bytes, header: str | None, *, tolerance: int, now: float | None = None
) -> int:
    """Check a header; return its timestamp, or raise WebhookRejected saying why."""
    if not header:
        raise WebhookRejected("signature_missing", f"No {HEADER} header.")
    parts = dict(item.split("=", 1) for item in header.split(",") if "=" in item)
    try:
        timestamp = int(parts["t"])
        given = parts["v1"]
    except (KeyError, ValueError):
        raise WebhookRejected("signature_malformed", f"{HEADER} is not t=...,v1=...") from None
    try:
        signing.verify(secret.encode(), timestamp, body, given, tolerance=tolerance, now=now)
    except signing.SignatureError as exc:
        raise WebhookRejected(exc.code, str(exc)) from None
    return timestamp
