"""Who may call what: reads are open, holds and orders need a partner key with the `book` scope.
Calls are rate limited, and neither the limits nor the cache take the API down with Redis."""

from __future__ import annotations

import uuid

import pytest
import redis
from django.core.cache import caches
from rest_framework.test import APIClient

from tests import factories
from tests.api.support import assert_error, hold, order, seat_statuses
from ticketing.api import throttling
from ticketing.inventory.models import Hold
from ticketing.partners import services as partner_services
from ticketing.partners.models import ApiKey, Partner
from ticketing.partners.services import api_key_create, api_key_revoke, api_key_update

pytestmark = pytest.mark.django_db


def bearer(raw: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def reads(screening) -> list[str]:
    return [
        "/api/v1/films/",
        f"/api/v1/films/{screening.film_id}/",
        "/api/v1/cinemas/",
        "/api/v1/screenings/",
        f"/api/v1/screenings/{screening.pk}/",
        f"/api/v1/screenings/{screening.pk}/seats/",
    ]


def writes() -> list[tuple[str, str]]:
    some = "00000000-0000-4000-8000-000000000000"  # fixed: xdist workers must collect the same ids
    return [
        ("post", "/api/v1/holds/"),
        ("get", f"/api/v1/holds/{some}/"),
        ("delete", f"/api/v1/holds/{some}/"),
        ("post", "/api/v1/orders/"),
        ("get", f"/api/v1/orders/{some}/"),
        ("post", f"/api/v1/orders/{some}/cancel/"),
    ]


# ---- authentication ----------------------------------------------------------------------------
def test_the_catalogue_and_seat_maps_are_open_to_anyone(anon_api, screening):
    for path in reads(screening):
        assert anon_api.get(path).status_code == 200, path


@pytest.mark.parametrize(("method", "path"), writes())
def test_holds_and_orders_without_a_key_are_401_with_www_authenticate(anon_api, method, path):
    response = getattr(anon_api, method)(path, {}, format="json")
    assert_error(response, 401, "unauthenticated")
    assert response["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize(
    "header",
    [
        "Bearer nonsense",
        "Bearer mq_deadbeef_notakey",
        "Bearer mq__",
        "Bearer ",
        "Bearer mq_" + "x" * 5000,
    ],
)
def test_an_unknown_key_is_401(partner_key, header, screening):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    response = hold(client, screening, *factories.seats(screening.auditorium, "A1"))
    assert_error(response, 401, "unauthenticated")
    assert response["WWW-Authenticate"] == "Bearer"
    assert not Hold.objects.exists()


def test_a_key_with_the_right_prefix_and_a_wrong_secret_is_401(partner_key, screening):
    _, raw = partner_key
    forged = raw[:-4] + ("AAAA" if not raw.endswith("AAAA") else "BBBB")
    response = hold(bearer(forged), screening, *factories.seats(screening.auditorium, "A1"))
    assert_error(response, 401, "unauthenticated")
    assert (
        hold(bearer(raw), screening, *factories.seats(screening.auditorium, "A1")).status_code
        == 201
    )


def test_a_revoked_key_is_401_and_the_partners_other_keys_still_work(partner_key, screening):
    partner, raw = partner_key
    _, other_raw = api_key_create(partner=partner)
    api_key_revoke(key=ApiKey.objects.get(partner=partner, prefix=raw.split("_")[1]))
    a1, a2 = factories.seats(screening.auditorium, "A1", "A2")

    assert_error(hold(bearer(raw), screening, a1), 401, "unauthenticated")
    assert hold(bearer(other_raw), screening, a2).status_code == 201


def test_the_key_of_a_deactivated_partner_is_401(partner_key, screening):
    partner, raw = partner_key
    Partner.objects.filter(pk=partner.pk).update(is_active=False)
    assert_error(
        hold(bearer(raw), screening, *factories.seats(screening.auditorium, "A1")),
        401,
        "unauthenticated",
    )


def test_a_bad_key_on_a_read_is_refused_rather_than_ignored(screening):
    response = bearer("mq_deadbeef_notakey").get(f"/api/v1/screenings/{screening.pk}/seats/")
    assert_error(response, 401, "unauthenticated")


def test_another_authorization_scheme_is_anonymous(screening):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Basic dXNlcjpwYXNz")
    assert client.get("/api/v1/films/").status_code == 200
    assert_error(
        hold(client, screening, *factories.seats(screening.auditorium, "A1")),
        401,
        "unauthenticated",
    )


@pytest.mark.parametrize(("method", "path"), writes())
def test_a_key_without_the_book_scope_is_403_forbidden(method, path):
    _, raw = factories.partner_with_key(scopes=["read"])
    response = getattr(bearer(raw), method)(path, {}, format="json")
    details = assert_error(response, 403, "scope_required")
    assert details == {"scope": "book"}
    assert "book" in response.json()["error"]["message"]


def test_a_read_only_key_still_reads(screening):
    _, raw = factories.partner_with_key(scopes=["read"])
    for path in reads(screening):
        assert bearer(raw).get(path).status_code == 200, path


# ---- throttling --------------------------------------------------------------------------------
@pytest.fixture
def private_cache(settings):
    """Throttle counters in a cache of this test's own: the Redis database is shared with the
    other test workers, which empty it at the start of each of their tests."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"throttle-{uuid.uuid4()}",
        }
    }


@pytest.fixture
def rates(monkeypatch, private_cache):
    """Set the rates low. DRF reads THROTTLE_RATES into the class once, so patch the classes."""

    def set_rates(anon="1000/min", partner="1000/min"):
        monkeypatch.setattr(
            throttling.AnonRateThrottle, "THROTTLE_RATES", {"anon": anon, "partner": partner}
        )
        monkeypatch.setattr(
            throttling.PartnerRateThrottle, "THROTTLE_RATES", {"anon": anon, "partner": partner}
        )

    return set_rates


def test_anonymous_callers_are_throttled_with_429_and_retry_after(anon_api, screening, rates):
    rates(anon="2/min")
    path = f"/api/v1/screenings/{screening.pk}/seats/"
    assert [anon_api.get(path).status_code for _ in range(2)] == [200, 200]

    response = anon_api.get(path)
    details = assert_error(response, 429, "throttled")
    assert 1 <= int(response["Retry-After"]) <= 61
    assert details == {"retry_after": int(response["Retry-After"])}


def test_anonymous_callers_are_counted_per_address(screening, rates):
    rates(anon="1/min")
    first, second = APIClient(REMOTE_ADDR="203.0.113.1"), APIClient(REMOTE_ADDR="203.0.113.2")
    assert first.get("/api/v1/films/").status_code == 200
    assert_error(first.get("/api/v1/films/"), 429, "throttled")
    assert second.get("/api/v1/films/").status_code == 200


def test_a_partner_is_throttled_on_its_own_rate_not_the_anonymous_one(api, screening, rates):
    rates(anon="1/min", partner="3/min")
    statuses = [api.get("/api/v1/films/").status_code for _ in range(3)]
    assert statuses == [200, 200, 200]

    response = hold(api, screening, *factories.seats(screening.auditorium, "A1"))
    assert_error(response, 429, "throttled")
    assert int(response["Retry-After"]) >= 1
    assert not Hold.objects.exists()


def test_partners_are_counted_separately(api, other_api, rates):
    rates(partner="1/min")
    assert api.get("/api/v1/films/").status_code == 200
    assert_error(api.get("/api/v1/films/"), 429, "throttled")
    assert other_api.get("/api/v1/films/").status_code == 200


# ---- Redis down ----------------------------------------------------------------------------------
def stop_redis(settings) -> dict:
    """The cache points at a port where nothing answers, as when Redis has stopped; returns
    the cache settings to start it again with."""
    running = settings.CACHES
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:6399/0",
            "OPTIONS": {"socket_connect_timeout": 0.1, "socket_timeout": 0.1},
        }
    }
    # Changing CACHES makes Django drop its cache clients, so the next use connects afresh.
    with pytest.raises(redis.exceptions.ConnectionError):
        caches["default"].get("probe")
    return running


@pytest.fixture
def redis_down(settings):
    stop_redis(settings)
    return settings


@pytest.mark.django_db(transaction=True)
def test_with_redis_down_seat_maps_holds_and_orders_still_work(
    redis_down, screening, partner_key, monkeypatch
):
    monkeypatch.setattr(
        throttling.AnonRateThrottle, "THROTTLE_RATES", {"anon": "1/min", "partner": "1/min"}
    )
    monkeypatch.setattr(
        throttling.PartnerRateThrottle, "THROTTLE_RATES", {"anon": "1/min", "partner": "1/min"}
    )
    _, raw = partner_key
    api, anon = bearer(raw), APIClient()
    a1, a2 = factories.seats(screening.auditorium, "A1", "A2")

    # Reads: the seat map is built from the database each time, and the throttles let it pass.
    for client in (anon, anon, api, api):
        assert seat_statuses(client, screening)[a1] == "available"
    assert anon.get("/api/v1/screenings/").status_code == 200

    created = hold(api, screening, a1, a2)
    assert created.status_code == 201, created.content
    hold_id = created.json()["id"]
    assert api.get(f"/api/v1/holds/{hold_id}/").json()["status"] == "active"
    assert seat_statuses(anon, screening)[a1] == "held"

    placed = order(api, hold_id, [(a1, "adult"), (a2, "child")])
    assert placed.status_code == 201, placed.content
    order_id = placed.json()["id"]
    assert api.get(f"/api/v1/orders/{order_id}/").json()["status"] == "pending_payment"

    cancelled = api.post(f"/api/v1/orders/{order_id}/cancel/")
    assert cancelled.status_code == 200, cancelled.content
    assert seat_statuses(anon, screening)[a1] == "available"


@pytest.mark.django_db(transaction=True)
def test_with_redis_down_keys_are_checked_against_the_database_and_revoked_ones_refused(
    settings, screening
):
    """Never a stale yes: what a server remembered of a key is not trusted while Redis cannot
    say whether it still holds, nor after Redis is back, since a revocation made meanwhile
    could not be announced."""
    partner, raw = factories.partner_with_key()
    _, revoked_raw = api_key_create(partner=partner, name="to revoke")
    a1, a2, a3 = factories.seats(screening.auditorium, "A1", "A2", "A3")
    assert bearer(raw).get("/api/v1/films/").status_code == 200
    assert bearer(revoked_raw).get("/api/v1/films/").status_code == 200
    remembered = dict(partner_services._memo)  # what this server (and any other) now holds

    running = stop_redis(settings)
    api_key_revoke(key=ApiKey.objects.get(prefix=revoked_raw.split("_")[1]))
    partner_services._memo.update(remembered)

    assert_error(hold(bearer(revoked_raw), screening, a1), 401, "unauthenticated")
    assert hold(bearer(raw), screening, a2).status_code == 201

    settings.CACHES = running  # Redis is back, still holding what it had before
    partner_services._memo.update(remembered)
    assert_error(hold(bearer(revoked_raw), screening, a1), 401, "unauthenticated")
    assert hold(bearer(raw), screening, a3).status_code == 201


# ---- a rate per key --------------------------------------------------------------------------
@pytest.fixture
def partner_rate(monkeypatch):
    """The partners' default rate, counted in Redis (each test has its own key prefix)."""

    def set_rate(rate: str):
        monkeypatch.setattr(throttling.PartnerRateThrottle, "THROTTLE_RATES", {"partner": rate})

    return set_rate


def test_each_key_of_a_partner_is_counted_apart(partner_key, partner_rate):
    partner_rate("2/min")
    partner, raw = partner_key
    _, second_raw = api_key_create(partner=partner, name="second")
    first, second = bearer(raw), bearer(second_raw)

    assert [first.get("/api/v1/films/").status_code for _ in range(2)] == [200, 200]
    response = first.get("/api/v1/films/")
    assert_error(response, 429, "throttled")
    assert 1 <= int(response["Retry-After"]) <= 61
    assert [second.get("/api/v1/films/").status_code for _ in range(2)] == [200, 200]


def test_a_key_with_its_own_rate_is_held_to_it_and_the_others_to_the_default(
    partner_key, partner_rate
):
    partner_rate("3/min")
    partner, raw = partner_key
    _, slow_raw = api_key_create(partner=partner, name="reports", rate_per_minute=1)
    _, fast_raw = api_key_create(partner=partner, name="shop", rate_per_minute=5)
    slow, fast, default = bearer(slow_raw), bearer(fast_raw), bearer(raw)

    assert slow.get("/api/v1/films/").status_code == 200
    assert int(assert_error(slow.get("/api/v1/films/"), 429, "throttled")["retry_after"]) >= 1
    assert [fast.get("/api/v1/films/").status_code for _ in range(6)] == [200] * 5 + [429]
    assert [default.get("/api/v1/films/").status_code for _ in range(4)] == [200] * 3 + [429]


def test_a_new_rate_for_a_key_applies_at_its_next_call(partner_key, partner_rate):
    partner_rate("1000/min")
    partner, raw = partner_key
    client = bearer(raw)
    assert client.get("/api/v1/films/").status_code == 200

    key = ApiKey.objects.get(partner=partner)
    api_key_update(key=key, name=key.name, scopes=key.scopes, rate_per_minute=1)

    assert_error(client.get("/api/v1/films/"), 429, "throttled")


def test_a_keys_rate_is_its_partners_own_and_never_counts_another_partners_calls(
    partner_key, partner_rate
):
    partner_rate("1000/min")
    partner, raw = partner_key
    other, other_raw = factories.partner_with_key()
    ApiKey.objects.filter(partner__in=[partner, other]).update(rate_per_minute=1)

    assert bearer(raw).get("/api/v1/films/").status_code == 200
    assert bearer(other_raw).get("/api/v1/films/").status_code == 200
    assert_error(bearer(raw).get("/api/v1/films/"), 429, "throttled")
