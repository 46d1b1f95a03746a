"""Where a webhook may go: not into our own network (SSRF), and over HTTPS in production.

A partner chooses the URL and our worker calls it, so a URL naming 127.0.0.1, 10.0.0.5, the
cloud's metadata address 169.254.169.254 or a name that resolves to one of them would let a
partner make our servers call our own private services. Two checks:

- when the endpoint is created (`url_check`): the scheme (https; http only where
  MARQUEE_WEBHOOKS_ALLOW_HTTP), no credentials in the URL, and no private or loopback address
  written as such (nor `localhost`);
- at every send (`addresses`): the name is resolved and every address it gives must be public,
  and the connection is made to the address that was checked (`transport.py`), so a name that
  changes its answer between the check and the connection (DNS rebinding) gains nothing.

MARQUEE_WEBHOOKS_ALLOW_PRIVATE lifts the address rule (development, the test suite's local
receivers); it is on by default only with DEBUG.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings

from ticketing import errors

LOCAL_NAMES = ("localhost", "localhost.localdomain")


class DestinationRefused(Exception):
    """The URL's host resolves to an address webhooks may not reach."""


def _rules() -> dict:
    return settings.MARQUEE_WEBHOOKS


def address_allowed(address: str) -> bool:
    if _rules()["ALLOW_PRIVATE_ADDRESSES"]:
        return True
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def url_check(url: str) -> str:
    """`url`, or WebhookUrlNotAllowed saying what is wrong with it."""
    parts = urlsplit(url)
    allowed = ("https", "http") if _rules()["ALLOW_HTTP"] else ("https",)
    if parts.scheme not in allowed:
        raise errors.WebhookUrlNotAllowed(
            "The URL must start with " + " or ".join(f"{s}://" for s in allowed) + ".", url=url
        )
    host = parts.hostname
    if not host:
        raise errors.WebhookUrlNotAllowed("The URL has no host.", url=url)
    if parts.username or parts.password:
        raise errors.WebhookUrlNotAllowed(
            "Credentials in a webhook URL are not sent; check the signature instead.", url=url
        )
    try:
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number
    except ValueError:
        raise errors.WebhookUrlNotAllowed("The URL's port is not valid.", url=url) from None
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    local = host.lower().rstrip(".")
    is_local_name = local in LOCAL_NAMES or local.endswith(".localhost")
    if (literal is not None and not address_allowed(host)) or (
        is_local_name and not _rules()["ALLOW_PRIVATE_ADDRESSES"]
    ):
        raise errors.WebhookUrlNotAllowed(
            "Webhooks go to public addresses only, not to loopback or private networks.",
            url=url,
        )
    return url


def addresses(host: str, port: int) -> list[tuple]:
    """The socket addresses to try for host:port, all of them allowed; DestinationRefused if
    the name resolves to any address that is not (one bad answer is enough to refuse: the
    name's owner chose it). OSError when the name does not resolve."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    refused = sorted({info[4][0] for info in infos if not address_allowed(info[4][0])})
    if refused:
        raise DestinationRefused(
            f"{host} resolves to {', '.join(refused)}, which webhooks may not reach"
        )
    return [(family, sockaddr) for family, _, _, _, sockaddr in infos]
