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
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import complaints
import serving
from serving import ROOT, Kind, Server

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
    setup = complaints.shell(SEED % {"cases": CASES}, what="seeding", timeout=1200)
    with serving.pg_connect() as conn:
        conn.execute("ANALYZE")
    return setup


def kinds(setup: dict, size: int, query: str) -> tuple[Kind, Kind]:
    body = json.dumps({"query": query, "variables": {"n": size}}).encode()
    graphql = Kind(f"graphql-{size}", "POST", "/graphql", body, headers={"Authorization": f"Bearer {setup['token']}"})
    ceiling = Kind(f"ceiling-{size}", "GET", f"/bench/ceiling/queue/{setup['agency']}?n={size}")
    return graphql, ceiling


def run(server: Server, kind: Kind, clients: int, seconds: float) -> tuple[dict, float]:
    summary, rss = complaints.run(server, [kind] * clients, seconds, port=PORT)
    return summary[kind.name], rss


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--out", default=str(ROOT / "bench" / "staff_queue.json"))
    parser.add_argument("--source", help="the Simpul tree the server runs (bench/README.md, Re-running)")
    parser.add_argument("--query", help="a file with the page's GraphQL query, for a tree whose API differs")
    args = parser.parse_args()
    complaints.use_source(parser, args.source)
    query = Path(args.query).read_text() if args.query else QUERY
    seconds, rounds = (3.0, 1) if args.quick else (8.0, 2)
    setup = prepare()
    results: dict[str, list[dict]] = {}
    peak = 0.0
    with Server(complaints.TOPOLOGY, PORT, Path(tempfile.mkdtemp(prefix="simpul-bench-"))) as server:
        server.wait_ready()
        for size in (10, 50, 100):  # warm-up
            for kind in kinds(setup, size, query):
                run(server, kind, 2, 1.0)
        for _round in range(rounds):
            for size in (10, 50, 100):
                for kind in kinds(setup, size, query):
                    summary, rss = run(server, kind, args.clients, seconds)
                    peak = max(peak, rss)
                    results.setdefault(kind.name, []).append(summary)
                    print(
                        f"{kind.name:>12} {summary['rps']:>7} req/s  p50 {summary['p50_ms']} "
                        f"p95 {summary['p95_ms']} ms  errors {summary['errors']}  CPU ms/request server "
                        f"{summary['server_cpu_ms_per_request']} postgres {summary['postgres_cpu_ms_per_request']}  "
                        f"other {summary['other_cpu_cores']} cores",
                        flush=True,
                    )
    lines = [
        "| rows | GraphQL req/s | p50 / p95 ms | CPU ms/request server / PostgreSQL | ceiling req/s | p50 / p95 ms | "
        "CPU ms/request server / PostgreSQL | other cores, max | ratio |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for size in (10, 50, 100):
        g = complaints.merge(results[f"graphql-{size}"])
        c = complaints.merge(results[f"ceiling-{size}"])
        lines.append(
            f"| {size} | {g['rps']} | {g['p50_ms']} / {g['p95_ms']} | {g['server_cpu_ms']} / {g['postgres_cpu_ms']} | "
            f"{c['rps']} | {c['p50_ms']} / {c['p95_ms']} | {c['server_cpu_ms']} / {c['postgres_cpu_ms']} | "
            f"{max(g['other_cores'], c['other_cores'])} | {g['rps'] / c['rps']:.2f} |"
        )
    report = {
        "machine": serving.machine_facts(),
        "query": query,
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
