"""Revocation takes effect at once on every server (issue 10). A checked key is remembered, in
the process and in Redis, under the keys version; revoking or deactivating renews the version
when it commits, so what any server remembered stops counting.

"Another server" is this process with the memo it had before the revocation put back: exactly
what a second gunicorn worker holds, which the revoking process cannot reach."""

from __future__ import annotations

import pytest
import redis
from django.core.cache import cache as django_cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests import factories
from ticketing.partners import services
from ticketing.partners.models import ApiKey
from ticketing.partners.services import (
    api_key_check,
    api_key_create,
    api_key_revoke,
    forget_cached_keys,
    partner_deactivate,
)

pytestmark = pytest.mark.django_db(transaction=True)


def key_row(raw: str) -> ApiKey:
    return ApiKey.objects.get(prefix=raw.split("_")[1])


def another_server_that_checked(raw: str) -> dict:
    """What a second server remembers once it has checked `raw`."""
    forget_cached_keys()
    assert api_key_check(raw) is not None
    return dict(services._memo)


def become(server_memo: dict) -> None:
    forget_cached_keys()
    services._memo.update(server_memo)


@pytest.fixture
def redis_calls(monkeypatch):
    """Counts the commands sent to Redis (a spy on redis-py, not a stand-in for it)."""
    calls = []
    send = redis.Redis.execute_command

    def counted(self, *args, **options):
        calls.append(args[0])
        return send(self, *args, **options)

    monkeypatch.setattr(redis.Redis, "execute_command", counted)
    return calls


def test_a_key_revoked_on_one_server_is_refused_at_once_by_another_that_remembered_it():
    _, raw = factories.partner_with_key()
    other = another_server_that_checked(raw)
    forget_cached_keys()

    api_key_revoke(key=key_row(raw))

    become(other)
    assert api_key_check(raw) is None
    forget_cached_keys()  # a server that had never seen it
    assert api_key_check(raw) is None


def test_deactivating_a_partner_is_refused_at_once_everywhere_and_spares_other_partners():
    partner, raw = factories.partner_with_key()
    _, second_raw = api_key_create(partner=partner, name="second")
    _, stranger_raw = factories.partner_with_key()
    remembered = {}
    for key in (raw, second_raw, stranger_raw):
        remembered.update(another_server_that_checked(key))

    partner_deactivate(partner=partner)

    become(remembered)
    assert api_key_check(raw) is None
    assert api_key_check(second_raw) is None
    assert api_key_check(stranger_raw).partner != partner


def test_revoking_one_key_leaves_the_partners_other_keys_working_everywhere():
    partner, raw = factories.partner_with_key()
    _, kept_raw = api_key_create(partner=partner, name="kept")
    remembered = {**another_server_that_checked(raw), **another_server_that_checked(kept_raw)}

    api_key_revoke(key=key_row(raw))

    become(remembered)
    assert api_key_check(raw) is None
    assert api_key_check(kept_raw).name == "kept"


def test_an_entry_written_back_late_by_a_slow_server_is_not_trusted():
    """A server that read the key just before the revocation committed may write its entry to
    Redis after: the entry carries the old version, so it does not count."""
    _, raw = factories.partner_with_key()
    forget_cached_keys()
    api_key_check(raw)
    entry_key = services._entry_key(services.hash_key(raw))
    late_entry = django_cache.get(entry_key)
    assert late_entry is not None

    api_key_revoke(key=key_row(raw))
    django_cache.set(entry_key, late_entry, 30)

    forget_cached_keys()
    assert api_key_check(raw) is None


def test_a_revocation_while_redis_had_lost_its_data_is_still_seen():
    """Redis restarted empty and the revocation's new version was never written: a server's
    memo, stamped with a version Redis no longer has, is not trusted."""
    _, raw = factories.partner_with_key()
    other = another_server_that_checked(raw)
    django_cache.delete_many([services.VERSION_KEY, services._entry_key(services.hash_key(raw))])
    ApiKey.objects.filter(pk=key_row(raw).pk).update(revoked_at=timezone.now())

    become(other)
    assert api_key_check(raw) is None


def test_a_remembered_key_costs_one_redis_round_trip_and_no_query(redis_calls):
    _, raw = factories.partner_with_key()
    forget_cached_keys()
    api_key_check(raw)  # learnt from the database, now in Redis and in this process

    redis_calls.clear()
    with CaptureQueriesContext(connection) as queries:
        assert api_key_check(raw) is not None
    assert (redis_calls, len(queries)) == (["MGET"], 0)

    forget_cached_keys()  # another server: Redis knows the key
    redis_calls.clear()
    with CaptureQueriesContext(connection) as queries:
        assert api_key_check(raw) is not None
    assert (redis_calls, len(queries)) == (["MGET"], 0)


def test_an_unknown_key_is_never_remembered(redis_calls):
    _, raw = factories.partner_with_key()
    api_key_check(raw)
    forget_cached_keys()
    redis_calls.clear()
    for _ in range(2):
        with CaptureQueriesContext(connection) as queries:
            assert api_key_check("mq_deadbeef_notakey") is None
        assert len(queries) == 1
    assert services._memo == {}
    assert redis_calls == ["MGET", "MGET"]
