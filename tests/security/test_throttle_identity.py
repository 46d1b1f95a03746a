"""Rate-limit identity (issue 9, hole 5): one function says who the client is, from a checked
proxy setting, for every limit; and the limits on holds and sign-ins hold with Redis down."""

from __future__ import annotations

import pytest
from django.test import RequestFactory
from rest_framework.test import APIClient

from tests import factories
from tests.api.support import assert_error, hold
from tests.security.startup import start
from tests.storefront.support import seat_id
from ticketing.api.throttling import AnonRateThrottle
from ticketing.client_ip import client_address, client_key
from ticketing.staff_login import SignInAttempts
from ticketing.storefront.throttle import StorefrontThrottle

PROXY = "10.0.0.2"


def request(xff: str | None = None, remote: str = PROXY):
    extra = {"REMOTE_ADDR": remote}
    if xff is not None:
        extra["HTTP_X_FORWARDED_FOR"] = xff
    return RequestFactory().post("/", **extra)


# ---- who the client is -----------------------------------------------------------------------
def test_with_no_trusted_proxy_x_forwarded_for_is_ignored(proxies):
    proxies(0)
    assert client_address(request("198.51.100.7", remote="203.0.113.9")) == "203.0.113.9"


def test_with_one_trusted_proxy_the_client_is_the_right_most_entry(proxies):
    proxies(1)
    assert client_address(request("198.51.100.7")) == "198.51.100.7"


def test_the_entries_a_client_writes_itself_are_ignored(proxies):
    """The client sends `X-Forwarded-For: 6.6.6.6`; the proxy appends the address it saw."""
    proxies(1)
    assert client_address(request("6.6.6.6, 1.2.3.4, 198.51.100.7")) == "198.51.100.7"


def test_with_two_trusted_proxies_the_client_is_the_second_entry_from_the_right(proxies):
    proxies(2)
    assert client_address(request("6.6.6.6, 198.51.100.7, 10.0.0.1")) == "198.51.100.7"


@pytest.mark.parametrize("xff", ["", "unknown", "not-an-address, "])
def test_an_unreadable_entry_falls_back_to_the_socket_address(proxies, xff):
    proxies(1)
    assert client_address(request(xff)) == PROXY


def test_addresses_written_with_a_port_or_mapped_to_ipv6_are_the_same_client(proxies):
    proxies(1)
    assert client_address(request("198.51.100.7:4711")) == "198.51.100.7"
    assert client_address(request("[2001:db8::1]:4711")) == "2001:db8::1"
    assert client_address(request(remote="::ffff:198.51.100.7")) == "198.51.100.7"


def test_an_ipv6_client_is_counted_by_its_64_network(proxies):
    proxies(0)
    assert client_key(request(remote="2001:db8:1:2::1")) == "2001:db8:1:2::/64"
    assert client_key(request(remote="2001:db8:1:2:ffff::9")) == "2001:db8:1:2::/64"
    assert client_key(request(remote="198.51.100.7")) == "198.51.100.7"


def test_every_limit_counts_the_same_client(proxies):
    proxies(1)
    spoofed = request("6.6.6.6, 198.51.100.7")
    idents = {
        AnonRateThrottle().get_ident(spoofed),
        StorefrontThrottle().get_ident(spoofed),
        SignInAttempts().get_ident(spoofed),
    }
    assert idents == {"198.51.100.7"}


# ---- the limits that follow --------------------------------------------------------------------
@pytest.mark.django_db
def test_an_ipv6_client_cannot_escape_the_limit_by_changing_address_in_its_network(rates):
    rates(anon="1/min")
    first = APIClient(REMOTE_ADDR="2001:db8:1:2::1")
    same_network = APIClient(REMOTE_ADDR="2001:db8:1:2::beef")
    elsewhere = APIClient(REMOTE_ADDR="2001:db8:1:3::1")
    assert first.get("/api/v1/films/").status_code == 200
    assert_error(same_network.get("/api/v1/films/"), 429, "throttled")
    assert elsewhere.get("/api/v1/films/").status_code == 200


@pytest.mark.django_db
def test_behind_a_proxy_buyers_are_counted_apart_and_cannot_pick_their_identity(
    client, screening, rates, proxies
):
    proxies(1)
    rates(storefront="2/min")
    url = f"/screenings/{screening.pk}/hold/"

    def post(label: str, xff: str) -> int:
        body = {"mode": "seats", "seat": [seat_id(screening, label)]}
        return client.post(url, body, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=xff).status_code

    # One buyer rotating what it writes in the header is still one buyer...
    assert [post(s, f"6.6.6.{n}, 198.51.100.7") for n, s in enumerate(["A1", "A2", "A3"])] == [
        302,
        302,
        429,
    ]
    # ...and another buyer behind the same proxy has a limit of its own.
    assert post("B1", "198.51.100.8") == 302


# ---- checked at start -----------------------------------------------------------------------------
@pytest.mark.parametrize("value", ["-1", "two", "11", "1.5"])
def test_a_nonsense_proxy_count_refuses_to_start(value):
    done = start({"DJANGO_DEBUG": "1", "MARQUEE_NUM_PROXIES": value})
    assert done.returncode != 0
    assert "MARQUEE_NUM_PROXIES must be the number of proxies" in done.stderr


def test_a_tls_proxy_in_front_with_no_proxy_trusted_refuses_to_start():
    done = start({"DJANGO_DEBUG": "1", "DJANGO_BEHIND_TLS_PROXY": "1"})
    assert done.returncode != 0
    assert "every buyer would share the proxy's address" in done.stderr
    trusted = {"DJANGO_DEBUG": "1", "DJANGO_BEHIND_TLS_PROXY": "1", "MARQUEE_NUM_PROXIES": "1"}
    assert start(trusted).returncode == 0


def test_a_rate_that_is_not_a_rate_refuses_to_start():
    done = start({"DJANGO_DEBUG": "1", "MARQUEE_THROTTLE_STOREFRONT": "sixty a minute"})
    assert done.returncode != 0
    assert "'storefront' rate limit 'sixty a minute'" in done.stderr


# ---- Redis down --------------------------------------------------------------------------------
@pytest.mark.django_db
def test_with_redis_down_storefront_holds_are_still_limited_per_process(
    client, screening, rates, redis_down
):
    rates(storefront="2/min")
    url = f"/screenings/{screening.pk}/hold/"
    answers = [
        client.post(url, {"mode": "seats", "seat": [seat_id(screening, label)]}).status_code
        for label in ("A1", "A2", "A3")
    ]
    assert answers == [302, 302, 429]


@pytest.mark.django_db
def test_with_redis_down_api_holds_are_still_limited_per_process(api, screening, rates, redis_down):
    rates(partner="2/min")
    seats = factories.seats(screening.auditorium, "A1", "A2", "A3")
    answers = [hold(api, screening, seat).status_code for seat in seats]
    assert answers == [201, 201, 429]


@pytest.mark.django_db
def test_with_redis_down_reads_still_pass_whatever_the_rate(anon_api, rates, redis_down):
    rates(anon="1/min")
    assert [anon_api.get("/api/v1/films/").status_code for _ in range(3)] == [200, 200, 200]
