"""Shared fixtures. The suite runs on real PostgreSQL and Redis (`make test` points at them).

Runs are isolated from each other, so two `make test` on one machine do not collide: each run
gets its own test databases (suffixed with the run id), its own cache key prefix per test and
its own Celery queue.
"""

from __future__ import annotations

import os
import uuid
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone
from rest_framework.test import APIClient

from tests import factories


def pytest_configure(config):
    if not hasattr(config, "workerinput"):  # the controller: before xdist starts its workers
        os.environ.setdefault("MARQUEE_TEST_RUN", str(os.getpid()))
    # One Celery queue per test process: a live worker started by one xdist worker must never
    # take the tasks of another (each has its own test database).
    worker = getattr(config, "workerinput", {}).get("workerid", "main")
    os.environ["CELERY_QUEUE"] = f"test-{os.environ.get('MARQUEE_TEST_RUN', os.getpid())}-{worker}"
    from ticketing.celery import app

    app.conf.task_default_queue = os.environ["CELERY_QUEUE"]


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    from pytest_django.fixtures import _set_suffix_to_test_databases

    _set_suffix_to_test_databases(f"run{os.environ.get('MARQUEE_TEST_RUN', os.getpid())}")


@pytest.fixture(autouse=True)
def _isolated_cache(settings):
    """Each test sees an empty cache: a key prefix of its own, no FLUSHDB of a shared Redis."""
    caches = {name: dict(conf) for name, conf in settings.CACHES.items()}
    caches["default"]["KEY_PREFIX"] = f"test-{uuid.uuid4().hex[:12]}"
    settings.CACHES = caches
    yield


@pytest.fixture(autouse=True)
def _fresh_api_key_cache():
    from ticketing.partners.services import forget_cached_keys

    forget_cached_keys()


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _eager_tasks(settings):
    """Tasks run in-process unless a test asks for the real worker (`live_worker`)."""
    from ticketing.celery import app

    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = True


@pytest.fixture
def admin_client(db, admin_user):
    """pytest-django's, signed in with both factors: the admin asks for the second one."""
    from django.test import Client

    from tests.staff.support import signed_in

    return signed_in(Client(), admin_user)


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
    return (
        f"database: {db['ENGINE']} {db.get('NAME')}; cache: {settings.CACHES['default']['BACKEND']}"
    )
