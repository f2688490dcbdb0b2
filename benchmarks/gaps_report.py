"""Benchmark: the whole-graph analyses on the demo data and on a generated graph, on each
store: the gap report (snapshot, then computing it on a fresh snapshot, then the cached
answer), and the first call of the funding landscape, a red cell's providers elsewhere
and a consortium on the same snapshot.  Old against new, answers compared (issue 18 item
5): on Neo4j the snapshot read with relationships as property maps (REL_PROPS, before)
against source and content hash as values (now); the consortium landscape's Louvain with
networkx against the list version; the consortium first call after the Warmer has run.

Prints wall and CPU seconds (CPU is the fairer figure on a shared box: wall includes
waiting for other processes and, for Neo4j, the server's own work) and the load average
next to each figure; asserts nothing.

    .venv/bin/python benchmarks/gaps_report.py [--nodes 10000] [--skip-demo] [--embedded-only]
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

import networkx as nx

import pathways.analysis.snapshot as snapshot_module
from _common import neo4j_store
from generate import generate, write
from pathways.analysis.commission import providers_elsewhere
from pathways.analysis.consortia import Opportunity, communities, consortia, tie_graph
from pathways.analysis.funders import funding_landscape
from pathways.analysis.gaps import GapQuery, gap_report
from pathways.analysis.snapshot import cached_snapshot, of_kind
from pathways.analysis.warm import Warmer
from pathways.gcpause import gc_paused
from pathways.graphs import build_snapshot
from pathways.loading import demo_data_dir, load_paths
from pathways.model import NodeKind, RelType
from pathways.store.embedded import EmbeddedStore
from queries import graph as q

QUERY = GapQuery(as_of=dt.date(2026, 11, 29))


def clocked(fn: Callable[[], Any]) -> tuple[float, float, Any]:
    """``(wall seconds, CPU seconds of this process, fn())``."""
    wall, cpu = time.perf_counter(), time.process_time()
    value = fn()
    return time.perf_counter() - wall, time.process_time() - cpu, value


def load() -> str:
    return f"(load {os.getloadavg()[0]:.1f})"


def snapshot_as_before(tx) -> tuple[list, list]:
    """The Neo4j snapshot read as it was before issue 18 item 5: each relationship's
    properties as a map with its source_id built in Cypher (REL_PROPS)."""
    ids = sorted(tx.run(q.ALL_IDS).single(strict=True)["ids"])
    nodes: list = []
    rels: list = []
    for start in range(0, len(ids), q.SNAPSHOT_CHUNK):
        chunk = ids[start : start + q.SNAPSHOT_CHUNK]
        rows = tx.run(q.SNAPSHOT_NODES, ids=chunk).single(strict=True)["rows"]
        nodes.extend((node_id, NodeKind(kind), props) for node_id, kind, props in rows)
        rows = tx.run(q.SNAPSHOT_RELATIONSHIPS, ids=chunk).single(strict=True)["rows"]
        rels.extend((a, RelType(rel), b, props) for a, rel, b, props in rows)
    return nodes, rels


def same_graph(one, other) -> bool:
    return (dict(one.nodes(data=True)) == dict(other.nodes(data=True))
            and list(one.edges(keys=True, data=True)) == list(other.edges(keys=True, data=True)))


def compare_snapshot_reads(head: str, store) -> None:
    """Neo4j only: the snapshot read before and now, twice each, interleaved."""
    for _ in range(2):
        with gc_paused():
            wall, cpu, before = clocked(lambda: build_snapshot(*store._read(snapshot_as_before)))
            print(f"{head} snapshot read BEFORE (relationship maps): {wall:6.2f} s wall,"
                  f" {cpu:5.2f} s CPU {load()}", flush=True)
            wall, cpu, now = clocked(store.snapshot)
            print(f"{head} snapshot read NOW (source, hash as values): {wall:6.2f} s wall,"
                  f" {cpu:5.2f} s CPU {load()}", flush=True)
    print(f"{head} same snapshot before and now: {'yes' if same_graph(before, now) else 'NO'}")


def compare_louvain(head: str, graph) -> None:
    """The landscape's communities with networkx's Louvain (before) and on lists (now)."""
    ties = tie_graph(graph)
    with gc_paused():
        wall, cpu, before = clocked(
            lambda: nx.community.louvain_communities(ties, weight="weight", seed=0)
            if ties.number_of_edges() else [{o} for o in ties.nodes])
        print(f"{head} communities BEFORE (networkx Louvain): {wall:6.2f} s wall,"
              f" {cpu:5.2f} s CPU {load()}", flush=True)
        wall, cpu, now = clocked(lambda: communities(graph))
        print(f"{head} communities NOW (Louvain on lists): {wall:6.2f} s wall,"
              f" {cpu:5.2f} s CPU {load()}; {len(now)} groups, same as before:"
              f" {'yes' if now == before else 'NO'}", flush=True)


def bench(label: str, store, folders: dict[str, Path]) -> None:
    for name, folder in folders.items():
        store.reset()
        load_seconds, _, _ = clocked(functools.partial(load_paths, store, [folder]))
        head = f"{label:9} {name:10}"
        with gc_paused():  # as cached_snapshot reads it
            snap_wall, snap_cpu, graph = clocked(store.snapshot)
        print(f"{head} {graph.number_of_nodes():6} nodes: load {load_seconds:6.1f} s,"
              f" snapshot {snap_wall:6.2f} s wall {snap_cpu:5.2f} s CPU {load()}", flush=True)
        del graph  # one snapshot alive, as in the app (a second one makes each GC pass slower)
        if label == "neo4j":
            compare_snapshot_reads(head, store)
        # The first call after the data changed: reads the snapshot and computes on it.
        wall, cpu, report = clocked(lambda: gap_report(store, QUERY))
        print(f"{head} gap report, first call (snapshot + compute): {wall:6.2f} s wall,"
              f" {cpu:5.2f} s CPU {load()}; {len(report['single_points_of_failure'])} single"
              " points of failure", flush=True)
        wall, _, _ = clocked(lambda: gap_report(store, QUERY))
        print(f"{head} gap report, warm (cached per data version): {wall * 1000:7.2f} ms")
        wall, cpu, _ = clocked(lambda: funding_landscape(store))
        print(f"{head} funding landscape, first call on the snapshot: {wall:6.2f} s wall,"
              f" {cpu:5.2f} s CPU {load()}")
        red = next((c for c in report["coverage"] if c["existing"] == 0), report["coverage"][0])
        wall, cpu, _ = clocked(functools.partial(providers_elsewhere, store, red["need"],
                                                 red["locality"]))
        print(f"{head} a red cell's providers elsewhere, first call: {wall * 1000:7.1f} ms wall")
        graph = cached_snapshot(store)
        opp = Opportunity(needs=tuple(of_kind(graph, NodeKind.NEED)[:2]),
                          localities=tuple(of_kind(graph, NodeKind.LOCALITY)[:3]))
        wall, cpu, _ = clocked(functools.partial(consortia, store, opp))
        print(f"{head} consortium, first call on the snapshot (tie graph, Louvain):"
              f" {wall:6.2f} s wall, {cpu:5.2f} s CPU {load()}", flush=True)
        compare_louvain(head, graph)
        # As after a load: every per-version value dropped (snapshot, report, indexes), then
        # the Warmer runs, as in the web server, before the first consortium call.  The
        # embedded store would hand back the same graph, its per-snapshot indexes (adjacency,
        # kinds, tie graph) still built from the calls above: a new store object parses the
        # file afresh, as the server does after a load, so both stores start from nothing.
        del graph
        snapshot_module._cache.pop(store, None)
        warmed = EmbeddedStore(store.path) if isinstance(store, EmbeddedStore) else store
        wall, cpu, _ = clocked(Warmer(functools.partial(lambda s: s, warmed)).warm_once)
        print(f"{head} Warmer after a load (snapshot, gaps, network, search, map, communities):"
              f" {wall:6.2f} s wall, {cpu:5.2f} s CPU {load()}", flush=True)
        wall, cpu, _ = clocked(functools.partial(consortia, warmed, opp))
        print(f"{head} consortium, first call after the Warmer: {wall * 1000:7.1f} ms wall,"
              f" {cpu * 1000:6.1f} ms CPU {load()}", flush=True)


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
