"""Real-time benchmark: how fast a case change reaches an open app (WebSocket) and a phone (FCM), and what idle
subscriptions cost one ASGI process.

    .venv/bin/python bench/realtime.py            # 1,000 request/answer cycles (2,000 changes), then 1k/5k/10k sockets
    .venv/bin/python bench/realtime.py --quick    # 100 cycles, 200/500/1,000 sockets: a smoke test

The production path on this machine: PostgreSQL, Redis (channel layer and Celery broker), one daphne process for
the WebSocket, one Celery worker (prefork, as docker-compose runs it) draining the outbox, and a local server that
speaks FCM HTTP v1 and Google's token exchange (tests/fcm_server.py) standing in for Google. This script plays the
web process: it changes a case with `transition()` (committing, then handing the outbox rows to the broker), and it
is the app: a graphql-transport-ws client subscribed to `caseUpdated`.

- WebSocket: the case alternates between "the agency asks the resident something" (`request_info`) and "the
  resident answers" (`provide_info`), each a status change; latency runs from the start of `transition()` to the
  `next` message on the socket, one change at a time. Target: p95 < 50 ms.
- FCM: the `request_info` changes also push to the resident's phone; latency from the start of `transition()` to the
  request arriving at the FCM server. Target: p95 < 1 s.
- Memory: a fresh daphne process, N anonymous sockets each holding one `caseUpdated` subscription (over 100
  cases); resident memory (VmRSS) before and with 1,000 / 5,000 / 10,000. Target: 10,000 under 1 GiB. Then the
  10,000 stay idle for --idle-minutes (10), as a phone with the app open does: each client answers the server's
  keep-alive `ping` with `pong` (and WebSocket pings, as every client library does) and sends nothing else. After
  that, how many sockets are still open, and the memory again.
Results: bench/realtime.json and the tables printed (copied into bench/README.md).

    .venv/bin/python bench/realtime.py --memory-only --idle-minutes 10   # only the sockets: ~12 minutes
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import queue
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
sys.path.insert(0, str(ROOT))

DB_NAME = "simpul_bench_rt"
PORT = 8192
ENV = {
    "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DB_NAME}",
    "REDIS_URL": "redis://127.0.0.1:6379/6",
    "SIMPUL_ENV": "development",
    "DJANGO_DEBUG": "false",
    "LOG_LEVEL": "WARNING",
    "CELERY_TASK_ALWAYS_EAGER": "false",
    "JWT_ACCESS_TTL_SECONDS": "7200",
}


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def summary(values: list[float]) -> dict:
    ms = [v * 1000 for v in values]
    return {
        "n": len(ms),
        "p50_ms": round(pct(ms, 50), 1),
        "p95_ms": round(pct(ms, 95), 1),
        "p99_ms": round(pct(ms, 99), 1),
        "max_ms": round(max(ms), 1),
    }


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def start(args: list[str], env: dict, log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        args,
        cwd=ROOT,
        env=env,
        stdout=open(log, "wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, 15)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)


def wait_http(port: int, process: subprocess.Popen, log: Path) -> None:
    import urllib.request

    for _ in range(300):
        if process.poll() is not None:
            raise SystemExit(f"server exited:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("server did not start")


def setup_database() -> None:
    import psycopg

    with psycopg.connect("host=127.0.0.1 user=postgres dbname=postgres", autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DB_NAME,)).fetchone() is None:
            conn.execute(f'CREATE DATABASE "{DB_NAME}"')
    env = {**os.environ, **ENV}
    for command in (["migrate", "--noinput"], ["prepare_calendar"], ["seed_demo"]):
        subprocess.run([str(BIN / "python"), "manage.py", *command], cwd=ROOT, env=env, check=True, capture_output=True)


# --- the app: a graphql-transport-ws client in a thread of its own --------------------------------------------------


class Socket(threading.Thread):
    """One subscription; every `next` payload goes to `received` with its arrival time."""

    def __init__(self, url: str, token: str, query: str, variables: dict):
        super().__init__(daemon=True)
        self.url, self.token, self.query, self.variables = url, token, query, variables
        self.received: queue.Queue = queue.Queue()
        self.ready = threading.Event()

    def run(self):
        asyncio.run(self._run())

    async def _run(self):
        import websockets

        async with websockets.connect(self.url, subprotocols=["graphql-transport-ws"]) as ws:
            await ws.send(json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {self.token}"}}))
            assert json.loads(await ws.recv())["type"] == "connection_ack"
            payload = {"query": self.query, "variables": self.variables}
            await ws.send(json.dumps({"type": "subscribe", "id": "1", "payload": payload}))
            self.ready.set()
            try:
                async for frame in ws:
                    self.received.put((time.time(), json.loads(frame)))
            except websockets.ConnectionClosed:  # the server stopped at the end of the run
                return


def subscribed(redis_url: str, group: str) -> bool:
    import redis

    return bool(redis.from_url(redis_url).zcard(f"simpul:group:{group}"))


def filed_case(resident):
    """A complaint by `resident`, filed through the service as the API files it, accepted and in progress."""
    import django

    django.setup()
    from shapely.geometry import shape

    from backend.accounts.actor import Actor
    from backend.accounts.models import User
    from backend.cases.models import Case
    from backend.cases.services import transition
    from backend.complaints.models import ComplaintCategory
    from backend.complaints.services import submit_complaint
    from backend.regions.models import Area, Region

    region = Region.objects.get(code="16.06")
    staff = Actor.for_user(User.objects.get(username="pupr.staf"))

    point = shape(Area.objects.get(region=region, code="16.06.02").boundary).representative_point()
    category = ComplaintCategory.objects.get(region=region, code="jalan-rusak")
    result = submit_complaint(
        actor=Actor.for_user(resident),
        region_slug_or_code=region.slug,
        category_id=category.pk,
        description="Bench: jalan berlubang di depan pasar, perlu diperbaiki segera.",
        lat=point.y,
        lon=point.x,
        extra={"severity": "berat"},
        idempotency_key=f"bench-{time.time()}",
    )
    case = Case.objects.get(pk=result.case.pk)
    transition(case, "accept", actor=staff)
    transition(case, "start", actor=staff)
    return case


def bench_resident():
    import django

    django.setup()
    from backend.accounts.models import User

    resident, _created = User.objects.get_or_create(phone="+6281355500001", defaults={"full_name": "Bench"})
    return resident


def latency_run(cycles: int, fcm, log_dir: Path) -> dict:
    from django.db import transaction
    from graphql_relay import to_global_id

    from backend.accounts.actor import Actor
    from backend.accounts.models import Device, User
    from backend.accounts.services import ClientInfo, _start_session
    from backend.cases.services import transition

    resident = bench_resident()
    Device.objects.filter(user=resident).delete()
    Device.objects.create(user=resident, token="bench-phone", platform="android")
    staff = Actor.for_user(User.objects.get(username="pupr.staf"))
    case = filed_case(resident)
    token = _start_session(resident, ClientInfo()).access_token
    query = "subscription($id: ID) { caseUpdated(id: $id) { eventType case { status version } } }"
    socket = Socket(f"ws://127.0.0.1:{PORT}/graphql", token, query, {"id": to_global_id("Case", case.pk)})
    socket.start()
    socket.ready.wait(10)
    while not subscribed(ENV["REDIS_URL"], f"case.{case.pk}"):
        time.sleep(0.01)
    time.sleep(0.5)
    while not socket.received.empty():
        socket.received.get()
    fcm.reset()
    ws_latency, ws_after_commit, fcm_latency, change_time, lost = [], [], [], [], 0
    reporter = Actor.for_user(resident)
    for cycle in range(cycles):
        for action, actor, payload in (
            ("request_info", staff, {"question": "Kirim foto dari dekat?"}),
            ("provide_info", reporter, {"text": "Sudah saya kirim."}),
        ):
            sends_before = len(fcm.sends)
            started = time.time()
            marks = []
            with transaction.atomic():
                transaction.on_commit(lambda marks=marks: marks.append(time.time()))  # runs first after COMMIT
                transition(case, action, actor=actor, payload=payload)
            committed = marks[0]
            change_time.append(committed - started)
            version = case.version
            deadline = started + 5
            while True:
                try:
                    arrived, message = socket.received.get(timeout=max(0.0, deadline - time.time()))
                except queue.Empty:
                    lost += 1
                    break
                data = (message.get("payload") or {}).get("data") or {}
                if data.get("caseUpdated", {}).get("case", {}).get("version") == version:
                    ws_latency.append(arrived - started)
                    ws_after_commit.append(arrived - committed)
                    break
            if action == "request_info":
                while len(fcm.sends) == sends_before and time.time() < started + 10:
                    time.sleep(0.0005)
                if len(fcm.sends) > sends_before:
                    fcm_latency.append(fcm.sends[sends_before].at - started)
                else:
                    lost += 1
        if cycle and cycle % 100 == 0:
            print(f"  {cycle} cycles", flush=True)
    return {
        "websocket": summary(ws_latency),
        "websocket_after_commit": summary(ws_after_commit),
        "change": summary(change_time),
        "fcm": summary(fcm_latency),
        "lost": lost,
        "changes": 2 * cycles,
    }


# --- memory: many idle sockets ---------------------------------------------------------------------------------------


async def hold_sockets(
    url: str, targets: list[int], cases: list[int], pid: int, settle: float, idle_seconds: float
) -> dict:
    import websockets
    from graphql_relay import to_global_id

    sockets = []
    results = [{"sockets": 0, "rss_mib": round(rss_mib(pid), 1)}]
    query = "subscription($id: ID) { caseUpdated(id: $id) { eventType } }"
    pings = 0

    async def answer(ws):
        """What an app does with a quiet socket: answer the server's keep-alive, nothing else."""
        nonlocal pings
        try:
            async for raw in ws:
                if json.loads(raw).get("type") == "ping":
                    pings += 1
                    await ws.send(json.dumps({"type": "pong"}))
        except websockets.ConnectionClosed:
            pass

    async def open_one(n: int):
        ws = await websockets.connect(url, subprotocols=["graphql-transport-ws"], open_timeout=60, ping_interval=None)
        await ws.send(json.dumps({"type": "connection_init"}))
        await ws.recv()
        variables = {"id": to_global_id("Case", cases[n % len(cases)])}
        await ws.send(json.dumps({"type": "subscribe", "id": "1", "payload": {"query": query, "variables": variables}}))
        sockets.append((ws, asyncio.create_task(answer(ws))))

    for target in targets:
        started = time.monotonic()
        while len(sockets) < target:
            batch = min(200, target - len(sockets))
            await asyncio.gather(*(open_one(len(sockets) + i) for i in range(batch)))
        opened = time.monotonic() - started
        await asyncio.sleep(settle)
        results.append({"sockets": target, "rss_mib": round(rss_mib(pid), 1), "open_seconds": round(opened, 1)})
        print(f"  {target} sockets: {results[-1]['rss_mib']} MiB", flush=True)
    print(f"  idle for {idle_seconds / 60:g} minutes", flush=True)
    await asyncio.sleep(idle_seconds)
    still_open = sum(1 for ws, _task in sockets if ws.close_code is None)
    idle = {
        "sockets": len(sockets),
        "idle_minutes": round(idle_seconds / 60, 1),
        "still_open": still_open,
        "rss_mib": round(rss_mib(pid), 1),
        "server_pings_per_socket": round(pings / max(1, len(sockets)), 1),
    }
    print(f"  after {idle['idle_minutes']} idle minutes: {still_open} open, {idle['rss_mib']} MiB", flush=True)
    for ws, task in sockets:
        await ws.close()
        task.cancel()
    return {"opened": results, "idle": idle}


def memory_run(targets: list[int], log_dir: Path, idle_seconds: float) -> dict:
    resident = bench_resident()
    from backend.cases.models import Case

    cases = list(Case.objects.order_by("pk").values_list("pk", flat=True)[:100]) or [filed_case(resident).pk]
    log = log_dir / "daphne-memory.log"
    server = start(
        [str(BIN / "daphne"), "-b", "127.0.0.1", "-p", str(PORT + 1), "backend.asgi:application"],
        {**os.environ, **ENV},
        log,
    )
    try:
        wait_http(PORT + 1, server, log)
        time.sleep(1)
        url = f"ws://127.0.0.1:{PORT + 1}/graphql"
        return asyncio.run(hold_sockets(url, targets, cases, server.pid, 3, idle_seconds))
    finally:
        stop(server)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--memory-only", action="store_true", help="only the idle sockets, not the latencies")
    parser.add_argument("--idle-minutes", type=float, default=10, help="how long the sockets stay idle (10)")
    parser.add_argument("--out", help="bench/realtime.json (bench/realtime-idle.json with --memory-only)")
    options = parser.parse_args()
    out = options.out or str(ROOT / "bench" / ("realtime-idle.json" if options.memory_only else "realtime.json"))
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    from tests.fcm_server import FcmServer

    fcm = FcmServer().start()
    os.environ.update(ENV)
    os.environ.update(
        {
            "FIREBASE_CREDENTIALS": fcm.credentials(),
            "FCM_ENDPOINT": fcm.url,
            "DJANGO_SETTINGS_MODULE": "backend.settings",
        }
    )
    setup_database()
    import redis

    redis.from_url(ENV["REDIS_URL"]).flushdb()
    log_dir = Path(tempfile.mkdtemp(prefix="simpul-bench-realtime-"))
    latency = None if options.memory_only else measure_latency(options, fcm, log_dir)
    targets = [200, 500, 1000] if options.quick else [1000, 5000, 10000]
    print(f"memory: {targets}", flush=True)
    memory = memory_run(targets, log_dir, options.idle_minutes * 60)
    fcm.stop()
    results = {
        "latency": latency,
        "memory": memory,
        "at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "load_average_after": os.getloadavg(),
    }
    Path(out).write_text(json.dumps(results, indent=2))
    if latency is not None:
        print_latency(latency)
    print("\n| idle subscriptions | daphne RSS MiB | seconds to open |\n| --- | --- | --- |")
    for row in memory["opened"]:
        print(f"| {row['sockets']} | {row['rss_mib']} | {row.get('open_seconds', '')} |")
    idle = memory["idle"]
    print(
        f"\nafter {idle['idle_minutes']} idle minutes: {idle['still_open']} of {idle['sockets']} sockets open, "
        f"{idle['rss_mib']} MiB, {idle['server_pings_per_socket']} server pings per socket"
    )
    return 0


def measure_latency(options, fcm, log_dir: Path) -> dict:
    env = dict(os.environ)
    daphne = start(
        [str(BIN / "daphne"), "-b", "127.0.0.1", "-p", str(PORT), "backend.asgi:application"],
        env,
        log_dir / "daphne.log",
    )
    worker = start(
        [str(BIN / "celery"), "-A", "backend", "worker", "-l", "WARNING", "--concurrency", "2"],
        env,
        log_dir / "worker.log",
    )
    try:
        wait_http(PORT, daphne, log_dir / "daphne.log")
        time.sleep(3)  # the worker's start-up
        cycles = 100 if options.quick else 1000
        print(f"latency: {cycles} cycles", flush=True)
        latency = latency_run(cycles, fcm, log_dir)
    finally:
        stop(worker)
        stop(daphne)
    return latency


def print_latency(latency: dict) -> None:
    print("\n| path | changes | p50 ms | p95 ms | p99 ms | max ms | target |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for key, label, target in (
        ("websocket", "change → WebSocket `next`", "p95 < 50"),
        ("change", "of which the change: transition() until its COMMIT", ""),
        ("websocket_after_commit", "commit → WebSocket `next`", ""),
        ("fcm", "change → FCM server", "p95 < 1000"),
    ):
        row = latency[key]
        print(
            f"| {label} | {row['n']} | {row['p50_ms']} | {row['p95_ms']} | {row['p99_ms']} | {row['max_ms']} "
            f"| {target} |"
        )
    print(f"\nlost: {latency['lost']}")


if __name__ == "__main__":
    raise SystemExit(main())
