"""Console page benchmark: the staff console's queue page (50 rows) and a case page, against the GraphQL queue page.

    .venv/bin/python bench/console.py            # seeds once like bench/staff_queue.py, then about a minute
    .venv/bin/python bench/console.py --quick

The same 100,000 complaints in Musi Banyuasin as bench/staff_queue.py (seeded once), the same production topology
(bench/complaints.py): the DPUPR supervisor, signed in to the console with a session cookie, asks `/console/` (the
queue page: 50 rows, the badge totals, the incoming-transfer count) and `/console/kasus/<id>` (a case with its
timeline, nearby cases and actions), interleaved with `staffQueue(first: 50)` over /graphql with the fields of a
queue screen. Target (issue 16): each console page's server CPU per request within 2x the GraphQL queue page's.
Results: bench/console.json.
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
import staff_queue
from serving import ROOT, Kind, Server

PORT = 8192

SESSION = r"""
import json
from django.test import Client
from backend.accounts.models import User
from backend.cases.models import Case
client = Client()
client.force_login(User.objects.get(username="pupr.kabid"))
case = Case.objects.filter(tracking_code__startswith="BEN-", agency__code="dpupr", status="accepted")
case = case.order_by("pk").first()
print(json.dumps({"session": client.cookies["sessionid"].value, "case": case.pk}))
"""


def run(server: Server, kind: Kind, clients: int, seconds: float) -> dict:
    summary, _rss = complaints.run(server, [kind] * clients, seconds, port=PORT)
    return summary[kind.name]


def session() -> dict:
    return complaints.shell(SESSION, what="signing in")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--out", default=str(ROOT / "bench" / "console.json"))
    parser.add_argument("--source", help="the Simpul tree the server runs (bench/README.md, Re-running)")
    args = parser.parse_args()
    complaints.use_source(parser, args.source)
    seconds, rounds = (3.0, 1) if args.quick else (8.0, 2)
    setup = staff_queue.prepare()
    signed_in = session()
    cookie = {"Cookie": f"sessionid={signed_in['session']}", "Accept-Language": "id"}
    graphql, _ceiling = staff_queue.kinds(setup, 50, staff_queue.QUERY)
    with_totals = staff_queue.QUERY.replace(
        "query($n: Int!) {", "query($n: Int!) { staffQueueTotals { total overdue dueSoon paused unassigned }", 1
    )
    screen, _ceiling = staff_queue.kinds(setup, 50, with_totals)
    screen.name = "graphql-50-with-totals"
    pages = [
        graphql,
        screen,
        Kind("console-queue-50", "GET", "/console/", headers=cookie),
        Kind("console-case", "GET", f"/console/kasus/{signed_in['case']}", headers=cookie),
    ]
    results: dict[str, list[dict]] = {}
    with Server(complaints.TOPOLOGY, PORT, Path(tempfile.mkdtemp(prefix="simpul-bench-"))) as server:
        server.wait_ready()
        for kind in pages:  # warm-up
            run(server, kind, 2, 1.0)
        for _round in range(rounds):
            for kind in pages:
                summary = run(server, kind, args.clients, seconds)
                if summary["errors"]:
                    raise SystemExit(f"{kind.name}: {summary['errors']} errors")
                results.setdefault(kind.name, []).append(summary)
                print(
                    f"{kind.name:>18} {summary['rps']:>7} req/s  p50 {summary['p50_ms']} p95 {summary['p95_ms']} ms  "
                    f"CPU ms/request server {summary['server_cpu_ms_per_request']} "
                    f"postgres {summary['postgres_cpu_ms_per_request']}",
                    flush=True,
                )
    merged = {name: complaints.merge(runs) for name, runs in results.items()}
    base, screen_cpu = merged[graphql.name], merged[screen.name]
    lines = [
        "| page | req/s | p50 / p95 ms | CPU ms/request server / PostgreSQL | server CPU vs GraphQL / with totals |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name, m in merged.items():
        lines.append(
            f"| {name} | {m['rps']} | {m['p50_ms']} / {m['p95_ms']} | {m['server_cpu_ms']} / {m['postgres_cpu_ms']} | "
            f"{m['server_cpu_ms'] / base['server_cpu_ms']:.2f}x / "
            f"{m['server_cpu_ms'] / screen_cpu['server_cpu_ms']:.2f}x |"
        )
    report = {"machine": serving.machine_facts(), "clients": args.clients, "phase_seconds": seconds, "results": results}
    Path(args.out).write_text(json.dumps(report, indent=1))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
