"""Fixed-window rate limits on the shared cache (Redis in production, so all processes count together)."""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass

from django.core.cache import cache


@dataclass(frozen=True)
class Limit:
    scope: str
    limit: int
    window_seconds: int


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int


def hit(limit: Limit, identity: str) -> Verdict:
    """Count one attempt by `identity`; refuse when the window already holds `limit` attempts."""
    now = int(time.time())
    window_start = now - now % limit.window_seconds
    key = f"rl:{limit.scope}:{identity}:{window_start}"
    try:
        count = cache.incr(key)  # one round trip, except for the first attempt of a window
    except ValueError:  # no count yet in this window: start it (another process may just have)
        count = 1 if cache.add(key, 1, timeout=limit.window_seconds + 5) else cache.incr(key)
    if count > limit.limit:
        return Verdict(False, window_start + limit.window_seconds - now)
    return Verdict(True, 0)


def give_back(limit: Limit, identity: str) -> None:
    """Uncount an attempt that `hit` counted and that turned out to cost nothing (a retry of one already done)."""
    now = int(time.time())
    key = f"rl:{limit.scope}:{identity}:{now - now % limit.window_seconds}"
    with contextlib.suppress(ValueError):  # the window it was counted in has ended since
        cache.decr(key)


def peek(limit: Limit, identity: str) -> Verdict:
    """Whether the next attempt would be refused, without counting one."""
    now = int(time.time())
    window_start = now - now % limit.window_seconds
    count = cache.get(f"rl:{limit.scope}:{identity}:{window_start}", 0)
    if count >= limit.limit:
        return Verdict(False, window_start + limit.window_seconds - now)
    return Verdict(True, 0)
