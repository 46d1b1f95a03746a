"""Payment tasks. The sandbox provider's webhook delivery lives here: it POSTs a signed event to
our own webhook endpoint over HTTP, exactly as an outside provider would."""

from __future__ import annotations

import logging
import urllib.error
import urllib.request

from celery import shared_task

from . import signing

log = logging.getLogger(__name__)

DELIVERY_TIMEOUT = 10  # seconds
DELIVERY_MAX_RETRIES = 5


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


@shared_task(
    bind=True,
    ignore_result=True,
    acks_late=True,
    max_retries=DELIVERY_MAX_RETRIES,
    soft_time_limit=60,
    time_limit=90,
)
def sandbox_deliver_webhook(self, body_json: str) -> int:
    """Sign `body_json` now (a fresh timestamp on each try, as real providers do) and POST it to
    our sandbox webhook endpoint. Retries with backoff on connection errors and 5xx; a 4xx is
    the receiver's final answer and is only logged."""
    from .providers import sandbox

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
        log.warning("sandbox webhook to %s failed: %s (try %s)", url, exc, self.request.retries + 1)
        raise self.retry(exc=DeliveryFailed(str(exc)), countdown=2**self.request.retries) from exc
    if status >= 500:
        log.warning("sandbox webhook to %s got %s (try %s)", url, status, self.request.retries + 1)
        raise self.retry(exc=DeliveryFailed(f"HTTP {status}"), countdown=2**self.request.retries)
    if status >= 400:
        log.error("sandbox webhook to %s refused with %s: %s", url, status, body_json[:500])
    return status
