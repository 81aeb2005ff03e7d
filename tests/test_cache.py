"""The shared cache: Django's Redis backend, with one redis-py client per connection pool (backend/cache.py)."""

from __future__ import annotations

import os

import pytest
from django.core.cache import cache, caches

from backend.cache import RedisCache

needs_redis = pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs REDIS_URL")


@needs_redis
def test_cache_calls_share_one_client_and_the_cache_works():
    assert isinstance(caches["default"], RedisCache)
    client = cache._cache.get_client()
    assert cache._cache.get_client("some-key", write=True) is client
    cache.set("count", 1)
    cache.set("thing", {"a": [1, 2]})
    assert cache.get("thing") == {"a": [1, 2]}
    assert cache.incr("count", 2) == 3
    assert cache.add("count", 10) is False
    assert cache.get_many(["count", "thing", "missing"]) == {"count": 3, "thing": {"a": [1, 2]}}
    assert cache.delete("count") is True
    assert cache.get("count", "gone") == "gone"
    with pytest.raises(ValueError):
        cache.incr("count")
    assert cache._cache.get_client() is client


@needs_redis
def test_a_client_kept_across_a_fork_uses_the_childs_own_connections():
    cache.set("before-fork", "parent")
    client = cache._cache.get_client()
    parent_connections = set(client.connection_pool._available_connections)
    pid = os.fork()
    if pid == 0:
        ok = False
        try:
            # The pool sees the new process id and drops the parent's connections rather than share their sockets.
            ok = cache.get("before-fork") == "parent" and cache._cache.get_client() is client
            cache.set("after-fork", "child")
            ok = ok and not parent_connections & set(client.connection_pool._available_connections)
        finally:
            os._exit(0 if ok else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert cache.get("after-fork") == "child"
    assert cache.get("before-fork") == "parent"


@needs_redis
def test_incr_is_one_round_trip_with_djangos_answers():
    """The rate limits count every attempt with incr: one script call, where Django asks EXISTS then INCRBY."""
    client = cache._cache.get_client()
    cache.set("hits", 5, timeout=300)
    before = client.info("commandstats")
    assert cache.incr("hits") == 6 and cache.incr("hits", 4) == 10 and cache.incr("hits", -3) == 7
    after = client.info("commandstats")

    def calls(stats, name):
        return stats.get(f"cmdstat_{name}", {}).get("calls", 0)

    # Three script calls (EXISTS and INCRBY run inside them, on the server).
    assert sum(calls(after, c) - calls(before, c) for c in ("evalsha", "eval")) == 3
    assert 290 < client.ttl(cache.make_key("hits")) <= 300  # the count keeps its expiry
    with pytest.raises(ValueError, match="not found"):
        cache.incr("no-such-count")
    assert cache.get("no-such-count") is None  # and is not created by asking
    client.script_flush()  # a server that lost the script (restarted, flushed) gets it again
    assert cache.incr("hits") == 8
