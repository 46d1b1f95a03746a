"""The HTTP boundary of webhook deliveries: one POST, a short timeout, no redirects.

`http.client` rather than a client library: nothing else here needs one, and it lets the
connection go to the very address `destinations.addresses` checked (TLS still verifies the
certificate for the URL's host name). Redirects are not followed: a 3xx is an answer like any
other non-2xx, retried, so a redirect cannot carry a delivery to an address we would refuse.
"""

from __future__ import annotations

import http.client
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

from . import destinations

USER_AGENT = "Marquee-Webhooks/1.0"
EXCERPT_BYTES = 1000


@dataclass(frozen=True)
class Answer:
    status: int
    excerpt: str


def _connector(checked: list[tuple]):
    """A `create_connection` for http.client that connects to the checked addresses only."""

    def connect(_address, timeout, source_address=None):
        error: OSError | None = None
        for family, sockaddr in checked:
            sock = socket.socket(family, socket.SOCK_STREAM)
            try:
                sock.settimeout(timeout)
                if source_address:
                    sock.bind(source_address)
                sock.connect(sockaddr)
                return sock
            except OSError as exc:
                sock.close()
                error = exc
        raise error or OSError("no address to connect to")

    return connect


def post(url: str, body: bytes, headers: dict[str, str], *, timeout: float) -> Answer:
    """POST `body` to `url`; the status and the start of the body of whatever answer came.

    Raises OSError (refused, unreachable, timed out, TLS) when no answer came, and
    destinations.DestinationRefused when the host resolves to an address we do not call."""
    parts = urlsplit(url)
    https = parts.scheme == "https"
    port = parts.port or (443 if https else 80)
    checked = destinations.addresses(parts.hostname, port)
    if https:
        conn: http.client.HTTPConnection = http.client.HTTPSConnection(
            parts.hostname, port, timeout=timeout, context=ssl.create_default_context()
        )
    else:
        conn = http.client.HTTPConnection(parts.hostname, port, timeout=timeout)
    conn._create_connection = _connector(checked)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        conn.request(
            "POST",
            path,
            body=body,
            headers={"Content-Type": "application/json", "User-Agent": USER_AGENT, **headers},
        )
        response = conn.getresponse()
        excerpt = response.read(EXCERPT_BYTES).decode("utf-8", errors="replace")
        return Answer(status=response.status, excerpt=excerpt)
    except http.client.HTTPException as exc:
        raise OSError(f"{type(exc).__name__}: {exc}") from exc
    finally:
        conn.close()
