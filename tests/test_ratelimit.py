"""Rate limits fail open to this process's own counts while the shared cache (Redis) is unreachable, and never make
a request wait on it or fail: a cache on a port where nothing listens."""

from __future__ import annotations

import time

import pytest

from backend import breaker, ratelimit
from tests.live import free_port


@pytest.fixture
def cache_away(settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "backend.cache.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }


def test_limits_hold_per_process_while_the_cache_is_away(cache_away, caplog):
    limit = ratelimit.Limit("test-away", 3, 60)
    started = time.monotonic()
    with caplog.at_level("WARNING", logger="simpul.outage"):
        verdicts = [ratelimit.hit(limit, "someone") for _ in range(4)]
    assert [v.allowed for v in verdicts] == [True, True, True, False]
    assert 0 < verdicts[-1].retry_after <= 60
    assert ratelimit.hit(limit, "someone else").allowed  # each identity counts on its own
    assert not ratelimit.peek(limit, "someone").allowed
    ratelimit.give_back(limit, "someone")
    ratelimit.give_back(limit, "someone")
    assert ratelimit.peek(limit, "someone").allowed
    assert time.monotonic() - started < 1  # one failed try, then the breaker: nobody waits on Redis
    assert len(caplog.records) == 1  # the outage is logged once


def test_the_shared_cache_is_used_again_when_it_is_back(cache_away, settings, monkeypatch):
    monkeypatch.setattr(breaker.CACHE, "cooldown", 0.1)
    limit = ratelimit.Limit("test-back", 1, 60)
    assert ratelimit.hit(limit, "a").allowed  # counted locally
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "back"}}
    time.sleep(0.15)
    assert ratelimit.hit(limit, "a").allowed  # the shared count starts afresh
    assert not ratelimit.hit(limit, "a").allowed
