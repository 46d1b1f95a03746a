"""Fixtures of the onsale tests."""

from __future__ import annotations

import pytest
from django.core import signals
from django.db import close_old_connections


@pytest.fixture
def keep_the_test_transaction():
    """As Django's test client does, for tests that call the WSGI application themselves: a
    request's end must not close the test's connection."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)
