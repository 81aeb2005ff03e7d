"""Webhook delivery benchmark: 10,000 events to 10 endpoints, one of them down for the first minute.

    .venv/bin/python bench/webhooks.py              # 10,000 events (1,000 cases x 10 status changes), ~8 minutes
    .venv/bin/python bench/webhooks.py --events 1000 --down-seconds 3     # a smoke run
    .venv/bin/python bench/webhooks.py --events 2000 --rate 15             # paced: the pipeline's own latency

The production topology of delivery: Celery workers (`--workers`, 2: threads, each with its outbox relay; the first
runs beat for the sweep) on PostgreSQL and Redis. A driver process makes the status changes as fast as it can (or
`--rate` a second), each in its own committed transaction (accept, start, then request/provide information in
turns: ten changes per case), so PostgreSQL's NOTIFY
wakes the relay, which fans each change out to the 10 endpoints (all of them asking for `case.status_changed`). The
endpoints are 10 small HTTP servers in this process on 127.0.0.1; each verifies every delivery with the
`standardwebhooks` library, records the `webhook-id`, the case and its status, and when it arrived. Endpoint 0
answers 503 for the first `--down-seconds` (60): its messages wait out the retry schedule (5 s, then 5 min) and then
arrive, in order.

Reported: time from the first change to the last delivery (all, and the nine healthy endpoints), deliveries per
second while the healthy ones drained, p50/p95/p99 from a change's commit (the event's timestamp) to its arrival at
a healthy endpoint (target p95 < 1 s), deliveries lost (target 0), signatures that failed, and per-case order
(a status arriving before an earlier one of the same case at the same endpoint). Results: bench/webhooks.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import serving
from serving import BASE_ENV, BIN, PYTHON, ROOT
from standardwebhooks import Webhook

ENDPOINTS = 10
PORT_BASE = 8300
ENV = {
    **BASE_ENV,
    "WEBHOOK_ALLOWED_HOSTS": "127.0.0.1",
    "CELERY_TASK_ALWAYS_EAGER": "false",
    "OUTBOX_RELAY": "true",
    "COMPLAINTS_PER_HOUR": "1000000",
    "WEBHOOK_SWEEP_SECONDS": "1",
}

PREPARE = r"""
import json
from backend.accounts.actor import Actor, Scope
from backend.accounts.models import User
from backend.integrations.models import Integration
from backend.integrations import services as integrations
from backend.regions.models import Region
from notifications.webhooks import services
from notifications.webhooks.models import Endpoint, Message
region = Region.objects.get(code="16.06")
admin = Actor.for_user(User.objects.get(username="admin.muba"))
Integration.objects.filter(name="Bench").delete()
integration = integrations.create_integration(actor=admin, region_id=region.pk, name="Bench",
    contact_email="bench@example.org", scopes=[Scope.READ_CASES])
secrets = []
for i in range(%(endpoints)d):
    endpoint, secret = services.create_endpoint(actor=admin, integration_id=integration.pk,
        values=services.EndpointInput(url="http://127.0.0.1:%%d/hook" %% (%(port)d + i),
                                      event_types=["case.status_changed"]))
    secrets.append(secret)
print(json.dumps({"secrets": secrets}))
"""

DRIVER = r"""
import json, sys, time
from django.db import transaction
from backend.accounts.actor import Actor
from backend.accounts.models import User
from backend.cases.models import Case
from backend.cases.services import transition
from backend.complaints import services
from backend.complaints.models import ComplaintCategory
from backend.regions.models import Area, Region
from shapely.geometry import shape
region = Region.objects.get(code="16.06")
area = Area.objects.filter(region=region, level="kecamatan").first()
point = shape(area.boundary).representative_point()
category = ComplaintCategory.objects.get(region=region, code="lampu-jalan")
resident = User.objects.get(phone="+6281200000001")
staff = Actor.for_user(User.objects.get(username="dishub.staf"))
reporter = Actor.for_user(resident)
cases = []
for i in range(%(cases)d):
    submitted = services.submit_complaint(actor=reporter, region_slug_or_code="16.06", category_id=category.pk,
        description="Lampu jalan mati sejak tiga malam, gelap sekali (bench %%d)." %% i, lat=point.y, lon=point.x)
    cases.append(submitted.case.pk)
print("BENCH " + json.dumps({"ready": True}), flush=True)
sys.stdin.readline()  # the benchmark says go
started = time.time()
moves = [("accept", staff, {}), ("start", staff, {})] + [
    ("request_info", staff, {"question": "Di tiang nomor berapa?"}), ("provide_info", reporter, {"answer": "Nomor 12."})
] * 4
gap = 1 / %(rate)f if %(rate)f else 0  # seconds between changes (0: as fast as it goes)
due = time.time()
for action, actor, payload in moves:
    for pk in cases:
        if gap:
            due += gap
            time.sleep(max(0.0, due - time.time()))
        with transaction.atomic():
            transition(Case.objects.get(pk=pk), action, actor=actor, payload=payload)
print("BENCH " + json.dumps({"started": started, "finished": time.time()}), flush=True)
"""


class Receivers:
    """10 HTTP endpoints on one event loop thread: verify, record, answer (503 from endpoint 0 while it is down)."""

    def __init__(self, secrets: list[str], down_until: list[float]):
        self.hooks = [Webhook(secret) for secret in secrets]
        self.down_until = down_until
        self.arrivals: dict[int, list[tuple]] = defaultdict(list)  # endpoint -> (webhook-id, case, status, at, lag)
        self.routed = [0] * len(secrets)  # the submissions' own events, before the clock starts
        self.bad_signatures = 0
        self.refused = 0
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()

    def start(self):
        threading.Thread(target=self._run, daemon=True).start()
        self.ready.wait(10)

    def _run(self):
        asyncio.set_event_loop(self.loop)

        async def main():
            for i in range(len(self.hooks)):
                await asyncio.start_server(lambda r, w, i=i: self._serve(i, r, w), "127.0.0.1", PORT_BASE + i)
            self.ready.set()
            await asyncio.Event().wait()

        self.loop.run_until_complete(main())

    async def _serve(self, index: int, reader, writer):
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                headers = {
                    k.strip().lower(): v.strip() for k, _s, v in (line.partition(":") for line in lines[1:] if line)
                }
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                now = time.time()
                if index == 0 and now < self.down_until[0]:
                    self.refused += 1
                    writer.write(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n")
                else:
                    try:
                        payload = self.hooks[index].verify(body, headers)
                    except Exception:
                        self.bad_signatures += 1
                        payload = json.loads(body)
                    data = payload["data"]
                    if data["event"]["type"] == "routed":  # the driver's submissions, before the clock starts
                        self.routed[index] += 1
                        writer.write(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n")
                        await writer.drain()
                        continue
                    at = datetime.fromisoformat(payload["timestamp"]).timestamp()
                    self.arrivals[index].append(
                        (
                            headers["webhook-id"],
                            data["trackingCode"],
                            int(data["event"]["id"]),
                            data["status"],
                            now,
                            now - at,
                        )
                    )
                    writer.write(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    def count(self, endpoints=None) -> int:
        return sum(len(self.arrivals[i]) for i in (endpoints if endpoints is not None else range(len(self.hooks))))


def manage(script: str, **kwargs) -> subprocess.Popen:
    return subprocess.Popen(
        [str(PYTHON), "manage.py", "shell", "-c", script % kwargs],
        cwd=serving.SOURCE,
        env={**os.environ, **ENV},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def said(process: subprocess.Popen) -> dict:
    """The next `BENCH {json}` line of a process's output (anything else it prints is skipped)."""
    for line in process.stdout:
        if line.startswith("BENCH "):
            return json.loads(line[len("BENCH ") :])
    raise SystemExit(f"the driver ended: {process.stderr.read()[-3000:]}")


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] if ordered else float("nan")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=10_000, help="status changes (a multiple of 10)")
    parser.add_argument("--down-seconds", type=float, default=60)
    parser.add_argument("--timeout", type=float, default=900)
    parser.add_argument("--source", help="run the worker and driver from another tree")
    parser.add_argument("--rate", type=float, default=0, help="changes per second (0: a burst, as fast as it goes)")
    parser.add_argument("--workers", type=int, default=2, help="Celery worker processes (the first runs beat)")
    args = parser.parse_args()
    if args.source:
        serving.SOURCE = Path(args.source).resolve()
    cases = max(1, args.events // 10)
    serving.setup_database()
    prepared = manage(PREPARE, endpoints=ENDPOINTS, port=PORT_BASE)
    out, err = prepared.communicate(timeout=300)
    if prepared.returncode != 0:
        raise SystemExit(f"prepare failed:\n{out}\n{err}")
    secrets = json.loads(out.strip().splitlines()[-1])["secrets"]
    down_until = [0.0]  # endpoint 0 is up while the driver submits, down from the first change
    receivers = Receivers(secrets, down_until)
    receivers.start()
    logs = Path(tempfile.mkdtemp(prefix="bench-webhooks-"))
    for n in range(args.workers):
        beat = ["--beat", "--schedule", str(logs / "beat")] if n == 0 else []
        worker = subprocess.Popen(
            [str(BIN / "celery"), "-A", "backend", "worker", "--pool", "threads", "--concurrency", "16",
             "-n", f"bench{n}@%h", *beat, "-l", "WARNING"],
            cwd=serving.SOURCE, env={**os.environ, **ENV}, stdout=(logs / f"worker{n}.log").open("ab"),
            stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        serving._started.append(worker)
    driver = manage(DRIVER, cases=cases, rate=args.rate)
    serving._started.append(driver)
    if not said(driver)["ready"]:
        raise SystemExit("the driver did not get ready")
    settle = time.time() + 120  # the submissions' routing events reach every endpoint before the clock starts
    while min(receivers.routed) < cases and time.time() < settle:
        time.sleep(0.2)
    expected_per_endpoint = cases * 10
    down_until[0] = time.time() + args.down_seconds
    driver.stdin.write("go\n")
    driver.stdin.flush()
    timing = said(driver)
    healthy = range(1, ENDPOINTS)
    deadline = time.time() + args.timeout
    healthy_done = None
    while time.time() < deadline:
        if healthy_done is None and receivers.count(healthy) >= expected_per_endpoint * len(healthy):
            healthy_done = time.time()
        if receivers.count() >= expected_per_endpoint * ENDPOINTS:
            break
        time.sleep(0.2)
    finished = time.time()
    serving._stop_all()

    start = timing["started"]
    arrivals = receivers.arrivals
    unique = {i: {a[0] for a in arrivals[i]} for i in range(ENDPOINTS)}
    lags = [a[5] for i in healthy for a in arrivals[i]]
    out_of_order = 0
    for i in range(ENDPOINTS):
        last: dict[str, int] = {}
        for _id, code, event_id, _status, _at, _lag in arrivals[i]:
            if event_id < last.get(code, 0):
                out_of_order += 1
            last[code] = max(event_id, last.get(code, 0))
    last_healthy = max((a[4] for i in healthy for a in arrivals[i]), default=finished)
    last_any = max((a[4] for i in range(ENDPOINTS) for a in arrivals[i]), default=finished)
    report = {
        "events": cases * 10,
        "endpoints": ENDPOINTS,
        "expected_deliveries": expected_per_endpoint * ENDPOINTS,
        "delivered_unique": sum(len(ids) for ids in unique.values()),
        "duplicates": sum(len(arrivals[i]) - len(unique[i]) for i in range(ENDPOINTS)),
        "lost": expected_per_endpoint * ENDPOINTS - sum(len(ids) for ids in unique.values()),
        "bad_signatures": receivers.bad_signatures,
        "out_of_order": out_of_order,
        "refused_while_down": receivers.refused,
        "down_seconds": args.down_seconds,
        "workers": args.workers,
        "rate_per_s": args.rate or "burst",
        "changes_made_in_s": round(timing["finished"] - start, 1),
        "healthy_drained_in_s": round(last_healthy - start, 1),
        "all_drained_in_s": round(last_any - start, 1),
        "healthy_deliveries_per_s": round(expected_per_endpoint * len(healthy) / max(0.001, last_healthy - start), 1),
        "lag_p50_s": round(pct(lags, 50), 3),
        "lag_p95_s": round(pct(lags, 95), 3),
        "lag_p99_s": round(pct(lags, 99), 3),
        "timed_out": receivers.count() < expected_per_endpoint * ENDPOINTS,
        "machine": serving.machine_facts(),
    }
    (ROOT / "bench" / "webhooks.json").write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps({k: v for k, v in report.items() if k != "machine"}, indent=2))
    return 0 if report["lost"] == 0 and report["out_of_order"] == 0 and report["bad_signatures"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
