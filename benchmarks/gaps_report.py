"""Benchmark: the whole-graph analyses on the demo data and on a generated graph, on each
store: the gap report (snapshot, then computing it on a fresh snapshot, then the cached
answer), and the first call of the funding landscape, a red cell's providers elsewhere
and a consortium on the same snapshot.

Prints wall and CPU seconds (CPU is the fairer figure on a shared box: wall includes
waiting for other processes and, for Neo4j, the server's own work); asserts nothing.

    .venv/bin/python benchmarks/gaps_report.py [--nodes 10000] [--skip-demo]
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _common import neo4j_store
from generate import generate, write
from pathways.analysis.commission import providers_elsewhere
from pathways.analysis.consortia import Opportunity, consortia
from pathways.analysis.funders import funding_landscape
from pathways.analysis.gaps import GapQuery, gap_report
from pathways.analysis.snapshot import cached_snapshot, of_kind
from pathways.gcpause import gc_paused
from pathways.loading import demo_data_dir, load_paths
from pathways.model import NodeKind
from pathways.store.embedded import EmbeddedStore

QUERY = GapQuery(as_of=dt.date(2026, 11, 29))


def clocked(fn: Callable[[], Any]) -> tuple[float, float, Any]:
    """``(wall seconds, CPU seconds of this process, fn())``."""
    wall, cpu = time.perf_counter(), time.process_time()
    value = fn()
    return time.perf_counter() - wall, time.process_time() - cpu, value


def bench(label: str, store, folders: dict[str, Path]) -> None:
    for name, folder in folders.items():
        store.reset()
        load_seconds, _, _ = clocked(functools.partial(load_paths, store, [folder]))
        head = f"{label:9} {name:10}"
        with gc_paused():  # as cached_snapshot reads it
            snap_wall, snap_cpu, graph = clocked(store.snapshot)
        print(f"{head} {graph.number_of_nodes():6} nodes: load {load_seconds:6.1f} s,"
              f" snapshot {snap_wall:6.2f} s wall {snap_cpu:5.2f} s CPU", flush=True)
        # The first call after the data changed: reads the snapshot and computes on it.
        wall, cpu, report = clocked(lambda: gap_report(store, QUERY))
        print(f"{head} gap report, first call (snapshot + compute): {wall:6.2f} s wall,"
              f" {cpu:5.2f} s CPU; {len(report['single_points_of_failure'])} single points"
              " of failure", flush=True)
        wall, _, _ = clocked(lambda: gap_report(store, QUERY))
        print(f"{head} gap report, warm (cached per data version): {wall * 1000:7.2f} ms")
        wall, cpu, _ = clocked(lambda: funding_landscape(store))
        print(f"{head} funding landscape, first call on the snapshot: {wall:6.2f} s wall,"
              f" {cpu:5.2f} s CPU")
        red = next((c for c in report["coverage"] if c["existing"] == 0), report["coverage"][0])
        wall, cpu, _ = clocked(functools.partial(providers_elsewhere, store, red["need"],
                                                 red["locality"]))
        print(f"{head} a red cell's providers elsewhere, first call: {wall * 1000:7.1f} ms wall")
        graph = cached_snapshot(store)
        opp = Opportunity(needs=tuple(of_kind(graph, NodeKind.NEED)[:2]),
                          localities=tuple(of_kind(graph, NodeKind.LOCALITY)[:3]))
        wall, cpu, _ = clocked(functools.partial(consortia, store, opp))
        print(f"{head} consortium, first call on the snapshot: {wall:6.2f} s wall,"
              f" {cpu:5.2f} s CPU", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--nodes", type=int, default=10_000)
    parser.add_argument("--skip-demo", action="store_true")
    parser.add_argument("--embedded-only", action="store_true")
    args = parser.parse_args()
    print(f"load average at the start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as tmp:
        synthetic = Path(tmp) / "synthetic"
        write(generate(args.nodes), synthetic)
        folders = {} if args.skip_demo else {"demo": demo_data_dir()}
        folders[f"synth-{args.nodes // 1000}k"] = synthetic
        bench("embedded", EmbeddedStore(Path(tmp) / "graph.json"), folders)
        if not args.embedded_only:
            with neo4j_store() as store:
                bench("neo4j", store, folders)
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
