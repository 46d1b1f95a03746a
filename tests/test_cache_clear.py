"""cache.clear() empties this cache only, never the Redis database it shares."""

import redis
from django.conf import settings
from django.core.cache import cache


def test_clearing_the_cache_leaves_other_keys_of_the_redis_database_alone():
    other = redis.Redis.from_url(settings.CACHES["default"]["LOCATION"])
    other.set("not-the-cache:waiting-room", "kept")
    cache.set("mine", 1, 60)
    try:
        cache.clear()
        assert cache.get("mine") is None
        assert other.get("not-the-cache:waiting-room") == b"kept"
    finally:
        other.delete("not-the-cache:waiting-room")
