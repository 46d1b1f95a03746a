"""Django's Redis cache, with one redis.Redis client per connection pool instead of one per call.

Django builds a new `redis.Redis` for every cache operation; redis-py's constructor fills a
table of ~170 response callbacks each time, which is most of the client-side cost of a GET.
A client over a pool is thread-safe, so one per pool is enough.

`clear()` deletes this cache's own keys (its KEY_PREFIX and version), never the whole Redis
database as Django's does (FLUSHDB): the database also holds the waiting room's queues, the
Celery broker may share it, and test runs side by side each have their own prefix.
"""

from __future__ import annotations

from django.core.cache.backends import redis as django_redis


class _Client(django_redis.RedisCacheClient):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, object] = {}

    def get_client(self, key=None, *, write=False):
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            client = self._clients[index] = self._client(
                connection_pool=self._get_connection_pool(write)
            )
        return client


class RedisCache(django_redis.RedisCache):
    def __init__(self, server, params) -> None:
        super().__init__(server, params)
        self._class = _Client

    def clear(self) -> bool:
        client = self._cache.get_client(None, write=True)
        pattern = self.make_key("*").replace("[", "\\[").replace("?", "\\?")
        batch: list = []
        for key in client.scan_iter(match=pattern, count=1000):
            batch.append(key)
            if len(batch) >= 500:
                client.delete(*batch)
                batch = []
        if batch:
            client.delete(*batch)
        return True
