"""Who is asking: the client address every rate limit counts by.

One setting says how many proxies in front append to `X-Forwarded-For`
(`MARQUEE["TRUSTED_PROXIES"]`, from `MARQUEE_NUM_PROXIES`, checked at start by
ticketing/security.py). Each proxy appends the address it was reached from, so with N trusted
proxies the client is the N-th entry from the right; whatever stands left of it the client
wrote itself and is ignored. With none trusted (the default) the header is ignored entirely and
the socket's address is the client: a client never chooses its own identity.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest

# An IPv6 client usually owns a whole /64 and can pick any address in it.
IPV6_CLIENT_PREFIX = 64


def _parse(entry: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    entry = entry.strip()
    if entry.startswith("["):  # "[2001:db8::1]:4711", as some proxies write it
        entry = entry[1:].partition("]")[0]
    elif entry.count(":") == 1:  # "192.0.2.1:4711"
        entry = entry.partition(":")[0]
    try:
        address = ipaddress.ip_address(entry)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def client_address(request: HttpRequest) -> str:
    """The client's address as far as the trusted proxies vouch for it."""
    remote = request.META.get("REMOTE_ADDR", "")
    proxies = settings.MARQUEE["TRUSTED_PROXIES"]
    if proxies:
        entries = [e for e in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if e.strip()]
        if entries:
            # Fewer entries than proxies: all were written by proxies, the left-most is the client.
            vouched = _parse(entries[-min(proxies, len(entries))])
            if vouched is not None:
                return str(vouched)
    parsed = _parse(remote)
    return str(parsed) if parsed is not None else remote


def client_key(request: HttpRequest) -> str:
    """What a rate limit counts: the client's address, or for IPv6 its /64 network."""
    address = client_address(request)
    parsed = _parse(address)
    if isinstance(parsed, ipaddress.IPv6Address):
        return str(ipaddress.ip_network(f"{parsed}/{IPV6_CLIENT_PREFIX}", strict=False))
    return address
