"""Fixtures of the API tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def other_api(db):
    """A second partner's API client: it must never see the first partner's holds and orders."""
    from rest_framework.test import APIClient

    from tests import factories

    partner, raw = factories.partner_with_key()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    client.partner = partner
    return client
