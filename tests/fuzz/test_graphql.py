"""GraphQL fuzzing with schemathesis (a client no one here wrote): every query and mutation of the schema, its
arguments generated from their types, against a live gunicorn on PostgreSQL and Redis, anonymously and signed in as
staff and as a resident. Bounded: a few examples per operation, a fixed seed (the same cases every run; change it to
explore), a couple of minutes in all. Fails on any HTTP 5xx, an INTERNAL_SERVER_ERROR in a body, or a traceback in
the server's log."""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.helpers import staff_user
from tests.live import BIN, ROOT, free_port, gunicorn, needs_services
from tests.notifications.test_ws import token_for

pytestmark = [needs_services, pytest.mark.django_db(transaction=True)]

EXAMPLES = 8
SEED = 20261206


@pytest.fixture
def server(demo, tmp_path):
    process = gunicorn(free_port(), tmp_path / "gunicorn.log", GRAPHQL_INTROSPECTION="true", LOG_LEVEL="ERROR")
    yield process
    process.stop()


def fuzz(host: str, token: str | None, report) -> subprocess.CompletedProcess:
    args = [
        str(BIN / "st"),
        "run",
        f"http://{host}/graphql",
        "--checks",
        "no_internal_error",
        "--phases",
        "fuzzing",
        "--max-examples",
        str(EXAMPLES),
        "--seed",
        str(SEED),
        "--generation-deterministic",
        "--workers",
        "2",
        "--request-timeout",
        "20",
        "--report",
        "junit",
        "--report-junit-path",
        str(report),
    ]
    if token:
        args += ["--header", f"Authorization: Bearer {token}"]
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "tests.fuzz.hooks", "PYTHONPATH": str(ROOT)}
    return subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)


@pytest.mark.parametrize("who", ["anonymous", "pupr.kabid", "resident"])
def test_fuzzing_finds_no_server_error(server, resident, tmp_path, who):
    token = None if who == "anonymous" else token_for(resident if who == "resident" else staff_user(who))
    result = fuzz(server.host, token, tmp_path / "report.xml")
    summary = result.stdout[-3000:]
    assert result.returncode == 0, summary
    assert "Tested: " in summary
    log = server.logged()
    assert "Traceback" not in log and "Unexpected error" not in log, log[-3000:]
