"""Benchmark: the gap report on the demo data and on a generated graph, on each store.

Prints figures; asserts nothing.

    .venv/bin/python benchmarks/gaps_report.py [--nodes 10000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
from pathlib import Path

from _common import neo4j_store, timed
from generate import generate, write
from pathways.analysis.gaps import GapQuery, compute_gaps, gap_report
from pathways.loading import demo_data_dir, load_paths
from pathways.store.embedded import EmbeddedStore

QUERY = GapQuery(as_of=dt.date(2026, 11, 29))


def bench(label: str, store, folders: dict[str, Path]) -> None:
    for name, folder in folders.items():
        store.reset()
        load_seconds, _ = timed(load_paths, store, [folder])
        snap_seconds, graph = timed(store.snapshot)
        report_seconds, report = timed(compute_gaps, graph, QUERY)
        timed(gap_report, store, QUERY)
        cached_seconds, _ = timed(gap_report, store, QUERY)
        print(f"{label:9} {name:10} {graph.number_of_nodes():6} nodes: load {load_seconds:6.2f} s,"
              f" snapshot {snap_seconds:5.2f} s, report {report_seconds:5.2f} s,"
              f" cached report {cached_seconds * 1000:5.1f} ms,"
              f" {len(report['single_points_of_failure'])} single points of failure")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--nodes", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        synthetic = Path(tmp) / "synthetic"
        write(generate(args.nodes), synthetic)
        folders = {"demo": demo_data_dir(), f"synth-{args.nodes // 1000}k": synthetic}
        bench("embedded", EmbeddedStore(Path(tmp) / "graph.json"), folders)
        with neo4j_store() as store:
            bench("neo4j", store, folders)


if __name__ == "__main__":
    main()
