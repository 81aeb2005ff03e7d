"""Real processes for the end-to-end tests: an ASGI server (daphne) and Celery workers, started as `make run` and the
deployment start them, on the test database and Redis. They need PostgreSQL and Redis (several processes share
them); on the embedded SQLite default these tests are skipped."""

from __future__ import annotations

import asyncio
import json
import os
import queue
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection, connections

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent

needs_services = pytest.mark.skipif(
    not (os.environ.get("DATABASE_URL", "").startswith("postgres") and os.environ.get("REDIS_URL")),
    reason="runs real server and worker processes: needs DATABASE_URL (PostgreSQL) and REDIS_URL",
)


APPLICATION_NAME = "simpul-live"
CACHE_KEY_PREFIX = f"live-{uuid.uuid4().hex[:12]}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def process_env(**overrides) -> dict:
    """The environment of a server or worker on the test database (pytest-django's `test_…`)."""
    db = settings.DATABASES["default"]
    env = dict(os.environ)
    env.update(
        {
            # Named, so that a test can tell the servers' and workers' connections from its own.
            "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
            f"?application_name={APPLICATION_NAME}",
            "SIMPUL_ENV": "development",
            "DJANGO_DEBUG": "false",
            "LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
            # Rate-limit counts of this test run only: ids start again in every run's fresh database, Redis stays.
            "CACHE_KEY_PREFIX": CACHE_KEY_PREFIX,
        }
    )
    assert connection.vendor == "postgresql"
    env.update({k: str(v) for k, v in overrides.items()})
    return env


class Process:
    def __init__(self, args: list[str], env: dict, log: Path):
        self.args, self.env, self.log = args, env, log
        self.proc: subprocess.Popen | None = None

    def start(self) -> Process:
        self.output = open(self.log, "ab")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            self.args, cwd=ROOT, env=self.env, stdout=self.output, stderr=subprocess.STDOUT, start_new_session=True
        )
        return self

    def kill(self) -> None:
        """SIGKILL the whole process group: no clean-up, as when a machine loses power."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()
        self.output.close()

    def logged(self) -> str:
        return self.log.read_text(errors="replace")


def daphne(port: int, log: Path, **env) -> Process:
    """A server as `make run` starts it (tasks in-process unless `env` says otherwise)."""
    server = Process(
        [str(BIN / "daphne"), "-b", "127.0.0.1", "-p", str(port), "backend.asgi:application"],
        process_env(**{"CELERY_TASK_ALWAYS_EAGER": "true", **env}),
        log,
    ).start()
    return _until_healthy(server, port, "daphne")


def _until_healthy(server: Process, port: int, what: str) -> Process:
    server.host = f"127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                return server
        except OSError:
            if server.proc.poll() is not None:
                break
            time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"{what} did not start:\n{server.logged()}")


def gunicorn(port: int, log: Path, **env) -> Process:
    """The production HTTP server as docs/serving.md runs it (threaded workers over WSGI), with changes handed to
    the relay of a Celery worker unless `env` says otherwise."""
    args = [str(BIN / "gunicorn"), "backend.wsgi:application", "--worker-class", "gthread", "--workers", "2"]
    args += ["--threads", "4", "--bind", f"127.0.0.1:{port}"]
    server = Process(args, process_env(**{"CELERY_TASK_ALWAYS_EAGER": "false", **env}), log).start()
    return _until_healthy(server, port, "gunicorn")


def redis_server(port: int, log: Path) -> Process:
    """A Redis of the test's own, which it may stop and start again (empty: it keeps nothing on disk)."""
    args = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    process = Process(args, {}, log).start()
    wait_for(lambda: process.logged().count("Ready to accept connections") > 0, 10, "redis")
    return process


def celery_worker(log: Path, *, beat: bool = False, **env) -> Process:
    args = [str(BIN / "celery"), "-A", "backend", "worker", "--pool", "threads", "--concurrency", "2", "-l", "INFO"]
    if beat:
        args += ["--beat", "--schedule", str(log.with_suffix(".beat"))]
    return Process(args, process_env(**{"CELERY_TASK_ALWAYS_EAGER": "false", **env}), log).start()


async def off_loop(function, *args, **kwargs):
    """`asyncio.to_thread` for synchronous Django code: the thread gives its database connection back to the pool
    when it is done (a thread that ends holding one keeps it from the pool)."""

    def run():
        try:
            return function(*args, **kwargs)
        finally:
            connections.close_all()

    return await asyncio.to_thread(run)


def relay_listening() -> int:
    """How many outbox relays (of Celery workers) are listening on the test database."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE query = 'LISTEN simpul_outbox'")
        return cursor.fetchone()[0]


def wait_for(condition, timeout: float, what: str, *, every: float = 0.05):
    """The first truthy value of `condition()`, polled every `every` seconds; fails the test after `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out waiting for {what}")


JS = ROOT / "tests" / "js"
needs_node = pytest.mark.skipif(shutil.which("node") is None, reason="needs Node.js for the JavaScript clients")


class JsClient:
    """`tests/js/follow.mjs`: the `graphql-ws` client following one subscription in a Node.js process; what it
    reports (connects, closes, results) is read line by line as it comes."""

    def __init__(self, config: dict, log: Path):
        if not (JS / "node_modules" / "graphql-ws").is_dir():
            raise RuntimeError("tests/js/node_modules is missing: `make test` installs it (npm ci --prefix tests/js)")
        self.log = log
        self.proc = subprocess.Popen(
            ["node", str(JS / "follow.mjs"), json.dumps(config)],
            cwd=JS,
            stdout=subprocess.PIPE,
            stderr=open(log, "ab"),  # noqa: SIM115 - the process owns it until it ends
            text=True,
            start_new_session=True,
        )
        self.events: queue.Queue = queue.Queue()
        self.seen: list[dict] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.events.put(json.loads(line))

    def expect(self, event: str, timeout: float = 10) -> dict:
        """The next report of kind `event`; the ones before it are kept in `seen`."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                report = self.events.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"the JavaScript client did not report {event!r}; it did {self.seen}") from None
            self.seen.append(report)
            if report["event"] == event:
                return report
            if report["event"] == "error":  # the subscription ended
                raise AssertionError(f"the JavaScript client failed: {report}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)
