"""Fixed-window rate limits on the shared cache (Redis in production, so all processes count together).

While the shared cache is unreachable the limits fail open to this process's own counts (breaker.CACHE): each
process then allows up to the limit by itself, and the counts start afresh when Redis is back. A request is never
refused, or failed, because Redis is away."""

from __future__ import annotations

import contextlib
import threading
import time
from dataclasses import dataclass

from django.core.cache import cache

from backend import breaker

LOCAL_KEYS_MAX = 10_000  # counts kept in a process before the ended windows are dropped


@dataclass(frozen=True)
class Limit:
    scope: str
    limit: int
    window_seconds: int


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int


class _LocalCounts:
    """Counts of this process alone, for while the shared cache is away: key -> (count, end of its window)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.counts: dict[str, tuple[int, int]] = {}

    def add(self, key: str, delta: int, window_end: int) -> int:
        with self.lock:
            if len(self.counts) >= LOCAL_KEYS_MAX:
                now = int(time.time())
                self.counts = {k: v for k, v in self.counts.items() if v[1] > now}
            count = max(0, self.counts.get(key, (0, window_end))[0] + delta)
            self.counts[key] = (count, window_end)
            return count

    def get(self, key: str) -> int:
        with self.lock:
            return self.counts.get(key, (0, 0))[0]


_local = _LocalCounts()


def _key(limit: Limit, identity: str) -> tuple[str, int, int]:
    """The key counting `identity`'s attempts in the current window, when that window ends, and now."""
    now = int(time.time())
    window_start = now - now % limit.window_seconds
    return f"rl:{limit.scope}:{identity}:{window_start}", window_start + limit.window_seconds, now


def _incr_shared(key: str, limit: Limit) -> int:
    try:
        return cache.incr(key)  # one round trip, except for the first attempt of a window
    except ValueError:  # no count yet in this window: start it (another process may just have)
        return 1 if cache.add(key, 1, timeout=limit.window_seconds + 5) else cache.incr(key)


def hit(limit: Limit, identity: str) -> Verdict:
    """Count one attempt by `identity`; refuse when the window already holds `limit` attempts."""
    key, window_end, now = _key(limit, identity)
    counted = breaker.cache_call(lambda: _incr_shared(key, limit))
    count = counted[0] if counted else _local.add(key, 1, window_end)
    if count > limit.limit:
        return Verdict(False, window_end - now)
    return Verdict(True, 0)


def give_back(limit: Limit, identity: str) -> None:
    """Uncount an attempt that `hit` counted and that turned out to cost nothing (a retry of one already done)."""
    key, window_end, _now = _key(limit, identity)

    def decrement():
        with contextlib.suppress(ValueError):  # the window it was counted in has ended since
            cache.decr(key)

    if breaker.cache_call(decrement) is None and _local.get(key):
        _local.add(key, -1, window_end)


def peek(limit: Limit, identity: str) -> Verdict:
    """Whether the next attempt would be refused, without counting one."""
    key, window_end, now = _key(limit, identity)
    counted = breaker.cache_call(lambda: cache.get(key, 0))
    count = counted[0] if counted else _local.get(key)
    if count >= limit.limit:
        return Verdict(False, window_end - now)
    return Verdict(True, 0)
