"""What validating a document costs, for documents at the edge of the limits (schema/limits.py): the work graphql-core's
validation does grows faster than a document, so the limits are checked before it runs.

    .venv/bin/python bench/validation.py

Each document is parsed and validated cold (the per-process cache emptied), 5 times; the best and the median are
printed (milliseconds, one process, no server). Target: every document the limits let through validates in well under
100 ms; every one they refuse is refused in well under a second. Results: bench/README.md ("Validation").
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.settings")


def documents(settings) -> list[tuple[str, str]]:
    repeats, aliases = settings.GRAPHQL_MAX_FIELD_REPEATS, settings.GRAPHQL_MAX_ALIASES
    pages = min(aliases, settings.GRAPHQL_MAX_FIELDS // 34)  # each page: regions, edges, node and 31 fields
    doubling = " ".join(f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(30))
    colocated = " ".join(f"fragment R{i} on Region {{ __typename id code name }}" for i in range(12))
    return [
        (
            "an app's query: regions, 12 colocated fragments",
            "{ regions { edges { node { __typename id "
            + " ".join(f"...R{i}" for i in range(12))
            + " } } } } "
            + colocated,
        ),
        (
            f"allowed: {aliases} aliases x {repeats} repeats of `id`",
            "{ " + " ".join(f"a{i}: me {{ " + " ".join(["id"] * repeats) + " }" for i in range(aliases)) + " }",
        ),
        (
            f"allowed: {pages} aliased pages of a 31-field fragment ({pages * 34} fields)",
            "{ "
            + " ".join(f"p{i}: regions(first: 1) {{ edges {{ node {{ ...Big }} }} }}" for i in range(pages))
            + " } fragment Big on Region { id code name kind slug timezone workStart workEnd workingWeekdays"
            " triageAgency { id code name shortName email phone address }"
            " agencies { id code name shortName email phone address region { id code name slug } } }",
        ),
        ("refused: `me{id}` 20,000 times (140 KB)", "{ " + " ".join(["me{id}"] * 20_000) + " }"),
        (
            "refused: 2^30 fields through doubling fragments",
            "{ ...F0 } " + doubling + " fragment F30 on Query { me { id } }",
        ),
        (f"refused: `me{{id}}` {repeats + 1} times", "{ " + " ".join(["me{id}"] * (repeats + 1)) + " }"),
    ]


def main() -> int:
    import django

    django.setup()
    from django.conf import settings

    from schema import limits

    limits.checked_document("{ __typename }")  # loads the schema
    print("| document | bytes | answer | best ms | median ms |\n| --- | --- | --- | --- | --- |")
    for label, query in documents(settings):
        timings, codes = [], []
        for _ in range(5):
            limits._checked.cache_clear()
            started = time.perf_counter()
            _document, errors = limits.checked_document(query)
            timings.append((time.perf_counter() - started) * 1000)
            codes = sorted({(e.extensions or {}).get("code", "invalid") for e in errors}) or ["valid"]
        best, median = min(timings), statistics.median(timings)
        print(f"| {label} | {len(query):,} | {', '.join(codes)} | {best:.1f} | {median:.1f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
