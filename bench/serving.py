"""Serving benchmark: which server topology should run Simpul in production (docs/serving.md, bench/README.md).

    .venv/bin/python bench/serving.py            # the full run, 5-8 minutes
    .venv/bin/python bench/serving.py --quick    # shorter phases, for a smoke test
    .venv/bin/python bench/serving.py --only daphne-1,gunicorn-gthread-2x8
    .venv/bin/python bench/serving.py --source /tmp/simpul-head   # run the servers from another tree

It starts each server as a subprocess on 127.0.0.1 (ports 8100-8199) against PostgreSQL and Redis, drives it with a
small asyncio HTTP/1.1 client in this process, samples the servers' memory and threads from /proc and PostgreSQL's
backends from pg_stat_activity, writes bench/results.json and prints Markdown tables. Every server runs in its own
process group and is stopped (SIGTERM, then SIGKILL) when its phases end, on Ctrl-C and at exit.

Phases, per topology:
  light-c16, light-c64  the light GraphQL query (regions, agencies, kecamatan) from 16 / 64 concurrent clients
  probe-idle            the probes alone: /healthz and a regions query, one request at a time, 20 ms apart
  cpu-neighbour         the probes while one client sends the heaviest query the limits allow, back to back
                        (30 aliases of regions with every area's boundary and its parent's: ~0.3 s of Python each)
  db-neighbour          the probes while two clients send the light query and this script holds an ACCESS EXCLUSIVE
                        lock on regions_area for 1 s out of every 1.1 s, so those requests wait on the database
                        (the probe's query does not read regions_area: any delay it sees is the server's queueing)
Probes and neighbours open a fresh connection per request, as a load balancer without upstream keep-alive does, so
the kernel and the server decide which process gets each request; the light-c* clients keep connections alive.

The client shares the machine with the servers and PostgreSQL, and so may other work: every phase reports the CPU
used by the servers, PostgreSQL, this script and everything else ("other"); a phase disturbed by other work is re-run.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import contextlib
import json
import math
import os
import platform
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "bench"
BIN = ROOT / ".venv" / "bin"
SOURCE = ROOT  # the code the servers run: --source points it at another checkout (e.g. a `git archive` of HEAD)
PYTHON = BIN / "python"
HOST = "127.0.0.1"
PORT_BASE = 8100
DB_NAME = "simpul_bench"
DATABASE_URL = f"postgres://postgres@127.0.0.1:5432/{DB_NAME}"
REDIS_URL = "redis://127.0.0.1:6379/5"
APP_NAME = "simpul-bench"  # application_name of this script's own PostgreSQL connections, left out of the counts

LIGHT_QUERY = (
    "{ regions { edges { node { code name agencies { shortName } areas(level: KECAMATAN) { code name } } } } }"
)
# Reads regions_region and regions_agency only: the db-neighbour phase locks regions_area.
PROBE_QUERY = "{ regions { edges { node { code name agencies { shortName } } } } }"
_HEAVY_SELECTION = (
    "regions(first: 10) { edges { node { code name kind timezone workingWeekdays "
    "agencies { code name shortName email } "
    "areas { code name level bbox boundary parent { code name boundary } } } } }"
)
HEAVY_QUERY = "{ " + " ".join(f"a{i}: {_HEAVY_SELECTION}" for i in range(30)) + " }"  # GRAPHQL_MAX_ALIASES is 30

BASE_ENV = {
    "DATABASE_URL": DATABASE_URL,
    "REDIS_URL": REDIS_URL,
    "SIMPUL_ENV": "development",
    "DJANGO_DEBUG": "false",
    "LOG_LEVEL": "WARNING",
    "PYTHONUNBUFFERED": "1",
    "PYTHONWARNINGS": "ignore",
}
NO_POOL_ENV = {"DATABASE_POOL": "false", "DATABASE_CONN_MAX_AGE": "60"}


@dataclass
class Topology:
    name: str
    description: str
    command: list[str]  # "{port}" is replaced
    env: dict[str, str] = field(default_factory=dict)
    phases: tuple[str, ...] = ("light-c16", "light-c64", "probe-idle", "cpu-neighbour", "db-neighbour")
    group: str = "topology"  # "topology" or "pool"


def _daphne(port_arg="{port}"):
    return [str(BIN / "daphne"), "-v", "0", "-b", HOST, "-p", port_arg, "backend.asgi:application"]


def _gunicorn(worker_class: str, workers: int, threads: int = 1):
    command = [str(BIN / "gunicorn"), "backend.wsgi:application"]
    command += ["-k", worker_class, "-w", str(workers)]
    if worker_class == "gthread":
        command += ["--threads", str(threads)]
    return [*command, "-b", f"{HOST}:{{port}}", "--log-level", "warning", "--graceful-timeout", "5"]


TOPOLOGIES = [
    Topology("daphne-1", "daphne, 1 process (ASGI; today's `make serve`)", _daphne()),
    Topology(
        "uvicorn-2",
        "uvicorn --workers 2 (ASGI, uvloop + httptools, one shared port)",
        [
            str(BIN / "uvicorn"),
            "backend.asgi:application",
            "--host",
            HOST,
            "--port",
            "{port}",
            "--workers",
            "2",
            "--lifespan",
            "off",
            "--no-access-log",
            "--log-level",
            "warning",
        ],
    ),
    Topology("gunicorn-gthread-2x8", "gunicorn -k gthread -w 2 --threads 8 (WSGI)", _gunicorn("gthread", 2, 8)),
    Topology("gunicorn-sync-2", "gunicorn -k sync -w 2 (WSGI)", _gunicorn("sync", 2)),
    Topology(
        "daphne-1-nopool",
        "daphne, 1 process, DATABASE_POOL=false, CONN_MAX_AGE=60",
        _daphne(),
        NO_POOL_ENV,
        ("light-c16", "light-c64"),
        "pool",
    ),
    Topology(
        "gunicorn-gthread-2x8-nopool",
        "gunicorn gthread 2x8, DATABASE_POOL=false, CONN_MAX_AGE=60",
        _gunicorn("gthread", 2, 8),
        NO_POOL_ENV,
        ("light-c16", "light-c64"),
        "pool",
    ),
]


# --- Processes ------------------------------------------------------------------------------------------------------

_started: list[subprocess.Popen] = []


def _stop(process: subprocess.Popen) -> None:
    """Stop a server and everything it started: its process group, which this script created for it."""
    if process.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, 8), (signal.SIGKILL, 5)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            process.wait(wait)
            break
        except subprocess.TimeoutExpired:
            continue
    # Workers of a dead master may linger a moment in the group; make sure none survive.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


def _stop_all() -> None:
    while _started:
        _stop(_started.pop())


atexit.register(_stop_all)


def _on_signal(signum, _frame):
    _stop_all()
    raise SystemExit(128 + signum)


def descendants(pid: int) -> list[int]:
    """The pid and every process below it, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    found, stack = [], [pid]
    while stack:
        current = stack.pop()
        found.append(current)
        stack.extend(children.get(current, []))
    return found


def cpu_seconds(pids: list[int], reaped_children: bool = False) -> float:
    """User + system CPU time of the processes, from /proc/<pid>/stat; with reaped_children, also that of their
    children which have exited (PostgreSQL's postmaster reaps every backend that closes)."""
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError, IndexError, ValueError), open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
            if reaped_children:
                total += int(fields[13]) + int(fields[14])
    return total / os.sysconf("SC_CLK_TCK")


def machine_busy_seconds() -> float:
    """CPU seconds the whole machine has spent not idle, from /proc/stat."""
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return (sum(values[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def wait_for_quiet(max_wait: float, threshold: float = 0.3) -> float:
    """Wait (at most max_wait s) for the machine to be nearly idle; other work on it would skew the numbers.
    Returns the cores busy over the last second."""
    deadline = time.monotonic() + max_wait
    while True:
        before = machine_busy_seconds()
        time.sleep(1.0)
        busy = machine_busy_seconds() - before
        if busy < threshold or time.monotonic() >= deadline:
            return round(busy, 2)


def postgres_pids() -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError), open(f"/proc/{entry}/comm") as f:
                if f.read().strip() == "postgres":
                    pids.append(int(entry))
    return pids


def proc_status(pid: int) -> dict[str, int | str]:
    out: dict[str, int | str] = {"pid": pid}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key == "VmRSS":
                    out["rss_mib"] = round(int(value.split()[0]) / 1024, 1)
                elif key == "Threads":
                    out["threads"] = int(value)
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            argv = [a.decode(errors="replace") for a in f.read().split(b"\0") if a]
        out["cmd"] = " ".join(Path(argv[0]).name if i == 0 else a for i, a in enumerate(argv))[:160]
    except (OSError, IndexError):
        pass
    return out


class Server:
    def __init__(self, topology: Topology, port: int, log_dir: Path):
        self.topology, self.port = topology, port
        self.log_path = log_dir / f"{topology.name}.log"
        self.process: subprocess.Popen | None = None

    def __enter__(self):
        command = [part.replace("{port}", str(self.port)) for part in self.topology.command]
        env = {**os.environ, **BASE_ENV, **self.topology.env}
        self.log = open(self.log_path, "w")  # closed in __exit__
        self.process = subprocess.Popen(
            command, cwd=SOURCE, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )
        _started.append(self.process)
        return self

    def __exit__(self, *_exc):
        if self.process is not None:
            _stop(self.process)
            with contextlib.suppress(ValueError):
                _started.remove(self.process)
        self.log.close()

    def processes(self) -> list[dict]:
        """The server's processes; the master/supervisor first, then the workers that serve requests."""
        assert self.process is not None
        rows = []
        for pid in descendants(self.process.pid):
            row = proc_status(pid)
            # uvicorn's supervisor also starts multiprocessing's resource tracker: not a server process.
            if "rss_mib" in row and "resource_tracker" not in str(row.get("cmd", "")):
                row["role"] = "main" if pid == self.process.pid else "worker"
                rows.append(row)
        return rows

    def wait_ready(self, timeout: float = 45) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.topology.name} exited: {self.log_tail()}")
            with contextlib.suppress(Exception):  # not listening yet
                status, _ = asyncio.run(request_once(self.port, "GET", "/healthz"))
                if status == 200:
                    time.sleep(1.0)  # let the other workers finish importing too
                    return
            time.sleep(0.3)
        raise RuntimeError(f"{self.topology.name} did not answer /healthz in {timeout}s: {self.log_tail()}")

    def log_errors(self) -> dict[str, int]:
        """The exceptions the server logged (the last line of each traceback), counted."""
        self.log.flush()
        counts: dict[str, int] = {}
        for line in self.log_path.read_text(errors="replace").splitlines():
            if re.match(r"^[\w.]+(Error|Exception|Timeout)\b.*:", line):
                key = line[:200]
                counts[key] = counts.get(key, 0) + 1
        return counts

    def log_tail(self) -> str:
        self.log.flush()
        return self.log_path.read_text()[-2000:]


# --- HTTP client ----------------------------------------------------------------------------------------------------


class HTTPError(Exception):
    pass


class Connection:
    """A minimal HTTP/1.1 client connection: Content-Length and chunked bodies, keep-alive when the server allows."""

    def __init__(self, port: int, keep_alive: bool):
        self.port, self.keep_alive = port, keep_alive
        self.reader = self.writer = None

    async def close(self):
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(Exception):
                await self.writer.wait_closed()
        self.reader = self.writer = None

    async def request(
        self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
    ) -> tuple[int, bytes]:
        reused = self.writer is not None
        try:
            return await self._request(method, path, body, headers)
        except (ConnectionError, asyncio.IncompleteReadError, HTTPError):
            await self.close()
            if not reused:
                raise
            # the server closed an idle keep-alive connection
            return await self._request(method, path, body, headers)

    async def _request(self, method, path, body, headers=None):
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(HOST, self.port)
        lines = [f"{method} {path} HTTP/1.1", f"Host: {HOST}:{self.port}", "User-Agent: simpul-bench"]
        lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
        if body is not None:
            lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
        if not self.keep_alive:
            lines.append("Connection: close")
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + (body or b""))
        status_line = await self.reader.readline()
        if not status_line:
            raise HTTPError("connection closed before a response")
        parts = status_line.split()
        status = int(parts[1])
        headers = {}
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            key, _, value = line.decode("latin-1").partition(":")
            headers[key.strip().lower()] = value.strip()
        if "content-length" in headers:
            data = await self.reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int((await self.reader.readline()).split(b";")[0], 16)
                if size == 0:
                    await self.reader.readline()
                    break
                chunks.append(await self.reader.readexactly(size))
                await self.reader.readline()
            data = b"".join(chunks)
        else:
            data = await self.reader.read()
            headers["connection"] = "close"
        if not self.keep_alive or headers.get("connection", "").lower() == "close" or parts[0] == b"HTTP/1.0":
            await self.close()
        return status, data


async def request_once(port: int, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
    connection = Connection(port, keep_alive=False)
    try:
        return await asyncio.wait_for(connection.request(method, path, body), 10)
    finally:
        await connection.close()


@dataclass
class Kind:
    """One kind of request a client sends. `make` (optional) returns a fresh (path, body) for every request, for
    requests that must differ (an idempotency key, a random tracking code)."""

    name: str
    method: str
    path: str
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    make: Callable[[], tuple[str, bytes | None]] | None = None

    def next(self) -> tuple[str, bytes | None]:
        return self.make() if self.make is not None else (self.path, self.body)

    def ok(self, status: int, data: bytes) -> bool:
        """200, no GraphQL error (they come first in the answer), and no error in a mutation's payload."""
        return status == 200 and not data.startswith(b'{"errors"') and b'"errors":[{' not in data


def graphql(name: str, query: str) -> Kind:
    return Kind(name, "POST", "/graphql", json.dumps({"query": query}).encode())


LIGHT = graphql("light", LIGHT_QUERY)
PROBE_GRAPHQL = graphql("probe-graphql", PROBE_QUERY)
HEAVY = graphql("heavy", HEAVY_QUERY)
HEALTHZ = Kind("probe-healthz", "GET", "/healthz")


@dataclass
class Stats:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    error_kinds: dict[str, int] = field(default_factory=dict)
    error_samples: list[str] = field(default_factory=list)

    def add(self, seconds: float, error: str | None, detail: str = ""):
        if error is None:
            self.latencies.append(seconds)
        else:
            self.errors += 1
            self.error_kinds[error] = self.error_kinds.get(error, 0) + 1
            if detail and len(self.error_samples) < 3 and detail not in self.error_samples:
                self.error_samples.append(detail)

    def summary(self, elapsed: float) -> dict:
        values = sorted(self.latencies)

        def pct(p):
            if not values:
                return None
            return round(values[max(0, math.ceil(p / 100 * len(values)) - 1)] * 1000, 1)

        return {
            "requests": len(values) + self.errors,
            "ok": len(values),
            "errors": self.errors,
            "error_kinds": self.error_kinds,
            "error_samples": self.error_samples,
            "rps": round(len(values) / elapsed, 1) if elapsed else None,
            "p50_ms": pct(50),
            "p95_ms": pct(95),
            "p99_ms": pct(99),
            "max_ms": round(values[-1] * 1000, 1) if values else None,
        }


async def client(port, kind: Kind, stats: Stats, deadline: float, budget: list[int], keep_alive: bool, pause=0.0):
    connection = Connection(port, keep_alive)
    try:
        while time.monotonic() < deadline and budget[0] > 0:
            budget[0] -= 1
            started = time.perf_counter()
            error = detail = None
            try:
                path, body = kind.next()
                request = connection.request(kind.method, path, body, kind.headers)
                status, data = await asyncio.wait_for(request, 30)
                if not kind.ok(status, data):
                    error = f"HTTP {status}" if status != 200 else "graphql-error"
                    detail = data[:300].decode(errors="replace")
            except Exception as exc:  # counted, and the run goes on
                error, detail = type(exc).__name__, str(exc)[:300]
                await connection.close()
            stats.add(time.perf_counter() - started, error, detail or "")
            if pause:
                await asyncio.sleep(pause)
    finally:
        await connection.close()


async def drive(port: int, plan: list[tuple[Kind, int, bool, float]], duration: float, max_requests: int):
    """Run every (kind, concurrency, keep_alive, pause) of the plan at once for `duration` seconds."""
    deadline = time.monotonic() + duration
    stats = {kind.name: Stats() for kind, *_ in plan}
    budgets = {kind.name: [max_requests] for kind, *_ in plan}
    started = time.perf_counter()
    await asyncio.gather(
        *(
            client(port, kind, stats[kind.name], deadline, budgets[kind.name], keep_alive, pause)
            for kind, concurrency, keep_alive, pause in plan
            for _ in range(concurrency)
        )
    )
    elapsed = time.perf_counter() - started
    return {name: s.summary(elapsed) for name, s in stats.items()}


# --- PostgreSQL -----------------------------------------------------------------------------------------------------


def pg_connect(dbname: str = DB_NAME):
    import psycopg

    return psycopg.connect(
        host="127.0.0.1", port=5432, user="postgres", dbname=dbname, autocommit=True, application_name=APP_NAME
    )


def pg_backends(conn) -> int:
    return conn.execute(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND application_name <> %s", (DB_NAME, APP_NAME)
    ).fetchone()[0]


def pg_sessions(conn) -> int:
    """Sessions ever opened on the database (PostgreSQL 14+), for counting the connections a phase opened."""
    return conn.execute("SELECT sessions FROM pg_stat_database WHERE datname = %s", (DB_NAME,)).fetchone()[0]


class Sampler(threading.Thread):
    """Samples the server's processes and PostgreSQL's backends every 0.2 s while a phase runs."""

    def __init__(self, server: Server):
        super().__init__(daemon=True)
        self.server, self.conn = server, pg_connect()
        self.stop_event = threading.Event()
        self.max_backends = self.max_threads = 0
        self.max_rss: dict[int, float] = {}

    def run(self):
        while not self.stop_event.is_set():
            with contextlib.suppress(Exception):
                self.max_backends = max(self.max_backends, pg_backends(self.conn))
            rows = self.server.processes()
            self.max_threads = max(self.max_threads, sum(int(r.get("threads", 0)) for r in rows))
            for row in rows:
                self.max_rss[row["pid"]] = max(self.max_rss.get(row["pid"], 0.0), float(row["rss_mib"]))
            self.stop_event.wait(0.2)

    def finish(self):
        self.stop_event.set()
        self.join()
        self.conn.close()


class TableLocker(threading.Thread):
    """Holds ACCESS EXCLUSIVE on regions_area for `hold` seconds out of every hold + gap: queries on it wait."""

    def __init__(self, hold=1.0, gap=0.1):
        super().__init__(daemon=True)
        self.hold, self.gap = hold, gap
        self.stop_event = threading.Event()
        self.conn = pg_connect()

    def run(self):
        while not self.stop_event.is_set():
            with self.conn.transaction():
                self.conn.execute("LOCK TABLE regions_area IN ACCESS EXCLUSIVE MODE")
                self.stop_event.wait(self.hold)
            time.sleep(self.gap)

    def finish(self):
        self.stop_event.set()
        self.join()
        self.conn.close()


# --- Setup and facts ------------------------------------------------------------------------------------------------


def setup_database() -> None:
    with pg_connect("postgres") as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DB_NAME,)).fetchone() is None:
            conn.execute(f'CREATE DATABASE "{DB_NAME}"')
            print(f"created database {DB_NAME}")
    env = {**os.environ, **BASE_ENV}
    for command in (["migrate", "--noinput"], ["prepare_calendar"], ["seed_demo"]):
        done = subprocess.run(
            [str(PYTHON), "manage.py", *command], cwd=SOURCE, env=env, capture_output=True, text=True, timeout=180
        )
        if done.returncode != 0:
            raise SystemExit(f"manage.py {' '.join(command)} failed:\n{done.stdout}\n{done.stderr}")


def machine_facts() -> dict:
    cpu = "unknown"
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = "unknown"
    with contextlib.suppress(OSError), open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    versions = {}
    for name in ("Django", "daphne", "uvicorn", "uvloop", "httptools", "gunicorn", "channels", "asgiref"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    for name in ("graphene-django", "psycopg", "psycopg-pool", "Twisted"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            versions[name] = metadata.version(name)
    with pg_connect() as conn:
        postgres = conn.execute("SHOW server_version").fetchone()[0]
        max_connections = conn.execute("SHOW max_connections").fetchone()[0]
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=SOURCE, capture_output=True, text=True)
    dirty = subprocess.run(["git", "status", "--porcelain"], cwd=SOURCE, capture_output=True, text=True)
    return {
        "source": str(SOURCE),
        # An exported tree has no .git: `git rev-parse HEAD > DIR/.bench-commit` records where it came from.
        "source_commit": commit.stdout.strip()
        or ((SOURCE / ".bench-commit").read_text().strip() if (SOURCE / ".bench-commit").exists() else None),
        "source_uncommitted_changes": len(dirty.stdout.splitlines()) if commit.returncode == 0 else None,
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "memory": memory,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "packages": versions,
        "postgresql": postgres,
        "postgresql_max_connections": max_connections,
    }


def port_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the servers do: TIME_WAIT is no obstacle
        try:
            s.bind((HOST, port))
        except OSError:
            return False
    return True


# --- Phases ---------------------------------------------------------------------------------------------------------

PROBE_PAUSE = 0.02
# The machine may be shared: a phase during which other processes used more than this many cores is run again once
# (while the run is younger than --budget seconds) and the quieter attempt is kept.
OTHER_CPU_LIMIT = 0.3
RETRY_UNTIL = math.inf


def phase_plan(phase: str) -> list[tuple[Kind, int, bool, float]]:
    probes = [(HEALTHZ, 1, False, PROBE_PAUSE), (PROBE_GRAPHQL, 1, False, PROBE_PAUSE)]
    return {
        "light-c16": [(LIGHT, 16, True, 0.0)],
        "light-c64": [(LIGHT, 64, True, 0.0)],
        "probe-idle": probes,
        "cpu-neighbour": [(HEAVY, 1, False, 0.0), *probes],
        "db-neighbour": [(LIGHT, 2, False, 0.0), *probes],
    }[phase]


def run_phase(server: Server, phase: str, durations: dict[str, float], max_requests: int) -> dict:
    # Open this script's own connections first, so the session count below covers the server's connections only.
    sampler = Sampler(server)
    locker = TableLocker() if phase == "db-neighbour" else None
    check = pg_connect()
    busy_before = wait_for_quiet(3)
    try:
        sessions_before = pg_sessions(check)
        server_pids = [r["pid"] for r in server.processes()]
        per_process = {pid: cpu_seconds([pid]) for pid in server_pids}
        server_cpu, own_cpu, wall = cpu_seconds(server_pids), sum(os.times()[:2]), time.monotonic()
        machine_cpu, pg_cpu = machine_busy_seconds(), cpu_seconds(postgres_pids(), reaped_children=True)
        sampler.start()
        if locker:
            locker.start()
            time.sleep(0.1)
        try:
            clients = asyncio.run(drive(server.port, phase_plan(phase), durations[phase], max_requests))
            wall = time.monotonic() - wall
            server_cpu = (cpu_seconds(server_pids) - server_cpu) / wall
            own_cpu = (sum(os.times()[:2]) - own_cpu) / wall
            machine_cpu = (machine_busy_seconds() - machine_cpu) / wall
            # Backends that start and end within the phase count through the postmaster's reaped children.
            pg_cpu = max(0.0, (cpu_seconds(postgres_pids(), reaped_children=True) - pg_cpu) / wall)
            per_process = {pid: round((cpu_seconds([pid]) - t) / wall, 2) for pid, t in per_process.items()}
        finally:
            if locker:
                locker.finish()
            sampler.finish()
        time.sleep(2.0)  # let idle connections settle and PostgreSQL flush its session counter
        backends_after = pg_backends(check)
        sessions_opened = pg_sessions(check) - sessions_before
    finally:
        check.close()
    rows = server.processes()
    return {
        "phase": phase,
        "clients": clients,
        "pg_backends_max": sampler.max_backends,
        "pg_backends_after": backends_after,
        "pg_sessions_opened": sessions_opened,
        "threads_max": sampler.max_threads,
        "server_cpu_cores": round(server_cpu, 2),
        "bench_cpu_cores": round(own_cpu, 2),
        "postgres_cpu_cores": round(pg_cpu, 2),
        "machine_cpu_cores": round(machine_cpu, 2),
        "other_cpu_cores": round(max(0.0, machine_cpu - server_cpu - pg_cpu - own_cpu), 2),
        "machine_busy_before": busy_before,
        "processes": [
            {**r, "rss_peak_mib": sampler.max_rss.get(r["pid"], r["rss_mib"]), "cpu_cores": per_process.get(r["pid"])}
            for r in rows
            if r.get("rss_mib")
        ],
    }


def run_topology(topology: Topology, port: int, log_dir: Path, durations, max_requests) -> dict:
    print(f"\n== {topology.name}: {topology.description} (port {port})", flush=True)
    result = {"name": topology.name, "description": topology.description, "group": topology.group, "phases": []}
    quiet = wait_for_quiet(10)
    if quiet >= 0.3:
        print(f"  note: the machine is busy with other work ({quiet} cores)", flush=True)
    with Server(topology, port, log_dir) as server:
        server.wait_ready()
        idle = server.processes()
        result["idle_processes"] = idle
        result["command"] = " ".join(part.replace("{port}", str(port)) for part in topology.command)
        result["env"] = topology.env
        asyncio.run(drive(port, [(LIGHT, 4, True, 0.0), (HEAVY, 1, True, 0.0)], 2.0, 200))  # warm every worker
        for phase in topology.phases:
            attempts = []
            while True:
                attempts.append(run_phase(server, phase, durations, max_requests))
                other = attempts[-1]["other_cpu_cores"]
                if other <= OTHER_CPU_LIMIT or len(attempts) >= 2 or time.monotonic() > RETRY_UNTIL:
                    break
                print(f"  {phase:14} other processes used {other} cores: running the phase again", flush=True)
                wait_for_quiet(15)
            outcome = min(attempts, key=lambda a: a["other_cpu_cores"])
            outcome["attempts"] = len(attempts)
            result["phases"].append(outcome)
            for name, s in outcome["clients"].items():
                print(
                    f"  {phase:14} {name:14} {s['rps']:>8} req/s  p50 {s['p50_ms']} p95 {s['p95_ms']} "
                    f"p99 {s['p99_ms']} max {s['max_ms']} ms  errors {s['errors']} {s['error_kinds'] or ''}",
                    flush=True,
                )
            print(
                f"  {'':14} pg backends max {outcome['pg_backends_max']} after {outcome['pg_backends_after']}, "
                f"sessions opened {outcome['pg_sessions_opened']}, threads max {outcome['threads_max']}, "
                f"CPU cores: server {outcome['server_cpu_cores']} postgres {outcome['postgres_cpu_cores']} "
                f"bench {outcome['bench_cpu_cores']} machine {outcome['machine_cpu_cores']} "
                f"(other {outcome['other_cpu_cores']}, before {outcome['machine_busy_before']}); per process "
                + ", ".join(f"{p['role']} {p['cpu_cores']} cores {p['rss_mib']} MiB" for p in outcome["processes"]),
                flush=True,
            )
        if server.process.poll() is not None:
            raise RuntimeError(f"{topology.name} died during the run: {server.log_tail()}")
        result["server_log_errors"] = server.log_errors()
    return result


# --- Report ---------------------------------------------------------------------------------------------------------


def _ms(s: dict) -> str:
    return f"{s['p50_ms']} / {s['p95_ms']} / {s['p99_ms']}" if s["p50_ms"] is not None else "-"


def markdown(results: list[dict]) -> str:
    out = ["### Throughput: the light query (keep-alive clients)", ""]
    out.append(
        "| topology | clients | req/s | p50 / p95 / p99 ms | errors | CPU ms per request: server / postgres | "
        "PG backends max / after | "
        "PG sessions opened | threads max | CPU cores: server (per process) / postgres / bench / machine (other) | "
        "RSS per process after (MiB) |"
    )
    out.append("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        for p in r["phases"]:
            if not p["phase"].startswith("light-"):
                continue
            s = p["clients"]["light"]
            rss = " + ".join(f"{x['rss_mib']:.0f}" for x in p["processes"])
            per = " + ".join(f"{x['cpu_cores']}" for x in p["processes"])
            out.append(
                f"| {r['name']} | {p['phase'][-2:]} | {s['rps']} | {_ms(s)} | {s['errors']} | "
                f"{1000 * p['server_cpu_cores'] / s['rps']:.1f} / {1000 * p['postgres_cpu_cores'] / s['rps']:.1f} | "
                f"{p['pg_backends_max']} / {p['pg_backends_after']} | {p['pg_sessions_opened']} | "
                f"{p['threads_max']} | {p['server_cpu_cores']} ({per}) / {p['postgres_cpu_cores']} / "
                f"{p['bench_cpu_cores']} / {p['machine_cpu_cores']} ({p['other_cpu_cores']}) | {rss} |"
            )
    out += [
        "",
        "### Slow neighbours: probe latency, p50 / p95 / p99 ms (one request at a time, fresh connections)",
        "",
        "| topology | /healthz idle | /healthz + CPU neighbour | /healthz + DB-wait neighbours | "
        "GraphQL idle | GraphQL + CPU neighbour | GraphQL + DB-wait neighbours | neighbour req/s (CPU / DB) | "
        "errors | other CPU, max |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        phases = {p["phase"]: p["clients"] for p in r["phases"]}
        if "probe-idle" not in phases:
            continue
        other = max(
            p["other_cpu_cores"] for p in r["phases"] if p["phase"] in ("probe-idle", "cpu-neighbour", "db-neighbour")
        )
        idle, cpu, db = phases["probe-idle"], phases["cpu-neighbour"], phases["db-neighbour"]
        errors = sum(s["errors"] for ph in (idle, cpu, db) for s in ph.values())
        out.append(
            f"| {r['name']} | {_ms(idle['probe-healthz'])} | {_ms(cpu['probe-healthz'])} | "
            f"{_ms(db['probe-healthz'])} | {_ms(idle['probe-graphql'])} | {_ms(cpu['probe-graphql'])} | "
            f"{_ms(db['probe-graphql'])} | {cpu['heavy']['rps']} / {db['light']['rps']} | {errors} | {other} |"
        )
    out += ["", "### Memory at rest (after start-up and warm-up, before the phases)", ""]
    out += ["| topology | processes (role: RSS MiB, threads) | total RSS MiB |", "|---|---|---|"]
    for r in results:
        procs = r["idle_processes"]
        desc = ", ".join(f"{p['role']}: {p['rss_mib']:.0f}, {p.get('threads')}" for p in procs)
        out.append(f"| {r['name']} | {desc} | {sum(p['rss_mib'] for p in procs):.0f} |")
    return "\n".join(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="short phases (a smoke test, not for decisions)")
    parser.add_argument("--only", help="comma-separated topology names")
    parser.add_argument("--skip-setup", action="store_true", help="do not create, migrate or seed the database")
    parser.add_argument("--max-requests", type=int, default=40_000, help="cap per client kind per phase")
    parser.add_argument("--out", default=str(BENCH_DIR / "results.json"))
    parser.add_argument("--budget", type=float, default=330, help="no phase is re-run after this many seconds")
    parser.add_argument(
        "--source",
        default=str(ROOT),
        help="the Simpul tree the servers run (default: this checkout); e.g. `git archive HEAD | tar -x -C DIR`",
    )
    args = parser.parse_args()
    global SOURCE, RETRY_UNTIL
    SOURCE = Path(args.source).resolve()
    RETRY_UNTIL = time.monotonic() + args.budget
    if not (SOURCE / "manage.py").exists():
        parser.error(f"--source: no manage.py in {SOURCE}")
    signal.signal(signal.SIGTERM, _on_signal)

    scale = 0.25 if args.quick else 1.0
    durations = {
        "light-c16": 8 * scale,
        "light-c64": 8 * scale,
        "probe-idle": 4 * scale,
        "cpu-neighbour": 8 * scale,
        "db-neighbour": 8 * scale,
    }
    topologies = TOPOLOGIES
    if args.only:
        wanted = set(args.only.split(","))
        topologies = [t for t in TOPOLOGIES if t.name in wanted]
        if not topologies:
            parser.error(f"--only: none of {sorted(wanted)}; known: {[t.name for t in TOPOLOGIES]}")

    ports = [PORT_BASE + 1 + i for i in range(len(topologies))]
    busy = [p for p in ports if not port_free(p)]
    if busy:
        raise SystemExit(f"ports in use: {busy}")
    if not args.skip_setup:
        setup_database()
    facts = machine_facts()
    print(json.dumps(facts, indent=2))

    started = time.monotonic()
    results = []
    with tempfile.TemporaryDirectory(prefix="simpul-bench-") as log_dir:
        for topology, port in zip(topologies, ports, strict=True):
            results.append(run_topology(topology, port, Path(log_dir), durations, args.max_requests))
    report = markdown(results)
    print("\n" + report)
    print(f"\nwall time {time.monotonic() - started:.0f} s")
    Path(args.out).write_text(
        json.dumps(
            {"machine": facts, "durations_s": durations, "heavy_query": HEAVY_QUERY, "results": results}, indent=1
        )
        + "\n"
    )
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    finally:
        _stop_all()
