"""Django's Redis cache, with one redis-py client per connection pool instead of one per
operation.

Django's ``RedisCacheClient.get_client`` builds a new ``redis.Redis`` for every cache
call. Since redis-py 6 that constructor registers its response callbacks and event
listeners each time, which costs more than the round trip to Redis itself: with a few
cache reads per request (the generations behind the ETags, throttle counters, the
response cache) it was the largest single cost of an anonymous post detail
(docs/performance.md, "HTTP caching"). A ``redis.Redis`` is thread-safe and shares its
pool, so one per pool serves every thread of a process; the pool, as before, opens a
connection per thread that needs one and re-opens them after a fork.
"""

from typing import Any

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient


class ReusedClientRedisCacheClient(RedisCacheClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            # Two threads may both build one the first time: either is as good.
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class RedisCache(DjangoRedisCache):
    """``django.core.cache.backends.redis.RedisCache`` with reused clients (module doc)."""

    def __init__(self, server: str | list[str], params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = ReusedClientRedisCacheClient
