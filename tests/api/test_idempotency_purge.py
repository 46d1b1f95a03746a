"""Idempotency records are kept for a day, then forgotten by a periodic task."""

from datetime import timedelta

import pytest
from django.utils import timezone

from ticketing.api.models import IdempotencyRecord
from ticketing.api.tasks import purge_idempotency_records

pytestmark = pytest.mark.django_db


def test_records_older_than_the_retention_are_purged_and_recent_ones_kept(partner_key, settings):
    partner, _ = partner_key
    settings.MARQUEE = {**settings.MARQUEE, "IDEMPOTENCY_KEY_HOURS": 24}
    old = IdempotencyRecord.objects.create(
        partner=partner,
        key="old",
        method="POST",
        path="/api/v1/holds/",
        request_hash="x",
        created_at=timezone.now() - timedelta(hours=25),
    )
    recent = IdempotencyRecord.objects.create(
        partner=partner, key="recent", method="POST", path="/api/v1/holds/", request_hash="y"
    )

    assert purge_idempotency_records() == 1

    assert not IdempotencyRecord.objects.filter(pk=old.pk).exists()
    assert IdempotencyRecord.objects.filter(pk=recent.pk).exists()
