"""The Standard Webhooks convention (standardwebhooks.com), sender's side: secrets and headers.

A secret is `whsec_` + base64 of random bytes, and the HMAC key is those bytes (not the
string), which is what the off-the-shelf verifiers (the `standardwebhooks` packages, Svix's)
expect. The signature is `v1,<base64 HMAC-SHA256 of "<webhook-id>.<webhook-timestamp>.<body>">`;
several, space-separated, are sent while a rotated secret still overlaps, and a verifier
accepts the message when any one matches. The HMAC itself is `ticketing.signing`'s.
"""

from __future__ import annotations

import base64
import secrets

from ticketing import signing

SECRET_PREFIX = "whsec_"  # noqa: S105 - the prefix of every secret, not one
SECRET_BYTES = 32  # the convention asks for 24 to 64


def secret_new() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def secret_key(secret: str) -> bytes:
    """The HMAC key of a `whsec_` secret: its decoded bytes."""
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def _b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode()


def signature(secret: str, event_id: str, timestamp: int, body: bytes) -> str:
    return "v1," + signing.sign(
        secret_key(secret), timestamp, body, context=(event_id,), encode=_b64
    )


def headers(*, event_id: str, timestamp: int, body: bytes, secrets_: list[str]) -> dict[str, str]:
    """The three Standard Webhooks headers, signed with each of `secrets_`."""
    return {
        "webhook-id": event_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(
            signature(secret, event_id, timestamp, body) for secret in secrets_
        ),
    }
