"""Who a browser buyer is, for holds and orders made without an API key.

A random token kept in the session, stored hashed on the hold. Not the session key itself: Django
changes the session key when the buyer signs in (against session fixation), and a buyer who
signs in at checkout must keep the seats they hold. The token travels with the session data.
"""

from __future__ import annotations

import hashlib
import secrets
from contextlib import contextmanager

SESSION_FIELD = "marquee_buyer"


def browser_key(request, *, create: bool = True) -> str:
    """The hashed buyer token of this browser session, made on first use ("" if it has none
    and `create` is false: a page that only looks must not start a session for every visitor)."""
    token = request.session.get(SESSION_FIELD)
    if not token and not create:
        return ""
    if not token:
        token = secrets.token_urlsafe(24)
        request.session[SESSION_FIELD] = token
    # Stored hashed: a leaked holds table must not hand out anything a browser could replay.
    return hashlib.sha256(token.encode()).hexdigest()


@contextmanager
def kept_through_session_change(request):
    """Keep the buyer token when signing in or out replaces the whole session (logout always
    flushes it; so does signing in over another account): the seats held stay held."""
    token = request.session.get(SESSION_FIELD)
    yield
    if token:
        request.session[SESSION_FIELD] = token
