"""Django's Redis cache, with one `redis.Redis` client per connection pool instead of a new one per cache call.

Django builds a client for every get/set/incr, and redis-py's `Redis.__init__` costs ~55 µs (its table of response
callbacks). A client without `single_connection_client` holds no connection of its own: each command borrows one from
the pool, so one client serves every thread. After a fork the pool sees the new process id and drops the parent's
connections, so a client kept across a fork is safe too.
"""

from __future__ import annotations

from django.core.cache.backends import redis as django_redis


class RedisCacheClient(django_redis.RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        # Pools live as long as this object (Django keeps them in self._pools), so their ids stay theirs.
        client = self._clients.get(id(pool))
        if client is None:
            # Two threads racing here each build a client for the same pool; either one is fine to keep.
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class RedisCache(django_redis.RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = RedisCacheClient
