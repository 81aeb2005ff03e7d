"""Per-process circuit breakers for the services Redis provides (the shared cache, the channel layer, the Celery
broker), so that while one is away callers take their fallback at once instead of each waiting out connect timeouts
and retries (a Celery publish to a dead broker takes ~2 s to fail, a cache call ~90 ms).

After a failure the service counts as away for COOLDOWN_SECONDS; then the next caller alone tries it again (the
others keep to their fallback meanwhile): success closes the breaker, failure starts another cooldown. An outage and
its end are logged once each, not per call."""

from __future__ import annotations

import logging
import threading
import time

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger("simpul.outage")
UNREACHABLE = (RedisConnectionError, RedisTimeoutError)

COOLDOWN_SECONDS = 5.0


class Breaker:
    def __init__(self, name: str, cooldown: float = COOLDOWN_SECONDS):
        self.name, self.cooldown = name, cooldown
        self._lock = threading.Lock()
        self._away_until: float | None = None  # None: the service is up

    def available(self) -> bool:
        """Whether to call the service now. During an outage, True once per cooldown: that caller is the probe."""
        with self._lock:
            if self._away_until is None:
                return True
            now = time.monotonic()
            if now < self._away_until:
                return False
            self._away_until = now + self.cooldown
            return True

    def failed(self, error: BaseException) -> None:
        with self._lock:
            first = self._away_until is None
            self._away_until = time.monotonic() + self.cooldown
        if first:
            logger.warning("%s unreachable, using the fallback for now: %s", self.name, error)

    def succeeded(self) -> None:
        with self._lock:
            was_away, self._away_until = self._away_until is not None, None
        if was_away:
            logger.warning("%s reachable again", self.name)


CACHE = Breaker("The shared cache (Redis)")
CHANNEL_LAYER = Breaker("The channel layer (Redis)")
BROKER = Breaker("The Celery broker")


def cache_call(operation):
    """Run an operation on the shared cache unless it is known to be away: `(result,)`, or None when it is (or turns
    out to be), for a caller that has a fallback of its own (the rate limits' local counts, persisted queries)."""
    if not CACHE.available():
        return None
    try:
        result = operation()
    except UNREACHABLE as exc:
        CACHE.failed(exc)
        return None
    CACHE.succeeded()
    return (result,)
