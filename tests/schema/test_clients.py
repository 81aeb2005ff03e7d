"""Apollo Client 4 and urql 6 (clients no one here wrote, in Node.js) against a live gunicorn configured as in
production (introspection off, automatic persisted queries on): queries work with the `__typename` Apollo adds,
persisted queries and GET work as Apollo sends them, and a validation error or a bad token reaches the app as GraphQL
errors with their codes, not as an opaque network failure."""

from __future__ import annotations

import json
import subprocess

import pytest
import redis
from django.conf import settings

from tests.live import CACHE_KEY_PREFIX, JS, free_port, gunicorn, needs_node, needs_services
from tests.notifications.test_ws import token_for

pytestmark = [needs_services, needs_node, pytest.mark.django_db(transaction=True)]


def test_apollo_and_urql(demo, resident, tmp_path):
    if not (JS / "node_modules" / "@apollo" / "client").is_dir():
        raise RuntimeError("tests/js/node_modules is missing: `make test` installs it (npm ci --prefix tests/js)")
    server = gunicorn(free_port(), tmp_path / "gunicorn.log", GRAPHQL_INTROSPECTION="false", GRAPHQL_APQ="open")
    try:
        config = {"url": f"http://{server.host}/graphql", "token": token_for(resident)}
        run = subprocess.run(
            ["node", str(JS / "apps.mjs"), json.dumps(config)], cwd=JS, capture_output=True, text=True, timeout=120
        )
        assert run.returncode == 0, run.stderr
        checks = {line["check"]: line for line in map(json.loads, run.stdout.splitlines())}
    finally:
        server.stop()
    regions = {
        "regions": {
            "__typename": "RegionConnection",
            "edges": [
                {"__typename": "RegionEdge", "node": {"__typename": "Region", "code": code, "name": name}}
                for code, name in (("16.06", "Kabupaten Musi Banyuasin"), ("73.72", "Kota Parepare"))
            ],
        }
    }
    for name in ("apollo-apq-first", "apollo-apq-again", "apollo-get"):
        assert checks[name] == {"check": name, "data": regions, "error": None}, checks[name]
    assert checks["apollo-invalid"]["error"] == {"kind": "graphql", "codes": ["GRAPHQL_VALIDATION_FAILED"]}
    assert checks["apollo-bad-token"]["error"] == {"kind": "graphql", "codes": ["UNAUTHENTICATED"]}
    assert checks["apollo-signed-in"]["data"] == {"me": {"__typename": "User", "phone": resident.phone}}
    assert checks["urql-query"]["data"]["regions"]["edges"][0]["node"]["code"] == "16.06"
    assert checks["urql-invalid"]["error"] == {"kind": "graphql", "codes": ["GRAPHQL_VALIDATION_FAILED"]}
    assert checks["urql-bad-token"]["error"] == {"kind": "graphql", "codes": ["UNAUTHENTICATED"]}
    log = server.logged()
    assert "Traceback" not in log, log[-2000:]
    # The persisted-query link's first request (the hash alone) was not found, its retry sent the query, which the
    # server kept (the valid ones: Regions and Me, not Broken): the second client's hash-only GET was answered from it.
    kept = redis.from_url(settings.REDIS_URL).keys(f"{CACHE_KEY_PREFIX}:*apq:*")
    assert len(kept) == 2
