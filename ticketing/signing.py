"""HMAC-SHA256 signatures of timestamped bodies, the way webhook senders sign them: over
"<context.>...<timestamp>.<body>", checked in constant time and only within a tolerance window,
so a captured delivery cannot be replayed later.

Only the primitive lives here; each caller owns its header format. Payments' provider webhooks
send the hex digest of "<timestamp>.<body>" in `Marquee-Signature: t=...,v1=...`; Standard
Webhooks (partners) send base64 over "<webhook-id>.<timestamp>.<body>", that is
`context=(webhook_id,)` and `encode=lambda d: base64.b64encode(d).decode()`. A signature that
fails raises `SignatureExpired` or `SignatureInvalid`, for the caller to map to its own error."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable, Iterable


class SignatureError(Exception):
    """A signature that must not be trusted; `code` says why."""

    code = "signature_invalid"


class SignatureExpired(SignatureError):
    code = "signature_expired"

    def __init__(self) -> None:
        super().__init__("The signature's timestamp is outside the tolerance.")


class SignatureInvalid(SignatureError):
    code = "signature_invalid"

    def __init__(self) -> None:
        super().__init__("The signature does not match.")


def sign(
    key: bytes,
    timestamp: int,
    body: bytes,
    *,
    context: Iterable[str] = (),
    encode: Callable[[bytes], str] = bytes.hex,
) -> str:
    """The signature of "<context.>...<timestamp>.<body>" under `key`, as `encode` writes the
    HMAC-SHA256 digest (hex by default)."""
    signed = b"".join(f"{part}.".encode() for part in (*context, timestamp)) + body
    return encode(hmac.new(key, signed, hashlib.sha256).digest())


def verify(
    key: bytes,
    timestamp: int,
    body: bytes,
    signature: str,
    *,
    tolerance: int,
    context: Iterable[str] = (),
    encode: Callable[[bytes], str] = bytes.hex,
    now: float | None = None,
) -> None:
    """Accept `signature` for this body and timestamp, or raise SignatureExpired (the timestamp
    is more than `tolerance` seconds from now, either way) or SignatureInvalid (it does not
    match; compared in constant time, so a forger learns nothing from how long a "no" takes)."""
    now = time.time() if now is None else now
    if abs(now - timestamp) > tolerance:
        raise SignatureExpired
    expected = sign(key, timestamp, body, context=context, encode=encode)
    if not hmac.compare_digest(expected.encode(), signature.encode()):
        raise SignatureInvalid
