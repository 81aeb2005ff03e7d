"""Complaint benchmark: filing a complaint and reading a case's status, against the ceiling of this machine.

    .venv/bin/python bench/complaints.py            # the full run, about 3 minutes
    .venv/bin/python bench/complaints.py --quick    # shorter phases, for a smoke test

The server is the production topology (docs/serving.md: gunicorn, 2 threaded workers x 8, psycopg's pool) on
PostgreSQL and Redis. Besides the application it serves two hand-written views (bench/ceiling.py): one INSERT of a
row, and one one-row SELECT of a case's status by tracking code, each answering a few bytes of JSON. They are the
ceiling: what Django on this machine does with one query and nothing else. The phases run interleaved (ceiling,
application, ceiling, application…) at 16 and 64 concurrent clients, so a change in the machine's load hits both.

- submit:  `submitComplaint` without photos, each from one of 64 signed-in residents with a fresh idempotency key:
           validation, the point-in-area look-up, routing, the tracking-code counter, the case, the complaint, two
           timeline events and outbox rows, in one transaction. Target: >= 0.25x the ceiling INSERT.
- status:  `caseByTrackingCode(region, trackingCode) { status }` for a random existing case, anonymous.
           Target: >= 0.5x the ceiling GET.
Peak resident memory of every server process is sampled throughout (target <= 120 MB per process).
Results: bench/complaints.json and the tables printed (copied into bench/README.md).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import serving
from serving import BASE_ENV, BIN, PYTHON, ROOT, Kind, Sampler, Server, Topology, drive

PORT = 8190
RESIDENTS = 64
SEEDED_CASES = 2000
ENV = {
    **BASE_ENV,
    "DJANGO_SETTINGS_MODULE": "ceiling_settings",
    "PYTHONPATH": str(ROOT / "bench"),
    "JWT_ACCESS_TTL_SECONDS": "7200",
    # One resident files hundreds of complaints a minute here; the per-resident limit would refuse them.
    "COMPLAINTS_PER_HOUR": "1000000",
    "OTP_PER_IP_PER_HOUR": "1000000",
}
TOPOLOGY = Topology(
    "gunicorn-gthread-2x8",
    "production topology",
    [
        str(BIN / "gunicorn"),
        "backend.wsgi:application",
        "-k",
        "gthread",
        "-w",
        "2",
        "--threads",
        "8",
        "-b",
        "127.0.0.1:{port}",
        "--log-level",
        "warning",
    ],
    env=ENV,
)

SUBMIT = """mutation($input: SubmitComplaintInput!) { submitComplaint(input: $input) {
  case { trackingCode } errors { code } } }"""
STATUS = """query($c: String!) { caseByTrackingCode(region: "16.06", trackingCode: $c) { status } }"""

PREPARE = r"""
import json, random
from django.db import connection
from backend.accounts.models import User
from backend.accounts.services import ClientInfo, _start_session
from backend.complaints.models import ComplaintCategory
from backend.regions.models import Area, Region
from shapely.geometry import shape

with connection.cursor() as cursor:
    cursor.execute("CREATE TABLE IF NOT EXISTS bench_ceiling (id bigserial PRIMARY KEY, body jsonb NOT NULL, "
                   "created_at timestamptz NOT NULL DEFAULT now())")
region = Region.objects.get(code="16.06")
points = []
for area in Area.objects.filter(region=region, level="kecamatan"):
    p = shape(area.boundary).representative_point()
    points.append([p.y, p.x])
categories = [c.pk for c in ComplaintCategory.objects.filter(region=region, parent__isnull=False) if not c.extra_schema]
tokens = []
for i in range(%(residents)d):
    user, _ = User.objects.get_or_create(phone="+62812%%08d" %% (5000000 + i), defaults={"full_name": "Warga %%d" %% i})
    tokens.append(_start_session(user, ClientInfo()).access_token)
print(json.dumps({"tokens": tokens, "points": points, "categories": categories, "region_id": region.pk}))
"""


def use_source(parser: argparse.ArgumentParser, source: str | None) -> None:
    """Run the server from another tree (e.g. a `git archive` of an earlier commit) instead of this checkout."""
    if source:
        serving.SOURCE = Path(source).resolve()
        if not (serving.SOURCE / "manage.py").exists():
            parser.error(f"--source: no manage.py in {serving.SOURCE}")


def shell(script: str, *, what: str, timeout: float = 300) -> dict:
    """Run `script` in `manage.py shell` of the benchmark's tree and database; its last line is JSON."""
    done = subprocess.run(
        [str(PYTHON), "manage.py", "shell", "-c", script],
        cwd=ROOT,
        env={**os.environ, **ENV},
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if done.returncode != 0:
        raise SystemExit(f"{what} failed:\n{done.stdout}\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def prepare() -> dict:
    serving.setup_database()
    return shell(PREPARE % {"residents": RESIDENTS}, what="preparing")


def submit_kinds(setup: dict, concurrency: int) -> list[Kind]:
    """One client per resident: each sends its own token and a fresh idempotency key every time."""
    rng = random.Random(7)

    def body() -> tuple[str, bytes]:
        lat, lon = rng.choice(setup["points"])
        payload = {
            "region": "16.06",
            "category": str(rng.choice(setup["categories"])),
            "description": "Jalan berlubang di depan sekolah, mohon segera diperbaiki sebelum ada korban.",
            "lat": lat + rng.uniform(-0.002, 0.002),
            "lon": lon + rng.uniform(-0.002, 0.002),
            "idempotencyKey": uuid.uuid4().hex,
        }
        return "/graphql", json.dumps({"query": SUBMIT, "variables": {"input": payload}}).encode()

    return [
        Kind(
            "submit",
            "POST",
            "/graphql",
            headers={"Authorization": f"Bearer {setup['tokens'][i % RESIDENTS]}"},
            make=body,
        )
        for i in range(concurrency)
    ]


def ceiling_insert_kind() -> Kind:
    rng = random.Random(11)

    def body() -> tuple[str, bytes]:
        return "/bench/ceiling/insert", json.dumps({"description": "x" * 80, "n": rng.random()}).encode()

    return Kind("ceiling-insert", "POST", "/bench/ceiling/insert", make=body)


def status_kinds(codes: list[str]) -> tuple[Kind, Kind]:
    rng = random.Random(13)

    def graphql_body() -> tuple[str, bytes]:
        return "/graphql", json.dumps({"query": STATUS, "variables": {"c": rng.choice(codes)}}).encode()

    def ceiling_path() -> tuple[str, None]:
        return f"/bench/ceiling/case/{rng.choice(codes)}", None

    return (
        Kind("status", "POST", "/graphql", make=graphql_body),
        Kind("ceiling-get", "GET", "/bench/ceiling/case/x", make=ceiling_path),
    )


def existing_codes(limit: int) -> list[str]:
    with serving.pg_connect() as conn:
        rows = conn.execute(
            "SELECT tracking_code FROM cases_case WHERE kind = 'complaint' ORDER BY random() LIMIT %s", (limit,)
        ).fetchall()
    return [r[0] for r in rows]


def run(server: Server, kinds: list[Kind], seconds: float, port: int = PORT) -> tuple[dict, float]:
    """One phase. Besides throughput and latency: the CPU the server processes and PostgreSQL spent per request
    (steadier than throughput on a shared machine), and the cores anything else used meanwhile ("other")."""
    serving.wait_for_quiet(3)
    pids = [row["pid"] for row in server.processes()]
    sampler = Sampler(server)
    sampler.start()
    server_cpu, pg_cpu, own_cpu = (
        serving.cpu_seconds(pids),
        serving.cpu_seconds(serving.postgres_pids(), reaped_children=True),
        sum(os.times()[:2]),
    )
    busy_before = serving.machine_busy_seconds()
    started = time.monotonic()
    result = asyncio.run(drive(port, [(k, 1, True, 0.0) for k in kinds], seconds, 1_000_000))
    elapsed = time.monotonic() - started
    sampler.finish()
    machine = serving.machine_busy_seconds() - busy_before
    server_cpu = serving.cpu_seconds(pids) - server_cpu
    pg_cpu = max(0.0, serving.cpu_seconds(serving.postgres_pids(), reaped_children=True) - pg_cpu)
    own_cpu = sum(os.times()[:2]) - own_cpu
    [(name, summary)] = result.items()
    requests = max(1, summary["requests"])
    summary["machine_cores_busy"] = round(machine / elapsed, 2)
    summary["server_cpu_ms_per_request"] = round(server_cpu * 1000 / requests, 2)
    summary["postgres_cpu_ms_per_request"] = round(pg_cpu * 1000 / requests, 2)
    summary["other_cpu_cores"] = round(max(0.0, machine - server_cpu - pg_cpu - own_cpu) / elapsed, 2)
    summary["peak_rss_mib"] = {str(pid): round(rss, 1) for pid, rss in sampler.max_rss.items()}
    return {name: summary}, max(sampler.max_rss.values(), default=0.0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="3 s phases, one round")
    parser.add_argument("--out", default=str(ROOT / "bench" / "complaints.json"))
    parser.add_argument("--source", help="the Simpul tree the server runs (bench/README.md, Re-running)")
    args = parser.parse_args()
    use_source(parser, args.source)
    seconds, rounds = (3.0, 1) if args.quick else (8.0, 2)
    if not serving.port_free(PORT):
        raise SystemExit(f"port {PORT} is taken")
    setup = prepare()
    log_dir = Path(tempfile.mkdtemp(prefix="simpul-bench-"))
    results: dict[str, list[dict]] = {}
    peak_rss = 0.0
    with Server(TOPOLOGY, PORT, log_dir) as server:
        server.wait_ready()
        # Enough cases for the status look-ups before anything is measured (also warms both workers up).
        while len(existing_codes(SEEDED_CASES)) < SEEDED_CASES:
            run(server, submit_kinds(setup, 16), 5.0)
        codes = existing_codes(SEEDED_CASES)
        status, ceiling_get = status_kinds(codes)
        for _round in range(rounds):
            for concurrency in (16, 64):
                phases = [
                    ("ceiling-insert", [ceiling_insert_kind()] * concurrency),
                    ("submit", submit_kinds(setup, concurrency)),
                    ("ceiling-get", [ceiling_get] * concurrency),
                    ("status", [status] * concurrency),
                ]
                for name, kinds in phases:
                    summary, rss = run(server, kinds, seconds)
                    peak_rss = max(peak_rss, rss)
                    results.setdefault(f"{name}-c{concurrency}", []).append(summary[name])
                    s = summary[name]
                    print(
                        f"{name:>15} c{concurrency:<3} {s['rps']:>7} req/s  p50 {s['p50_ms']} p95 {s['p95_ms']} "
                        f"p99 {s['p99_ms']} ms  errors {s['errors']}  CPU ms/request server "
                        f"{s['server_cpu_ms_per_request']} postgres {s['postgres_cpu_ms_per_request']}  "
                        f"other {s['other_cpu_cores']} cores",
                        flush=True,
                    )
        processes = server.processes()
    report = {
        "machine": serving.machine_facts(),
        "topology": " ".join(TOPOLOGY.command).replace(str(BIN) + "/", ""),
        "source": str(serving.SOURCE),
        "phase_seconds": seconds,
        "rounds": rounds,
        "results": results,
        "peak_rss_mib_any_process": round(peak_rss, 1),
        "processes_at_end": processes,
    }
    Path(args.out).write_text(json.dumps(report, indent=1))
    print(markdown(report))
    return 0


def merge(runs: list[dict]) -> dict:
    """Several runs of a phase: requests added up, throughput summed over time, latencies as the worst run's, CPU
    per request weighted by requests, other work as the most any run saw."""
    requests = sum(r["requests"] for r in runs)

    def per_request(key):
        return round(sum(r[key] * r["requests"] for r in runs) / max(1, requests), 2)

    return {
        "rps": round(sum(r["rps"] for r in runs) / len(runs), 1),
        "p50_ms": max(r["p50_ms"] for r in runs),
        "p95_ms": max(r["p95_ms"] for r in runs),
        "p99_ms": max(r["p99_ms"] for r in runs),
        "errors": sum(r["errors"] for r in runs),
        "requests": requests,
        "server_cpu_ms": per_request("server_cpu_ms_per_request"),
        "postgres_cpu_ms": per_request("postgres_cpu_ms_per_request"),
        "other_cores": max(r["other_cpu_cores"] for r in runs),
    }


def markdown(report: dict) -> str:
    merged = {name: merge(runs) for name, runs in report["results"].items()}
    lines = [
        "| phase | clients | req/s | p50 ms | p95 ms | p99 ms | errors | CPU ms/request: server / PostgreSQL | "
        "other cores, max | ratio to ceiling | target |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for concurrency in (16, 64):
        for name, ceiling, target in (
            ("ceiling-insert", None, None),
            ("submit", "ceiling-insert", 0.25),
            ("ceiling-get", None, None),
            ("status", "ceiling-get", 0.5),
        ):
            m = merged[f"{name}-c{concurrency}"]
            ratio = f"{m['rps'] / merged[f'{ceiling}-c{concurrency}']['rps']:.2f}" if ceiling else "—"
            goal = f">= {target}" if target else "—"
            lines.append(
                f"| {name} | {concurrency} | {m['rps']} | {m['p50_ms']} | {m['p95_ms']} | {m['p99_ms']} | "
                f"{m['errors']} | {m['server_cpu_ms']} / {m['postgres_cpu_ms']} | {m['other_cores']} | {ratio} | "
                f"{goal} |"
            )
    lines.append(f"\nPeak resident memory of any server process: {report['peak_rss_mib_any_process']} MiB.")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
