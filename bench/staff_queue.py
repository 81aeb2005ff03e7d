"""Staff queue benchmark: a page of the queue over 100,000 cases of one region, GraphQL against a hand-written view.

    .venv/bin/python bench/staff_queue.py            # seeds once (about a minute), then about 2 minutes of phases
    .venv/bin/python bench/staff_queue.py --quick

Seeds 100,000 complaints in Kabupaten Musi Banyuasin (60 % at DPUPR) straight into the tables, once. Then, on the
production topology (bench/complaints.py), the supervisor of DPUPR asks `staffQueue(first: N)` for N = 10, 50, 100
with the fields a queue screen shows (code, status, deadline, SLA state, priority, category, area, agency,
assignee, latest public event, photo count), interleaved with `bench/ceiling.py`'s hand-written view that
returns the same rows from one SQL query. Target: at 50 rows the GraphQL page reaches >= 0.5x the ceiling's throughput.
Results: bench/staff_queue.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import complaints
import serving
from serving import PYTHON, ROOT, Kind, Sampler, Server, drive

PORT = 8191
CASES = 100_000
QUERY = """query($n: Int!) { staffQueue(first: $n) { edges { node {
  trackingCode status dueAt priority slaState photoCount
  categoryCode areaName agencyCode assigneeName latestPublicEvent { type at } } } } }"""

SEED = r"""
import random, datetime as dt, json
from django.db import transaction
from django.utils import timezone
from backend.accounts.models import User
from backend.accounts.services import ClientInfo, _start_session
from backend.cases.models import Case
from backend.complaints.models import Complaint, ComplaintCategory
from backend.regions.models import Agency, Area, Region

region = Region.objects.get(code="16.06")
dpupr = Agency.objects.get(region=region, code="dpupr")
agencies = list(Agency.objects.filter(region=region))
resident = User.objects.get(phone="+6281200000001")
have = Case.objects.filter(region=region, tracking_code__startswith="BEN-").count()
if have < %(cases)d:
    rng = random.Random(5)
    categories = list(ComplaintCategory.objects.filter(region=region, parent__isnull=False))
    areas = list(Area.objects.filter(region=region))
    staff = list(User.objects.filter(memberships__agency=dpupr))
    now = timezone.now()
    statuses = ["routed", "accepted", "in_progress", "reopened", "resolved", "closed"]
    for start in range(have, %(cases)d, 5000):
        batch = []
        for i in range(start, min(start + 5000, %(cases)d)):
            batch.append(Case(
                kind="complaint", tracking_code=f"BEN-2026-{i:06d}", region=region,
                agency=dpupr if rng.random() < 0.6 else rng.choice(agencies), status=rng.choice(statuses),
                priority=rng.choice(["low", "normal", "normal", "high", "urgent"]), resident=resident,
                lat=-2.5, lon=103.8, h3_cell="", area=rng.choice(areas),
                assignee=rng.choice(staff) if rng.random() < 0.5 else None,
                submitted_at=now - dt.timedelta(hours=rng.randint(1, 2000)),
                due_at=now + dt.timedelta(hours=rng.randint(-500, 500)),
            ))
        with transaction.atomic():
            created = Case.objects.bulk_create(batch)
            Complaint.objects.bulk_create([
                Complaint(case=c, category=rng.choice(categories), description="Laporan uji beban antrean staf.")
                for c in created
            ])
token = _start_session(User.objects.get(username="pupr.kabid"), ClientInfo()).access_token
print(json.dumps({"token": token, "agency": dpupr.pk}))
"""


def prepare() -> dict:
    serving.setup_database()
    done = subprocess.run(
        [str(PYTHON), "manage.py", "shell", "-c", SEED % {"cases": CASES}],
        cwd=ROOT,
        env={**os.environ, **complaints.ENV},
        capture_output=True,
        text=True,
        timeout=1200,
    )
    if done.returncode != 0:
        raise SystemExit(f"seeding failed:\n{done.stdout}\n{done.stderr}")
    with serving.pg_connect() as conn:
        conn.execute("ANALYZE")
    return json.loads(done.stdout.strip().splitlines()[-1])


def kinds(setup: dict, size: int) -> tuple[Kind, Kind]:
    body = json.dumps({"query": QUERY, "variables": {"n": size}}).encode()
    graphql = Kind(f"graphql-{size}", "POST", "/graphql", body, headers={"Authorization": f"Bearer {setup['token']}"})
    ceiling = Kind(f"ceiling-{size}", "GET", f"/bench/ceiling/queue/{setup['agency']}?n={size}")
    return graphql, ceiling


def run(server: Server, kind: Kind, clients: int, seconds: float) -> tuple[dict, float]:
    sampler = Sampler(server)
    sampler.start()
    result = asyncio.run(drive(PORT, [(kind, clients, True, 0.0)], seconds, 1_000_000))[kind.name]
    sampler.finish()
    return result, max(sampler.max_rss.values(), default=0.0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--out", default=str(ROOT / "bench" / "staff_queue.json"))
    args = parser.parse_args()
    seconds, rounds = (3.0, 1) if args.quick else (8.0, 2)
    setup = prepare()
    results: dict[str, list[dict]] = {}
    peak = 0.0
    with Server(complaints.TOPOLOGY, PORT, Path(tempfile.mkdtemp(prefix="simpul-bench-"))) as server:
        server.wait_ready()
        for size in (10, 50, 100):  # warm-up
            for kind in kinds(setup, size):
                run(server, kind, 2, 1.0)
        for _round in range(rounds):
            for size in (10, 50, 100):
                for kind in kinds(setup, size):
                    summary, rss = run(server, kind, args.clients, seconds)
                    peak = max(peak, rss)
                    results.setdefault(kind.name, []).append(summary)
                    print(
                        f"{kind.name:>12} {summary['rps']:>7} req/s  p50 {summary['p50_ms']} "
                        f"p95 {summary['p95_ms']} ms  errors {summary['errors']}",
                        flush=True,
                    )
    lines = [
        "| rows | GraphQL req/s | p50 / p95 ms | ceiling req/s | p50 / p95 ms | ratio |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for size in (10, 50, 100):
        g = results[f"graphql-{size}"]
        c = results[f"ceiling-{size}"]
        g_rps = sum(r["rps"] for r in g) / len(g)
        c_rps = sum(r["rps"] for r in c) / len(c)
        lines.append(
            f"| {size} | {g_rps:.1f} | {max(r['p50_ms'] for r in g)} / {max(r['p95_ms'] for r in g)} | {c_rps:.1f} | "
            f"{max(r['p50_ms'] for r in c)} / {max(r['p95_ms'] for r in c)} | {g_rps / c_rps:.2f} |"
        )
    report = {
        "machine": serving.machine_facts(),
        "clients": args.clients,
        "phase_seconds": seconds,
        "results": results,
        "peak_rss_mib": round(peak, 1),
    }
    Path(args.out).write_text(json.dumps(report, indent=1))
    print("\n".join(lines))
    print(f"\nPeak resident memory of a server process: {peak:.1f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
