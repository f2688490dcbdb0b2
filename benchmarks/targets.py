"""Issue 7's targets, checked against a benchmark run's figures (nothing asserted).

scale.py appends this section to RESULTS.md; it can also be re-run on a saved file:

    .venv/bin/python benchmarks/targets.py benchmarks/RESULTS.md
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

HEADING = "## Targets (2-core machine)"

# Why a target is missed where it is, and what would come next: read only when it is missed.
WHEN_MISSED = {
    "neo4j batched load >= 100k rows/s": (
        "Neo4j itself is the limit on 2 cores: UNWIND CREATE of the same rows in one"
        " transaction with nothing else running measured ~26k rows/s, and the Python side"
        " is idle most of that time. The offline importer (`pathways neo4j start --import`)"
        " is the route for first loads of a national directory. Next: parallel"
        " transactions per relationship type on machines with more cores (at the cost of"
        " all-or-nothing), or neo4j-admin incremental import for Enterprise users."
    ),
    "neo4j bulk import (offline), 1m": (
        "The figure is the whole of `--import` after validation: Python writing the"
        " importer's CSV files (~40 s at 1m) plus neo4j-admin with its JVM start (~75 s)."
        " Next: write the importer's files during validation in one pass, and give"
        " neo4j-admin more memory and threads on a bigger machine."
    ),
    "batched >= 100x naive": (
        "Creating one node per transaction is ~350 rows/s here; the batched loader would need"
        " 35k rows/s, above what the server takes on 2 cores (see the row above)."
    ),
    "gap report < 10 s at 100k (neo4j)": (
        "The report is computed in Python on a whole-graph snapshot, and reading 564k rows"
        " through the Python driver takes ~8 s of it (cached per data version afterwards)."
        " Next: compute reachability per link worker in Cypher and fetch only the counts,"
        " or keep the snapshot and apply changes by version."
    ),
    "gap report < 10 s at 100k (embedded)": (
        "Close to the line; run-to-run variation on a shared 2-core machine is ~20%."
        " Next: dominators for all link workers in one pass over a shared DAG."
    ),
}


def _number(pattern: str, text: str) -> float | None:
    found = re.search(pattern, text.replace(",", ""))
    return float(found.group(1)) if found else None


def rows_from_markdown(text: str) -> list[tuple[str, str, str, str]]:
    rows = []
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 4 and cells[0] not in {"size", "---"}:
            size, store, measure, value = cells
            rows.append((size, store, measure, value))
    return rows


def section(rows: list[tuple[str, str, str, str]]) -> list[str]:
    value = {(size, store, measure.split(" (")[0]): text for size, store, measure, text in rows}

    def get(size, store, measure, pattern):
        text = value.get((size, store, measure))
        return None if text is None else _number(pattern, text)

    checks = [
        ("neo4j batched load >= 100k rows/s", "100k",
         get("100k", "neo4j", "load, batched", r"([\d.]+) rows/s"), lambda v: v >= 100_000, "{:,.0f} rows/s"),
        ("neo4j bulk import (offline), 1m", "1m",
         get("1m", "neo4j", "load, bulk import", r"([\d.]+) rows/s"), lambda v: v >= 100_000, "{:,.0f} rows/s"),
        ("batched >= 100x naive", "100k",
         get("100k", "neo4j", "load, naive", r"batched is ([\d.]+)x"), lambda v: v >= 100, "{:.0f}x"),
        ("pathways p95 < 50 ms (neo4j)", "100k",
         get("100k", "neo4j", "pathways latency", r"p95 ([\d.]+) ms"), lambda v: v < 50, "{:.1f} ms"),
        ("pathways p95 < 50 ms (neo4j)", "1m",
         get("1m", "neo4j", "pathways latency", r"p95 ([\d.]+) ms"), lambda v: v < 50, "{:.1f} ms"),
        ("pathways p95 < 20 ms (embedded)", "100k",
         get("100k", "embedded", "pathways latency", r"p95 ([\d.]+) ms"), lambda v: v < 20, "{:.1f} ms"),
        ("gap report < 10 s at 100k (embedded)", "100k",
         get("100k", "embedded", "gap report", r"([\d.]+) s"), lambda v: v < 10, "{:.1f} s"),
        ("gap report < 10 s at 100k (neo4j)", "100k",
         get("100k", "neo4j", "gap report", r"([\d.]+) s"), lambda v: v < 10, "{:.1f} s"),
        ("app callback p95 < 300 ms at 10k (embedded)", "10k",
         get("10k", "embedded", "app: pathways callback", r"p95 ([\d.]+) ms"), lambda v: v < 300, "{:.1f} ms"),
        ("app callback p95 < 300 ms at 10k (neo4j)", "10k",
         get("10k", "neo4j", "app: pathways callback", r"p95 ([\d.]+) ms"), lambda v: v < 300, "{:.1f} ms"),
        ("elements per view <= 1,500", "10k",
         get("10k", "embedded", "app: elements per view", r"max ([\d.]+)"), lambda v: v <= 1500, "{:.0f}"),
    ]
    lines = ["", HEADING, "", "| target | size | measured | met |", "|---|---|---|---|"]
    missed = []
    for name, size, measured, ok, fmt in checks:
        if measured is None:
            lines.append(f"| {name} | {size} | not measured in this run | - |")
            continue
        met = ok(measured)
        lines.append(f"| {name} | {size} | {fmt.format(measured)} | {'yes' if met else 'no'} |")
        if not met and name in WHEN_MISSED:
            missed.append(name)
    if missed:
        lines += ["", "Where a target is not met, why, and the next step:", ""]
        lines += [f"- **{name}**: {WHEN_MISSED[name]}" for name in dict.fromkeys(missed)]
    return lines


def main() -> None:
    path = Path(sys.argv[1])
    text = path.read_text(encoding="utf-8")
    head = text.split("\n" + HEADING)[0].rstrip("\n")
    path.write_text(head + "\n" + "\n".join(section(rows_from_markdown(head))) + "\n", encoding="utf-8")
    print(f"updated {path}")


if __name__ == "__main__":
    main()
