"""Automatic persisted queries (the Apollo APQ protocol): an app sends `extensions.persistedQuery.sha256Hash` instead
of a long query; the server answers PERSISTED_QUERY_NOT_FOUND when it does not know the hash, and the app sends the
query once more with its hash, which the server keeps. Queries sent by hash can then go over GET, where proxies and
CDNs cache them.

`GRAPHQL_APQ` chooses how hashes become known:
- `open` (the default): any query sent with its hash is kept (in the shared cache, Redis in production, for
  GRAPHQL_APQ_SECONDS) and may be asked for by hash afterwards.
- `known`: only the hashes of GRAPHQL_APQ_MANIFEST (an Apollo persisted-query manifest, the JSON file the app's build
  writes: `{"operations": [{"id": "<sha256>", "body": "<query>"}, …]}`) are served by hash; other queries run as
  sent but are not kept.
- `off`: hashes are ignored; a request without a query is refused as before.
A query whose hash does not match the one sent is refused (PERSISTED_QUERY_HASH_MISMATCH)."""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext as _
from graphql import GraphQLError

from backend import breaker

SUPPORTED_VERSION = 1


def _error(message: str, code: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": code})


def extensions_of(request, data: dict) -> dict:
    """The request's `extensions`: from the JSON body, or (GET) the `extensions` query parameter holding JSON."""
    raw = request.GET.get("extensions") if request.method == "GET" else data.get("extensions")
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            raise _error(_("`extensions` is not JSON."), "BAD_REQUEST") from None
    return raw if isinstance(raw, dict) else {}


def resolve(query: str | None, extensions: dict) -> tuple[str | None, str | None]:
    """The query to run: `query` itself, or the one its hash names; and the hash to keep it under once it has proved
    valid (`keep`), when it came in full with its hash and the mode keeps queries. Raises a GraphQLError with
    PERSISTED_QUERY_NOT_FOUND (the app retries with the full query), or another code for a request that cannot be
    right."""
    persisted = extensions.get("persistedQuery")
    if settings.GRAPHQL_APQ == "off" or persisted is None:
        return query, None
    if not isinstance(persisted, dict) or persisted.get("version") != SUPPORTED_VERSION:
        raise _error(_("Only version 1 of persisted queries is supported."), "PERSISTED_QUERY_NOT_SUPPORTED")
    digest = persisted.get("sha256Hash")
    if not isinstance(digest, str) or len(digest) != 64 or not all(c in "0123456789abcdef" for c in digest):
        raise _error(_("`sha256Hash` must be 64 lowercase hexadecimal digits."), "BAD_REQUEST")
    if query is not None:
        if hashlib.sha256(query.encode()).hexdigest() != digest:
            raise _error(_("The query's SHA-256 is not the hash sent with it."), "PERSISTED_QUERY_HASH_MISMATCH")
        return query, (digest if settings.GRAPHQL_APQ == "open" else None)
    found = _manifest().get(digest) if settings.GRAPHQL_APQ == "known" else _kept(digest)
    if found is None:
        raise _error("PersistedQueryNotFound", "PERSISTED_QUERY_NOT_FOUND")
    return found, None


def keep(digest: str, query: str) -> None:
    """Remember a valid query under its hash (in the shared cache; while Redis is away, not at all)."""
    breaker.cache_call(lambda: cache.set(f"apq:{digest}", query, timeout=settings.GRAPHQL_APQ_SECONDS))


def _kept(digest: str) -> str | None:
    found = breaker.cache_call(lambda: cache.get(f"apq:{digest}"))
    return found[0] if found else None  # Redis away: not found, and the app sends the query again


@lru_cache(maxsize=4)
def _manifest_at(path: str) -> dict[str, str]:
    with open(path, encoding="utf-8") as manifest:
        operations = json.load(manifest).get("operations", [])
    return {
        operation["id"]: operation["body"]
        for operation in operations
        if hashlib.sha256(operation["body"].encode()).hexdigest() == operation["id"]
    }


def _manifest() -> dict[str, str]:
    return _manifest_at(settings.GRAPHQL_APQ_MANIFEST) if settings.GRAPHQL_APQ_MANIFEST else {}
