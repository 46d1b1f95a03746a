"""Payments' work in the worker, as outbox handlers: the sandbox provider's webhook delivery,
and expiring the provider pages of payments whose orders closed unpaid.

The sandbox POSTs a signed event to our own webhook endpoint over HTTP, exactly as an outside
provider would. The event is an outbox message written in the transaction of the card's
outcome, so a broker that is down delays it (the relay queues it again) but never loses it,
and a connection error or a 5xx is tried again with the outbox's backoff. A 4xx is the
receiver's final answer: logged, not retried.
"""

from __future__ import annotations

import logging
import urllib.error
import urllib.request

from ticketing.outbox.services import handler
from ticketing.outbox.topics import SANDBOX_WEBHOOK_TOPIC, SESSIONS_EXPIRE_TOPIC

from . import signing

log = logging.getLogger(__name__)

DELIVERY_TIMEOUT = 10  # seconds


class DeliveryFailed(Exception):
    """A connection error or a 5xx: worth another try."""


def _http_post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> int:
    """The sandbox's HTTP boundary: POST and return the status code (4xx/5xx included).

    Raises OSError (urllib.error.URLError, timeouts) when no response came back.
    """
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"Not an http(s) URL: {url!r}")
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310 - scheme checked above
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - scheme checked above
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


@handler(SANDBOX_WEBHOOK_TOPIC)
def sandbox_deliver_webhook(payload: dict) -> int:
    """Sign the event now (a fresh timestamp on each try, as real providers do) and POST it to
    our sandbox webhook endpoint. Raises DeliveryFailed on a connection error or a 5xx, so the
    outbox tries again later; a 4xx is only logged."""
    from .providers import sandbox

    body_json = payload["body"]
    body = body_json.encode()
    url = sandbox.webhook_url()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Marquee-Sandbox/1.0",
        signing.HEADER: signing.sign(sandbox.webhook_secret(), body),
    }
    try:
        status = _http_post(url, body, headers, DELIVERY_TIMEOUT)
    except OSError as exc:
        log.warning("sandbox webhook to %s failed: %s", url, exc)
        raise DeliveryFailed(str(exc)) from exc
    if status >= 500:
        log.warning("sandbox webhook to %s got %s", url, status)
        raise DeliveryFailed(f"HTTP {status}")
    if status >= 400:
        log.error("sandbox webhook to %s refused with %s: %s", url, status, body_json[:500])
    return status


@handler(SESSIONS_EXPIRE_TOPIC)
def provider_pages_expire(payload: dict) -> None:
    """Ask the provider to close each payment's page (payments.services closed the payments).
    An error leaves the message for the outbox to try again: pages already closed are no-ops."""
    from . import providers
    from .models import Payment

    try:
        provider = providers.get(payload["provider"])
    except providers.UnknownProvider:
        log.warning("provider %s is no longer enabled: its pages are left", payload["provider"])
        return
    for payment in Payment.objects.filter(pk__in=payload["payment_ids"]).order_by("created_at"):
        provider.expire(payment)
