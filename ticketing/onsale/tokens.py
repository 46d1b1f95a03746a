"""The admission token: signed, for one onsale, one waiter (one browser), until a time.

Verified without Redis (django.core.signing, its own salt), so admitted buyers carry on while
the waiting room itself is down. Bound to the browser: the waiter id inside must be the one in
the browser's own signed waiter cookie, so a token copied alone to another browser is refused.
"""

from __future__ import annotations

import time

from django.core import signing

WAITER_COOKIE = "marquee_waiter"
WAITER_SALT = "marquee.onsale.waiter"
ADMISSION_SALT = "marquee.onsale.admission"


def admission_cookie(onsale_id: int) -> str:
    return f"marquee_admission_{onsale_id}"


class Refused(Exception):
    """Why a token does not admit: missing, forged, expired, other_onsale, other_browser."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def issue(*, onsale_id: int, waiter_id: str, ends_at: float) -> str:
    return signing.dumps({"o": onsale_id, "w": waiter_id, "e": int(ends_at)}, salt=ADMISSION_SALT)


def check(token: str | None, *, onsale_id: int, waiter_id: str | None, now: float | None = None):
    """The token's end (epoch seconds) if it admits this browser to this onsale; else Refused."""
    if not token:
        raise Refused("missing")
    try:
        claims = signing.loads(token, salt=ADMISSION_SALT)
        onsale, waiter, ends = int(claims["o"]), str(claims["w"]), int(claims["e"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise Refused("forged") from None
    if onsale != onsale_id:
        raise Refused("other_onsale")
    if not waiter_id or waiter != waiter_id:
        raise Refused("other_browser")
    if ends <= (time.time() if now is None else now):
        raise Refused("expired")
    return ends


def waiter_of(request) -> str | None:
    """The browser's waiter id from its signed cookie (None: none, or tampered with)."""
    return request.get_signed_cookie(WAITER_COOKIE, default=None, salt=WAITER_SALT)
