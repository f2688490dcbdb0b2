"""Benchmark: Neo4j start time, demo load time and pathway query time on each store.

Prints figures; asserts nothing.  Run with ``make benchmark`` or
``.venv/bin/python benchmarks/load_and_paths.py [--repeat N]``.
Uses a throwaway Neo4j (or ``NEO4J_URI`` if set; that database is emptied first).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

from _common import neo4j_store, timed
from pathways.analysis.pathways import pathways_from
from pathways.loading import demo_data_dir, load_paths
from pathways.model import NodeKind
from pathways.store import PathwayFilter
from pathways.store.embedded import EmbeddedStore


def bench_store(label, store, repeat):
    store.reset()
    first, summary = timed(lambda: load_paths(store, [demo_data_dir()]))
    second, again = timed(lambda: load_paths(store, [demo_data_dir()]))
    print(f"{label:9} demo load, empty store:   {first * 1000:8.1f} ms  ({summary.summary})")
    print(f"{label:9} demo load, same data:    {second * 1000:8.1f} ms  ({again.summary})")
    workers = [p["id"] for p in store.list_nodes(NodeKind.PERSON, "link_worker")]
    times = []
    for _ in range(repeat):
        for worker in workers:
            t, _ = timed(pathways_from, store, worker, PathwayFilter(), 4)
            times.append(t)
    print(f"{label:9} pathways (all {len(workers)} link workers x {repeat}): median"
          f" {statistics.median(times) * 1000:.1f} ms, max {max(times) * 1000:.1f} ms")


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        bench_store("embedded", EmbeddedStore(Path(tmp) / "graph.json"), args.repeat)
    with neo4j_store() as store:
        bench_store("neo4j", store, args.repeat)


if __name__ == "__main__":
    main()
