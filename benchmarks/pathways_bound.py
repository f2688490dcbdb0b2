"""Pathways on the embedded store next to their bound: a plain networkx BFS with cutoff.

Issue 18 item 2: "embedded pathways <= 3x a plain networkx BFS with cutoff on the same
graph".  The bound answers a smaller question (hops to every node, no paths, no filter, no
names) on the same relationships the pathway follows (REFERS_TO, PROVIDES, OFFERS, as a
``networkx.DiGraph``); the full call is :func:`pathways_from` as the CLI and app make it
(link worker and filter checks, best path per activity, sorted rows), each worker asked
once so no answer comes from the cache.  The two run interleaved, worker by worker, so a
busy machine slows both alike; the ratio is also given per worker (median).

Answers are checked: with no filter, the activities the call lists and their hops are
exactly those the BFS reaches within the cutoff.

    .venv/bin/python benchmarks/pathways_bound.py /path/to/home-with-graph.json [--workers 300]

(make the home with ``benchmarks/generate.py`` and ``pathways load``.)
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import time
from pathlib import Path

import networkx as nx

from pathways.analysis.pathways import Pathways, pathways_from
from pathways.analysis.snapshot import link_workers
from pathways.model import COMMON_NEEDS, PATHWAY_RELS, NodeKind
from pathways.store.base import PathwayFilter
from pathways.store.embedded import EmbeddedStore


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("home", type=Path, help="folder holding graph.json")
    parser.add_argument("--workers", type=int, default=300)
    parser.add_argument("--hops", type=int, default=4)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    began = time.perf_counter()
    store = EmbeddedStore(args.home / "graph.json")
    graph = store.graph
    print(f"opened {graph.number_of_nodes():,} nodes, {graph.number_of_edges():,}"
          f" relationships in {time.perf_counter() - began:.2f} s")
    bound: nx.DiGraph = nx.DiGraph()
    bound.add_nodes_from(graph)
    bound.add_edges_from((u, v) for u, v, k in graph.edges(keys=True) if k in PATHWAY_RELS)
    activities = {n for n, k in graph.nodes(data="kind") if k == NodeKind.ACTIVITY}

    rng = random.Random(args.seed)
    workers = link_workers(graph)
    picks = rng.sample(workers, min(args.workers, len(workers)))
    warm = [w for w in workers if w not in set(picks)][:5]
    for worker in warm:  # per-snapshot indexes, built once per data version
        pathways_from(store, worker, PathwayFilter(), args.hops)

    gc.collect()
    full: list[float] = []
    filtered: list[float] = []
    bfs: list[float] = []
    checked = 0
    for turn, worker in enumerate(picks):
        # Whichever runs second finds the worker's neighbourhood in the CPU caches, so the
        # two take turns (the bound always second made it look ~2x faster at p50).
        def call(worker: str = worker) -> tuple[float, Pathways]:
            began = time.perf_counter()
            answer = pathways_from(store, worker, PathwayFilter(), args.hops)
            return time.perf_counter() - began, answer

        def search(worker: str = worker) -> tuple[float, dict]:
            began = time.perf_counter()
            found = nx.single_source_shortest_path_length(bound, worker, cutoff=args.hops)
            return time.perf_counter() - began, found

        if turn % 2:
            bfs_s, hops = search()
            full_s, result = call()
        else:
            full_s, result = call()
            bfs_s, hops = search()
        need = (rng.choice(COMMON_NEEDS),)
        t3 = time.perf_counter()
        pathways_from(store, worker, PathwayFilter(needs=need), args.hops)
        t4 = time.perf_counter()
        full.append(full_s)
        bfs.append(bfs_s)
        filtered.append(t4 - t3)
        expected = {n: h for n, h in hops.items() if n in activities}
        got = {a["id"]: a["hops"] for a in result["activities"]}
        if got != expected:
            raise SystemExit(f"different answers for {worker}: {len(got)} vs {len(expected)}")
        checked += 1

    ratios = [f / b for f, b in zip(full, bfs, strict=True)]
    print(f"{len(picks)} link workers, max hops {args.hops}, answers equal for {checked}")
    print(f"{'what':44s} {'p50 ms':>8s} {'p95 ms':>8s}")
    for label, samples in (("plain networkx BFS with cutoff (the bound)", bfs),
                           ("pathways_from, no filter (full call)", full),
                           ("pathways_from, one need (full call)", filtered)):
        print(f"{label:44s} {pct(samples, 0.5):8.2f} {pct(samples, 0.95):8.2f}")
    print(f"ratio full/bound: p50 {pct(full, .5) / pct(bfs, .5):.1f}x,"
          f" p95 {pct(full, .95) / pct(bfs, .95):.1f}x,"
          f" median per worker {statistics.median(ratios):.1f}x (goal <= 3x)")


if __name__ == "__main__":
    main()
