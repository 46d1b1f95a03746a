"""Prometheus metrics of the sale, served at `/metrics` in the text format.

Counters are counted where every path of a sale passes, not in each service: model signals for
what the database recorded (holds and orders created, orders paid; after commit, so a rolled
back sale counts nothing) and one middleware for what was answered (409 to a hold request, 429).
Gauges that are facts of the database (outbox backlog, sweep lag, heartbeat ages) are read at
scrape time, so any process can serve them and none has to keep them.

Under gunicorn the counters of all workers are added up through `PROMETHEUS_MULTIPROC_DIR`
(gunicorn.conf.py sets it up; prometheus_client's multiprocess mode). Elsewhere (`runserver`,
tests) they live in the process.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os

from django.conf import settings
from django.db import DatabaseError, transaction
from django.db.models import Count, Min
from django.db.models.signals import post_save
from django.http import HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    disable_created_metrics,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily

log = logging.getLogger(__name__)
disable_created_metrics()  # no `_created` series: single-process and multiprocess answers alike

SURFACES = ("api", "site")
HOLD_VIEWS = {"hold-create", "storefront:hold"}  # the API's POST /holds/, the storefront's form

HOLDS_CREATED = Counter("marquee_holds_created", "Holds created (API and storefront).")
HOLD_CONFLICTS = Counter(
    "marquee_hold_conflicts",
    "Hold requests answered 409: seats taken, none together, not on sale.",
    ["surface"],
)
ORDERS_CREATED = Counter("marquee_orders_created", "Orders created (pending payment).")
ORDERS_PAID = Counter("marquee_orders_paid", "Orders that became paid.")
THROTTLED = Counter("marquee_throttled_responses", "Requests answered 429.", ["surface"])
for _surface in SURFACES:  # exported as 0 before the first one
    HOLD_CONFLICTS.labels(_surface)
    THROTTLED.labels(_surface)


# ---- counting --------------------------------------------------------------------------------
def _after_commit(counter):
    def receiver(sender, instance, created, raw=False, **_):
        if created and not raw:
            transaction.on_commit(counter.inc)

    return receiver


def _paid(sender, instance, created, raw=False, **_):
    if created and not raw and instance.to_status == "paid" and instance.from_status != "paid":
        transaction.on_commit(ORDERS_PAID.inc)


_count_hold = _after_commit(HOLDS_CREATED)
_count_order = _after_commit(ORDERS_CREATED)


def connect_signals() -> None:
    from ticketing.inventory.models import Hold
    from ticketing.orders.models import Order, OrderStatusChange

    post_save.connect(_count_hold, sender=Hold, dispatch_uid="metrics-hold-created")
    post_save.connect(_count_order, sender=Order, dispatch_uid="metrics-order-created")
    post_save.connect(_paid, sender=OrderStatusChange, dispatch_uid="metrics-order-paid")


def surface(request) -> str:
    return "api" if request.path.startswith("/api/") else "site"


class MetricsMiddleware:
    """Counts what was answered: 429s anywhere, 409s to a hold request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        status = response.status_code
        if status == 429:
            THROTTLED.labels(surface(request)).inc()
        elif status == 409 and request.method == "POST":
            match = getattr(request, "resolver_match", None)
            if match is not None and match.view_name in HOLD_VIEWS:
                HOLD_CONFLICTS.labels(surface(request)).inc()
        return response


# ---- read at scrape time -------------------------------------------------------------------
class DatabaseCollector:
    """Gauges from the database, computed when Prometheus asks. A database that does not answer
    leaves them out (the counters are still served) and says so in the log."""

    def describe(self):
        return []

    def collect(self):
        try:
            families = list(self._families())
        except DatabaseError as exc:
            log.warning("metrics: database gauges left out: %s", exc)
            return
        yield from families

    def _families(self):
        from ticketing.inventory.models import SeatClaim
        from ticketing.outbox.models import MessageStatus, OutboxMessage

        from .heartbeats import heartbeat_ages

        now = timezone.now()
        backlog = GaugeMetricFamily(
            "marquee_outbox_messages",
            "Outbox messages not sent yet, by status (pending: waiting for a worker).",
            labels=["status"],
        )
        counts = {
            row["status"]: row["n"]
            for row in OutboxMessage.objects.exclude(status=MessageStatus.SENT)
            .values("status")
            .annotate(n=Count("id"))
        }
        for status in (MessageStatus.PENDING, MessageStatus.SENDING, MessageStatus.FAILED):
            backlog.add_metric([status.value], counts.get(status.value, 0))
        yield backlog

        oldest = OutboxMessage.objects.filter(status=MessageStatus.PENDING).aggregate(
            at=Min("created_at")
        )["at"]
        yield GaugeMetricFamily(
            "marquee_outbox_oldest_pending_age_seconds",
            "Age of the oldest pending outbox message (0 when none).",
            value=(now - oldest).total_seconds() if oldest else 0.0,
        )

        dead = SeatClaim.objects.filter(expires_at__lte=now).aggregate(
            n=Count("id"), at=Min("expires_at")
        )
        yield GaugeMetricFamily(
            "marquee_dead_claims", "Seat claims past their time, waiting for the sweep.", dead["n"]
        )
        yield GaugeMetricFamily(
            "marquee_sweep_lag_seconds",
            "How long the oldest dead seat claim has waited for the sweep (0 when none).",
            value=(now - dead["at"]).total_seconds() if dead["at"] else 0.0,
        )

        ages = GaugeMetricFamily(
            "marquee_heartbeat_age_seconds",
            "Seconds since a background component last showed it works (beat, worker, sweep).",
            labels=["component"],
        )
        for component, age in sorted(heartbeat_ages(now=now).items()):
            ages.add_metric([component], age)
        yield ages


def _registry() -> CollectorRegistry:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = CollectorRegistry()
        registry.register(_Default())
    registry.register(DatabaseCollector())
    return registry


class _Default:
    """This process's own registry (counters, and the process and GC collectors)."""

    def describe(self):
        return []

    def collect(self):
        return REGISTRY.collect()


# ---- the endpoint ----------------------------------------------------------------------------
def _loopback(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    mapped = getattr(ip, "ipv4_mapped", None)
    return ip.is_loopback or bool(mapped and mapped.is_loopback)


FORWARDED = ("HTTP_X_FORWARDED_FOR", "HTTP_FORWARDED", "HTTP_X_REAL_IP")


def refusal(request) -> HttpResponse | None:
    """With `MARQUEE_METRICS_TOKEN` set: that bearer token, from anywhere. Without: only a
    direct connection from this machine (a request a proxy passed on is refused, since the
    proxy on this machine would make every visitor look local)."""
    token = settings.MARQUEE_OBSERVABILITY["METRICS_TOKEN"]
    if token:
        given = request.headers.get("Authorization", "")
        if hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            return None
        response = HttpResponse(
            "A metrics token is needed.\n", status=401, content_type="text/plain"
        )
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    local = _loopback(request.META.get("REMOTE_ADDR", ""))
    if local and not any(request.META.get(name) for name in FORWARDED):
        return None
    return HttpResponse(
        "Metrics are served to this machine only; set MARQUEE_METRICS_TOKEN to scrape from "
        "elsewhere.\n",
        status=403,
        content_type="text/plain",
    )


@require_GET
def metrics_view(request):
    refused = refusal(request)
    if refused is not None:
        return refused
    response = HttpResponse(generate_latest(_registry()), content_type=CONTENT_TYPE_LATEST)
    response["Cache-Control"] = "no-store"
    return response
