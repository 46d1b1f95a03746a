"""Fixtures of the security tests: low rates, trusted proxies, and Redis gone."""

from __future__ import annotations

import uuid

import pytest
import redis
from django.core.cache import caches

from ticketing.api import throttling


@pytest.fixture
def rates(settings, monkeypatch):
    """Set rates by scope. The storefront's and the staff sign-in's are read from the settings
    at each request; DRF's API throttles read theirs into the class once, so patch those."""

    def set_rates(**scopes: str) -> None:
        merged = {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], **scopes}
        settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": merged}
        for cls in (throttling.AnonRateThrottle, throttling.PartnerRateThrottle):
            monkeypatch.setattr(cls, "THROTTLE_RATES", merged)

    return set_rates


@pytest.fixture
def redis_down(settings):
    """The cache points at a port where nothing answers, as when Redis has stopped. A key prefix
    of its own, so this test's per-process counts are not another test's."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:6399/0",
            "KEY_PREFIX": f"down-{uuid.uuid4().hex[:12]}",
            "OPTIONS": {"socket_connect_timeout": 0.1, "socket_timeout": 0.1},
        }
    }
    with pytest.raises(redis.exceptions.ConnectionError):
        caches["default"].get("probe")
    return settings


@pytest.fixture
def proxies(settings):
    """Say how many trusted proxies stand in front."""

    def set_proxies(count: int) -> None:
        settings.MARQUEE = {**settings.MARQUEE, "TRUSTED_PROXIES": count}

    return set_proxies
