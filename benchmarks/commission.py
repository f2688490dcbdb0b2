"""Benchmark: a red cell's providers elsewhere (the Gaps page's "from a red cell to a
commission", pathways/analysis/commission.py; issue 18 item 5), first call on a snapshot the
gap report has already read, before (the first version, walking networkx's views with the
cycle collector running) against now (per-snapshot indexes, cached per data version with the
collector paused), answers compared, for the first few red cells of the gap report.  Each
contender runs in a fresh process after the gap report and the funding landscape (as the Gaps
page and benchmarks/gaps_report.py do), interleaved; the cycle collector's full passes during
the call are counted (at 100k one costs 1.5 s or more: most of the first version's time).
Now reads each need's index (built by the first cell of that need, once per snapshot), so
the later cells of a need cost a fraction of the first; the last line sums all the cells.

Prints wall and CPU seconds and the load average next to each; asserts nothing.

    .venv/bin/python benchmarks/commission.py --graph /path/to/graph.json   # an embedded store
    .venv/bin/python benchmarks/commission.py --nodes 10000                 # generated, loaded
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the oracle in tests/

from generate import generate, write
from pathways.analysis.commission import providers_elsewhere
from pathways.analysis.funders import funding_landscape
from pathways.analysis.gaps import GapQuery, gap_report
from pathways.analysis.snapshot import cached_snapshot
from pathways.loading import load_paths
from pathways.store.embedded import EmbeddedStore
from tests.unit.test_commission_index import elsewhere_before


def clocked(fn: Callable[[], Any]) -> tuple[float, float, Any]:
    wall, cpu = time.perf_counter(), time.process_time()
    value = fn()
    return time.perf_counter() - wall, time.process_time() - cpu, value


def load() -> str:
    return f"(load {os.getloadavg()[0]:.1f})"


def first_call(store, contender: str, cells: int) -> None:
    """In this process: the gap report and the funding landscape (the Gaps page's other
    analyses, as benchmarks/gaps_report.py runs them), then one contender's first call for
    each cell, with the cycle collector's full passes during it counted."""
    wall, cpu, report = clocked(partial(gap_report, store, GapQuery(as_of=dt.date(2026, 11, 29))))
    graph = cached_snapshot(store)
    print(f"[{contender}] {graph.number_of_nodes()} nodes; gap report first call: {wall:.2f} s"
          f" wall, {cpu:.2f} s CPU {load()}", flush=True)
    funding_landscape(store)
    # red cells first; the generated graphs have none at 100k, so then the cells with the
    # fewest activities (the same work: every activity addressing the need is looked at)
    red = sorted(report["coverage"], key=lambda c: c["existing"])[:cells]
    full_passes = []
    gc.callbacks.append(lambda phase, info: full_passes.append(1)
                        if phase == "start" and info["generation"] == 2 else None)
    total_wall = total_cpu = 0.0
    for cell in red:
        need, place = cell["need"], cell["locality"]
        full_passes.clear()
        if contender == "before":
            wall, cpu, answer = clocked(partial(elsewhere_before, graph, need, place, 10.0))
        else:
            wall, cpu, answer = clocked(partial(providers_elsewhere, store, need, place))
        passes = len(full_passes)
        total_wall, total_cpu = total_wall + wall, total_cpu + cpu
        same = answer == elsewhere_before(graph, need, place, 10.0)
        print(f"[{contender}] {need} x {place} ({cell['existing']} here): {wall:6.2f} s wall,"
              f" {cpu:5.2f} s CPU {load()}, {passes} full GC passes;"
              f" {len(answer['providers'])} providers, same answer as before: "
              f"{'yes' if same else 'NO'}", flush=True)
    print(f"[{contender}] all {len(red)} cells: {total_wall:6.2f} s wall, {total_cpu:5.2f} s CPU"
          f" {load()}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--graph", type=Path, help="an embedded store's graph.json (a copy)")
    parser.add_argument("--nodes", type=int, default=10000)
    parser.add_argument("--cells", type=int, default=3, help="cells to time")
    parser.add_argument("--rounds", type=int, default=2, help="before/now pairs, interleaved")
    parser.add_argument("--contender", choices=("before", "now"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.contender:  # one fresh process per contender: each pays its own first call
        first_call(EmbeddedStore(args.graph), args.contender, args.cells)
        return
    with tempfile.TemporaryDirectory() as tmp:
        graph = args.graph
        if graph is None:
            write(generate(args.nodes), Path(tmp) / "data")
            graph = Path(tmp) / "graph.json"
            wall, _, _ = clocked(partial(load_paths, EmbeddedStore(graph), [Path(tmp) / "data"]))
            print(f"generated and loaded {args.nodes} nodes: {wall:.1f} s {load()}", flush=True)
        for _ in range(args.rounds):
            for contender in ("before", "now"):
                subprocess.run([sys.executable, __file__, "--graph", str(graph), "--cells",
                                str(args.cells), "--contender", contender], check=True)


if __name__ == "__main__":
    main()
