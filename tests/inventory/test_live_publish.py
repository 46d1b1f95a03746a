"""Every change to a screening's claims is published, after commit, on the screening's Redis
channel for the push server: the seats' new statuses with a version that counts up. Real Redis,
subscribed to as the push server does. A Redis that is down costs the viewers their push, never
a buyer their sale."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
import redis
from django.utils import timezone

from tests import factories
from tests.factories import hold
from ticketing.flows.sweep import sweep
from ticketing.inventory import live
from ticketing.inventory.holds import hold_create, hold_release
from ticketing.inventory.models import Hold, SeatClaim
from ticketing.orders.services import order_mark_paid


@pytest.fixture
def channel(settings):
    """The messages published for any screening, read as the push server reads them."""
    live.reset()
    client = redis.Redis.from_url(settings.REDIS_URL)
    pubsub = client.pubsub(ignore_subscribe_messages=True)
    pubsub.psubscribe(live.channel_pattern())
    pubsub.get_message(timeout=1)  # the subscription's confirmation

    def received(count: int = 1, timeout: float = 2.0) -> list[tuple[str, dict]]:
        out, deadline = [], time.monotonic() + timeout
        while len(out) < count and time.monotonic() < deadline:
            message = pubsub.get_message(timeout=0.1)
            if message and message["type"] == "pmessage":
                out.append((message["channel"].decode(), json.loads(message["data"])))
        return out

    yield received
    pubsub.close()
    client.close()
    live.reset()


def seat_id(screening, label: str) -> int:
    return factories.seats(screening.auditorium, label)[0]


def test_a_hold_publishes_its_seats_as_held_once_it_commits(
    screening, channel, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        hold(screening, "A1", "A2")
        assert channel(timeout=0.3) == []  # nothing before the commit
    for callback in callbacks:
        callback()

    [(name, message)] = channel()
    assert name == live.channel(screening.pk)
    assert message["seats"] == {
        str(seat_id(screening, "A1")): "held",
        str(seat_id(screening, "A2")): "held",
    }
    assert message["v"] >= 1


def test_each_change_counts_one_version_up(screening, channel, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = hold(screening, "B1")
    with django_capture_on_commit_callbacks(execute=True):
        hold_release(hold=first)
    held, released = (m for _, m in channel(2))
    assert released["v"] == held["v"] + 1
    assert released["seats"] == {str(seat_id(screening, "B1")): "available"}


def test_an_order_paid_publishes_its_seats_as_sold(
    screening, channel, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        order = factories.pending_order(screening, "C1", "C2")
    channel(1)  # the hold
    with django_capture_on_commit_callbacks(execute=True):
        order_mark_paid(order_id=order.pk, actor="test")
    [(_, message)] = channel()
    assert message["seats"] == {
        str(seat_id(screening, "C1")): "sold",
        str(seat_id(screening, "C2")): "sold",
    }


def test_the_sweep_publishes_the_seats_of_expired_holds_as_available(
    screening, channel, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        lapsed = hold(screening, "D1", "D2")
    channel(1)
    past = timezone.now() - timedelta(seconds=1)
    Hold.objects.filter(pk=lapsed.pk).update(expires_at=past)
    SeatClaim.objects.filter(hold_id=lapsed.pk).update(expires_at=past)

    with django_capture_on_commit_callbacks(execute=True):
        sweep()

    [(name, message)] = channel()
    assert name == live.channel(screening.pk)
    assert message["seats"] == {
        str(seat_id(screening, "D1")): "available",
        str(seat_id(screening, "D2")): "available",
    }


def test_a_writer_that_names_no_seats_tells_the_maps_to_fetch_again(screening, channel):
    live.publish(screening.pk)
    [(_, message)] = channel()
    assert message["refetch"] is True


def test_with_redis_down_the_hold_still_succeeds_and_nothing_is_published(
    screening, settings, django_capture_on_commit_callbacks, caplog
):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    live.reset()
    try:
        started = time.monotonic()
        with django_capture_on_commit_callbacks(execute=True):
            got = hold_create(
                screening_id=screening.pk,
                seat_ids=[seat_id(screening, "E1")],
                buyer_key="buyer",
            )
        assert Hold.objects.filter(pk=got.pk).exists()
        assert "viewers will poll" in caplog.text
        assert time.monotonic() - started < 2
        # ...and the next write does not even try for a while: a dead Redis costs no time.
        assert live.publish(screening.pk, [seat_id(screening, "E1")], "held") is None
    finally:
        live.reset()


def test_with_no_redis_configured_publishing_is_a_no_op(screening, settings):
    settings.REDIS_URL = ""
    live.reset()
    assert live.publish(screening.pk) is None
    live.reset()
    assert settings.CACHES  # the test's cache is untouched


def test_the_channels_are_apart_for_each_cache_prefix(settings):
    assert live.channel(7).startswith(settings.CACHES["default"]["KEY_PREFIX"])
    assert live.channel(7).endswith(":seats:7")
