"""Benchmark: the consortium report's first call (issue 18 wants < 5 s at 100k) and what the
commissioner's cards add (strategy, evidence, ties; contacts and the XLSX workbook).

The Consortia page's first call computes the suggestions only (the page shows no
landscape); ``pathways consortia`` adds the natural groupings (Louvain on the tie graph).

The report runs on a whole-graph snapshot, which both stores give identically
(tests/integration/test_consortia_parity.py), so the embedded store is used; the snapshot is
warmed first by the gap report, as ``scale.py`` does, so "first call" is the consortium
analysis itself (suggestions + the communities of the landscape).

Prints figures; asserts nothing.

    .venv/bin/python benchmarks/consortium_cards.py [--nodes 10000 100000] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import random
import tempfile
import time
from pathlib import Path

from _common import timed
from generate import generate, write
from pathways.analysis.consortia import (
    Opportunity,
    consortia,
    consortium_suggestions,
    tie_graph,
)
from pathways.analysis.gaps import GapQuery, gap_report
from pathways.analysis.snapshot import cached_snapshot
from pathways.gcpause import gc_paused
from pathways.loading import load_paths
from pathways.model import NodeKind
from pathways.store.embedded import EmbeddedStore


def cpu_timed(fn, *args):
    """``(wall seconds, CPU seconds of this process, fn(*args))``: on a busy machine the CPU
    time is close to what the call takes on a quiet one (this analysis is single-threaded)."""
    began, cpu = time.perf_counter(), time.process_time()
    value = fn(*args)
    return time.perf_counter() - began, time.process_time() - cpu, value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nodes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--profile", action="store_true", help="print the top functions")
    args = parser.parse_args()
    for size in args.nodes:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp) / "data"
            with gc_paused():
                write(generate(size), folder)
                store = EmbeddedStore(None)
                load_paths(store, [folder])
            gap_report(store, GapQuery())  # warms the snapshot, as scale.py's order does
            rng = random.Random(size)  # scale.py's choice of localities
            places = [n["id"] for n in store.list_nodes(NodeKind.LOCALITY)]
            opp = Opportunity(("loneliness", "mental_health"),
                              tuple(rng.sample(places, min(3, len(places)))))
            profiler = cProfile.Profile() if args.profile else None
            if profiler:
                profiler.enable()
            # The Consortia page's first call (no landscape), then the CLI's full report,
            # which finds the tie graph already built for this data version.
            seconds, cpu, found = cpu_timed(consortium_suggestions, store, opp)
            print(f"{size:>7} Consortia page first call (suggestions, cards): {seconds:.2f} s "
                  f"(CPU {cpu:.2f} s; {len(found['suggestions'])} suggestions)", flush=True)
            seconds, cpu, report = cpu_timed(consortia, store, opp)
            if profiler:
                profiler.disable()
            print(f"{size:>7} then the full report (+ landscape: Louvain): {seconds:.2f} s "
                  f"(CPU {cpu:.2f} s)", flush=True)
            graph = cached_snapshot(store)
            seconds, cpu, _ties = cpu_timed(tie_graph.__wrapped__, graph)  # type: ignore[attr-defined]
            print(f"{size:>7} tie graph (built once per data version): {seconds:.2f} s "
                  f"(CPU {cpu:.2f} s)", flush=True)
            extra(store, report, size)
            if profiler:
                pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)


def extra(store, report, size: int) -> None:
    """What the cards add on top: evidence rows, contacts and the workbook (when present)."""
    try:
        from pathways.analysis.consortia import member_contacts
        from pathways.reports.consortium_workbook import workbook_bytes
    except ImportError:
        return
    rows = sum(len(s.get("evidence", [])) for s in report["suggestions"])
    members = sorted({m["id"] for s in report["suggestions"] for m in s["members"]})
    seconds, found = timed(lambda: member_contacts(store, members))
    print(f"{size:>7} contacts of {len(members)} members: {seconds * 1000:.0f} ms "
          f"({sum(len(v) for v in found.values())} people)", flush=True)
    seconds, data = timed(lambda: workbook_bytes(report, found))
    print(f"{size:>7} workbook ({rows} evidence rows): {seconds * 1000:.0f} ms, "
          f"{len(data):,} bytes", flush=True)


if __name__ == "__main__":
    main()
