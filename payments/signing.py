"""Webhook signatures the way real providers do them: HMAC-SHA256 over "<timestamp>.<body>",
sent as `Marquee-Signature: t=<unix seconds>,v1=<hex digest>`, checked in constant time and only
within a tolerance window, so a captured delivery cannot be replayed later."""

from __future__ import annotations

import hashlib
import hmac
import time

from .providers.base import WebhookRejected

HEADER = "Marquee-Signature"


def _digest(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def sign(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The header value for `body`."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    return f"t={timestamp},v1={_digest(secret, timestamp, body)}"


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
    now = time.time() if now is None else now
    if abs(now - timestamp) > tolerance:
        raise WebhookRejected(
            "signature_expired", "The signature's timestamp is outside the tolerance."
        )
    if not hmac.compare_digest(_digest(secret, timestamp, body), given):
        raise WebhookRejected("signature_invalid", "The signature does not match.")
    return timestamp
