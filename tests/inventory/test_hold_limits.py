"""Seat squatting (issue 9, hole 1): one browser buyer, and one client network, hold at most a
share of a screening at once, decided in the database under the buyer's and network's turns.

Before the limits, about 31 cookie-less posts held a 310-seat room for the hold time, and each
IPv6 address counted as a client of its own.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests import factories
from tests.concurrency import run_many, unexpected, winners
from ticketing import errors
from ticketing.inventory.holds import client_network, hold_create, hold_release, hold_replace
from ticketing.inventory.models import Hold, SeatClaim


@pytest.fixture
def limits(settings):
    settings.MARQUEE = {**settings.MARQUEE, "HOLD_LIMIT_PER_BUYER": 6, "HOLD_LIMIT_PER_NETWORK": 12}
    return settings.MARQUEE


def row(screening, letter: str, count: int = 10) -> list[int]:
    return factories.seats(screening.auditorium, *[f"{letter}{n}" for n in range(1, count + 1)])


def held_seats(**hold_fields) -> int:
    filters = {f"hold__{name}": value for name, value in hold_fields.items()}
    return SeatClaim.objects.filter(expires_at__gt=timezone.now(), **filters).count()


def test_the_client_network_is_the_slash_24_or_the_slash_64():
    assert client_network("203.0.113.77") == "203.0.113.0/24"
    assert client_network("2001:db8:1:2:aaaa::1") == "2001:db8:1:2::/64"
    assert client_network("::ffff:198.51.100.9") == "198.51.100.0/24"
    assert client_network("") == client_network(None) == client_network("not an ip") == ""


@pytest.mark.django_db
def test_a_script_without_cookies_cannot_hold_a_whole_screening(screening, limits):
    """Every post a new buyer, all from one /24: the network's limit stops them."""
    a, b, c = row(screening, "A"), row(screening, "B"), row(screening, "C")
    asks = [a[0:4], a[4:8], b[0:4], b[4:8], c[0:4]]
    refused = []
    for i, seats in enumerate(asks):
        try:
            hold_create(
                screening_id=screening.pk,
                seat_ids=seats,
                buyer_key=f"fresh-{i}",
                client_ip=f"203.0.113.{10 + i}",
            )
        except errors.HoldLimitReached as exc:
            refused.append(exc.details)

    assert held_seats(client_network="203.0.113.0/24") == 12
    assert refused == [
        {"per": "network", "limit": 12, "held": 12, "requested": 4},
        {"per": "network", "limit": 12, "held": 12, "requested": 4},
    ]
    # Another network is not affected.
    hold_create(screening_id=screening.pk, seat_ids=c[4:8], buyer_key="x", client_ip="198.51.100.1")


@pytest.mark.django_db
def test_addresses_of_one_ipv6_slash_64_share_one_limit(screening, limits):
    seats = row(screening, "A") + row(screening, "B")
    for i in range(3):
        hold_create(
            screening_id=screening.pk,
            seat_ids=seats[i * 4 : i * 4 + 4],
            buyer_key=f"v6-{i}",
            client_ip=f"2001:db8:5:6::{i + 1:x}",
        )
    with pytest.raises(errors.HoldLimitReached) as exc:
        hold_create(
            screening_id=screening.pk,
            seat_ids=[seats[12]],
            buyer_key="v6-9",
            client_ip="2001:db8:5:6:ffff::9",
        )
    assert exc.value.details["per"] == "network"
    assert held_seats(client_network="2001:db8:5:6::/64") == 12


@pytest.mark.django_db
def test_one_buyer_cannot_pile_holds_past_the_buyer_limit(screening, limits):
    a = row(screening, "A")
    hold_create(screening_id=screening.pk, seat_ids=a[0:4], buyer_key="one")
    with pytest.raises(errors.HoldLimitReached) as exc:
        hold_create(screening_id=screening.pk, seat_ids=a[4:7], buyer_key="one")
    assert exc.value.details == {"per": "buyer", "limit": 6, "held": 4, "requested": 3}
    assert exc.value.code == "hold_limit_reached"
    assert held_seats(buyer_key="one") == 4
    # Best available counts the same way.
    with pytest.raises(errors.HoldLimitReached):
        hold_create(screening_id=screening.pk, quantity=3, buyer_key="one")


@pytest.mark.django_db
def test_choosing_again_gives_back_the_old_seats_before_counting(screening, limits):
    a = row(screening, "A")
    hold_replace(screening_id=screening.pk, seat_ids=a[0:6], buyer_key="chooser")
    hold = hold_replace(screening_id=screening.pk, seat_ids=a[4:10], buyer_key="chooser")
    assert held_seats(buyer_key="chooser") == 6
    assert sorted(hold.seat_ids) == sorted(a[4:10])


@pytest.mark.django_db
def test_released_and_dead_holds_do_not_count(screening, limits):
    a = row(screening, "A")
    first = hold_create(screening_id=screening.pk, seat_ids=a[0:6], buyer_key="b")
    hold_release(hold=first)
    second = hold_create(screening_id=screening.pk, seat_ids=a[0:6], buyer_key="b")
    Hold.objects.filter(pk=second.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    SeatClaim.objects.filter(hold=second).update(expires_at=timezone.now() - timedelta(seconds=1))
    hold_create(screening_id=screening.pk, seat_ids=a[0:6], buyer_key="b")


@pytest.mark.django_db
def test_partners_are_not_held_to_the_browser_limits(screening, limits, partner_key):
    partner, _ = partner_key
    seats = row(screening, "A") + row(screening, "B")
    hold_create(screening_id=screening.pk, seat_ids=seats[:10], partner=partner)
    hold_create(screening_id=screening.pk, seat_ids=seats[10:20], partner=partner)
    assert SeatClaim.objects.filter(hold__partner=partner).count() == 20


@pytest.mark.django_db(transaction=True)
def test_buyers_of_one_network_racing_never_hold_more_than_its_limit(screening, limits):
    """Eight cookie-less requests of three seats each at the same instant, limit 12: the turns
    make the count and the claim one decision, so exactly four win."""
    seats = row(screening, "A") + row(screening, "B") + row(screening, "C")

    outcomes = run_many(
        8,
        lambda i: hold_create(
            screening_id=screening.pk,
            seat_ids=seats[i * 3 : i * 3 + 3],
            buyer_key=f"racer-{i}",
            client_ip=f"192.0.2.{i + 1}",
        ),
    )

    assert unexpected(outcomes, errors.HoldLimitReached) == []
    assert len(winners(outcomes)) == 4
    assert held_seats(client_network="192.0.2.0/24") == 12
    assert SeatClaim.objects.count() == 12
