"""Django's Redis cache, with one `redis.Redis` client per connection pool instead of a new one per cache call, and
`incr` in one round trip instead of two.

Django builds a client for every get/set/incr, and redis-py's `Redis.__init__` costs ~55 µs (its table of response
callbacks). A client without `single_connection_client` holds no connection of its own: each command borrows one from
the pool, so one client serves every thread. After a fork the pool sees the new process id and drops the parent's
connections, so a client kept across a fork is safe too.

Django's `incr` asks EXISTS and then INCRBY (the rate limits call it on every counted attempt); here a server-side
script does both at once, atomically, with the same answers (ValueError for a missing key).
"""

from __future__ import annotations

from django.core.cache.backends import redis as django_redis

# Increment a key that exists; nil (None) for one that does not, which Django's incr must not create.
_INCR_EXISTING = """
if redis.call('EXISTS', KEYS[1]) == 1 then
    return redis.call('INCRBY', KEYS[1], ARGV[1])
end
return false
"""


class RedisCacheClient(django_redis.RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}
        self._incr_scripts = {}

    def incr(self, key, delta):
        client = self.get_client(key, write=True)
        script = self._incr_scripts.get(id(client))
        if script is None:  # redis-py runs it by its SHA1 and loads it again where the server lost it
            script = self._incr_scripts[id(client)] = client.register_script(_INCR_EXISTING)
        value = script(keys=[key], args=[delta])
        if value is None:
            raise ValueError(f"Key '{key}' not found.")
        return value

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
