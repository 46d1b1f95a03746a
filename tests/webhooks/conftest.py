"""Webhook tests: partners with the `webhooks` scope, local receivers, and the settings that let
webhooks reach 127.0.0.1 over plain http (the suite runs with production's refusals)."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from tests import factories
from ticketing.webhooks import services

from .receiver import Receiver

SCOPES = ["read", "book", "webhooks"]


@pytest.fixture(autouse=True)
def _local_receivers_allowed(settings):
    settings.MARQUEE_WEBHOOKS = {
        **settings.MARQUEE_WEBHOOKS,
        "ALLOW_HTTP": True,
        "ALLOW_PRIVATE_ADDRESSES": True,
        "TIMEOUT_SECONDS": 2,
    }


@pytest.fixture
def receiver():
    """A receiver that answers 200; `make_receiver(500, 200)` scripts another."""
    with Receiver(200) as r:
        yield r


@pytest.fixture
def make_receiver():
    started = []

    def make(*answers: int, delay: float = 0.0) -> Receiver:
        r = Receiver(*answers, delay=delay).__enter__()
        started.append(r)
        return r

    yield make
    for r in started:
        r.__exit__()


def client_for(raw_key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    return client


@pytest.fixture
def partner(db):
    partner, raw = factories.partner_with_key(scopes=SCOPES)
    partner.raw_key = raw
    return partner


@pytest.fixture
def other_partner(db):
    partner, raw = factories.partner_with_key(scopes=SCOPES)
    partner.raw_key = raw
    return partner


@pytest.fixture
def hooks_api(partner) -> APIClient:
    return client_for(partner.raw_key)


def endpoint_for(partner, url: str, events=("order.paid",)):
    """An endpoint and its secret, made through the service."""
    return services.endpoint_create(partner=partner, url=url, event_types=list(events))
