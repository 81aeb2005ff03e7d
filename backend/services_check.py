"""Reachability checks of the services Simpul depends on, shared by `/readyz` and the production start-up check."""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass

from asgiref.sync import async_to_sync
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.utils.module_loading import import_string


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    millis: float
    error: str = ""

    def as_dict(self) -> dict:
        data = {"ok": self.ok, "ms": round(self.millis, 1)}
        if self.error:
            data["error"] = self.error
        return data


def _timed(name: str, probe) -> CheckResult:
    started = time.perf_counter()
    try:
        probe()
    except Exception as exc:
        return CheckResult(name, False, (time.perf_counter() - started) * 1000, f"{type(exc).__name__}: {exc}")
    return CheckResult(name, True, (time.perf_counter() - started) * 1000)


def _database() -> None:
    if connection.vendor == "postgresql":
        # A connection of its own with a short connect timeout: asking the pool would wait out the pool's timeout
        # (and fill the log with its retries) when the server is down.
        import psycopg

        params = connection.get_connection_params()
        params["connect_timeout"] = min(int(params.get("connect_timeout") or 3), 3)
        with psycopg.connect(**params) as probe:
            probe.execute("SELECT 1").fetchone()
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _cache() -> None:
    key = f"readyz:{uuid.uuid4().hex}"
    cache.set(key, "1", timeout=5)
    if cache.get(key) != "1":
        raise RuntimeError("value written to the cache could not be read back")
    cache.delete(key)


async def _channel_layer_roundtrip() -> None:
    """A message to a channel of a layer instance of the probe's own, and back. Not the process's layer: in an ASGI
    process its receive loop serves the open WebSockets, and a probe queued behind it waited for seconds."""
    config = settings.CHANNEL_LAYERS["default"]
    layer = import_string(config["BACKEND"])(**config.get("CONFIG", {}))
    try:
        channel = await layer.new_channel("readyz.")
        await layer.send(channel, {"type": "readyz.ping"})
        message = await asyncio.wait_for(layer.receive(channel), 5)
        if message.get("type") != "readyz.ping":
            raise RuntimeError("channel layer returned another message")
    finally:
        close = getattr(layer, "close_pools", None)  # channels-redis: its connections
        if close is not None:
            await close()


def run_checks() -> list[CheckResult]:
    return [
        _timed("database", _database),
        _timed("cache", _cache),
        _timed("channel_layer", async_to_sync(_channel_layer_roundtrip)),
    ]


def describe_failures(results: list[CheckResult]) -> list[str]:
    """One readable line per unreachable service, naming where it was looked for (password removed)."""
    where = {
        "database": settings.SERVICE_URLS["database"],
        "cache": settings.SERVICE_URLS["redis"] or "local memory",
        "channel_layer": settings.SERVICE_URLS["redis"] or "local memory",
    }
    return [f"{r.name} at {where[r.name]} is unreachable: {r.error}" for r in results if not r.ok]
