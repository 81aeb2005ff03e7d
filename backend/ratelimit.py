"""Fixed-window rate limits on the shared cache (Redis in production, so all processes count together)."""

from __future__ import annotations

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


def peek(limit: Limit, identity: str) -> Verdict:
    """Whether the next attempt would be refused, without counting one."""
    now = int(time.time())
    window_start = now - now % limit.window_seconds
    count = cache.get(f"rl:{limit.scope}:{identity}:{window_start}", 0)
    if count >= limit.limit:
        return Verdict(False, window_start + limit.window_seconds - now)
    return Verdict(True, 0)
