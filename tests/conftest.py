"""Shared fixtures. The suite runs on real PostgreSQL and Redis (`make test` points at them)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from rest_framework.test import APIClient

from tests import factories


@pytest.fixture(autouse=True)
def _isolated_cache():
    """Each test starts with an empty cache (the test Redis database is ours alone)."""
    try:
        cache.clear()
    except Exception:  # noqa: S110 - tests that stop Redis clear it themselves
        pass
    yield


@pytest.fixture(autouse=True)
def _eager_tasks(settings):
    """Tasks run in-process unless a test asks for the real worker (`live_worker`)."""
    from ticketing.celery import app

    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = True


@pytest.fixture
def cinema(db):
    return factories.cinema()


@pytest.fixture
def auditorium(cinema):
    return factories.auditorium(cinema, rows=5, per_row=10)


@pytest.fixture
def screening(auditorium):
    return factories.screening(auditorium)


@pytest.fixture
def partner_key(db):
    return factories.partner_with_key()


@pytest.fixture
def api(partner_key):
    """An API client that authenticates as a partner."""
    partner, raw = partner_key
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    client.partner = partner
    return client


@pytest.fixture
def anon_api():
    return APIClient()


@pytest.fixture
def soon():
    return timezone.now() + timedelta(days=1)


def pytest_report_header(config):
    db = settings.DATABASES["default"]
    return f"database: {db['ENGINE']} {db.get('NAME')}; cache: {settings.CACHES['default']['BACKEND']}"
