"""Pathways on the embedded store next to their bound: a plain networkx BFS with cutoff.

Issue 18 item 2: "embedded pathways <= 3x a plain networkx BFS with cutoff on the same
graph".  The bound answers a smaller question (hops to every node, no paths, no filter, no
names) on the same relationships the pathway follows (REFERS_TO, PROVIDES, OFFERS, as a
``networkx.DiGraph``); the full call is :func:`pathways_from` as the CLI and app make it
(link worker and filter checks, best path per activity, sorted rows), each worker asked
once so no answer comes from the cache.  The two run interleaved, worker by worker, so a
busy machine slows both alike; the ratio is also given per worker (median).

Answers are checked: with no filter, the activities the call lists and their hops are
exactly those the BFS reaches within the cutoff, and every answer (with one need too) equals
the one the code before the last change gives (:class:`SearchBefore`: the search that ranked
every reached node of every layer, a path to each, and every row's path copied), which runs
in the same turns.

    .venv/bin/python benchmarks/pathways_bound.py /path/to/home-with-graph.json [--workers 300]

(make the home with ``benchmarks/generate.py`` and ``pathways load``.)
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import random
import statistics
import time
from pathlib import Path

import networkx as nx

import pathways.analysis.pathways as analysis
from pathways.analysis.pathways import Pathways, pathways_from
from pathways.analysis.snapshot import link_workers
from pathways.graphs import best_path_parents, node_names, per_snapshot
from pathways.model import COMMON_NEEDS, PATHWAY_RELS, NodeKind
from pathways.store.base import PathNode, PathwayFilter
from pathways.store.embedded import EmbeddedStore, _matches
from pathways.store.pathway_search import pathway_nodes


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


class SearchBefore(EmbeddedStore):
    """The embedded store's pathway search before issue 18's second pass (for the
    comparison): node names and kinds from dicts of 100k entries, every reached node of every
    layer ranked, a path made to each (the need filter as now)."""

    def pathway_candidates(self, worker_id, max_hops, where):
        graph = self._current().graph
        parents = best_path_parents(graph, worker_id, max_hops)
        names, kinds = node_names(graph), kind_values(graph)
        nodes = pathway_nodes(graph)
        anything, activity = where != PathwayFilter(), NodeKind.ACTIVITY.value
        path_to: dict[str | None, list[PathNode]] = {None: []}
        paths: list[list[PathNode]] = []
        for node, parent in parents.items():
            path = path_to[node] = [*path_to[parent],
                                    {"id": node, "name": names[node], "kind": kinds[node]}]
            if kinds[node] == activity and (not anything
                                            or _matches(graph, nodes[node], where)):
                paths.append(path)
        return paths


@per_snapshot
def kind_values(graph):
    return {n: a["kind"].value for n, a in graph._node.items()}


def choose_paths_before(candidates):
    """:func:`choose_paths` before: each row's path copied, rows sorted by a lambda."""
    best: dict = {}
    for path in candidates:
        target = path[-1]["id"]
        old = best.get(target)
        if old is None or (len(path), analysis.path_key(path)) < (len(old),
                                                                   analysis.path_key(old)):
            best[target] = path
    rows = [{"id": p[-1]["id"], "name": p[-1]["name"], "hops": len(p) - 1, "path": list(p)}
            for p in best.values()]
    return sorted(rows, key=lambda r: (r["hops"], r["name"], r["id"]))


@contextlib.contextmanager
def code_before():
    now = analysis.choose_paths
    analysis.choose_paths = choose_paths_before
    try:
        yield
    finally:
        analysis.choose_paths = now


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

    before = SearchBefore(None)  # the same graph, its own answer cache
    before._view = store._view

    rng = random.Random(args.seed)
    workers = link_workers(graph)
    picks = rng.sample(workers, min(args.workers, len(workers)))
    warm = [w for w in workers if w not in set(picks)][:5]
    for worker in warm:  # per-snapshot indexes, built once per data version
        pathways_from(store, worker, PathwayFilter(), args.hops)
        with code_before():
            pathways_from(before, worker, PathwayFilter(), args.hops)

    def call(on: EmbeddedStore, worker: str, where: PathwayFilter) -> tuple[float, Pathways]:
        with code_before() if on is before else contextlib.nullcontext():
            began = time.perf_counter()
            answer = pathways_from(on, worker, where, args.hops)
            return time.perf_counter() - began, answer

    def search(worker: str) -> tuple[float, dict]:
        began = time.perf_counter()
        found = nx.single_source_shortest_path_length(bound, worker, cutoff=args.hops)
        return time.perf_counter() - began, found

    gc.collect()
    samples: dict[str, list[float]] = {}
    checked = 0
    for turn, worker in enumerate(picks):
        # Whichever runs first finds the worker's neighbourhood cold in the CPU caches, so
        # the contenders take turns going first (the bound always second made it look ~2x
        # faster at p50).
        need = PathwayFilter(needs=(rng.choice(COMMON_NEEDS),))
        contenders = ["bound", "now", "before"]
        shift = turn % len(contenders)
        answers: dict[str, object] = {}
        for label in contenders[shift:] + contenders[:shift]:
            if label == "bound":
                seconds, answers[label] = search(worker)
            else:
                seconds, answers[label] = call(store if label == "now" else before, worker,
                                               PathwayFilter())
            samples.setdefault(label, []).append(seconds)
        for label in (["now", "before"] if turn % 2 else ["before", "now"]):
            seconds, answers[label + " need"] = call(store if label == "now" else before,
                                                     worker, need)
            samples.setdefault(label + " need", []).append(seconds)
        hops = answers["bound"]
        assert isinstance(hops, dict)
        result = answers["now"]
        expected = {n: h for n, h in hops.items() if n in activities}
        got = {a["id"]: a["hops"] for a in result["activities"]}  # type: ignore[index]
        if got != expected:
            raise SystemExit(f"different answers for {worker}: {len(got)} vs {len(expected)}")
        if answers["now"] != answers["before"] or answers["now need"] != answers["before need"]:
            raise SystemExit(f"the code before answers differently for {worker}")
        checked += 1

    bfs = samples["bound"]
    print(f"{len(picks)} link workers, max hops {args.hops}, answers equal for {checked}"
          " (bound, now, before)")
    print(f"{'what':52s} {'p50 ms':>8s} {'p95 ms':>8s}")
    for label, key in (("plain networkx BFS with cutoff (the bound)", "bound"),
                       ("pathways_from, no filter, before", "before"),
                       ("pathways_from, no filter, now", "now"),
                       ("pathways_from, one need, before", "before need"),
                       ("pathways_from, one need, now", "now need")):
        print(f"{label:52s} {pct(samples[key], 0.5):8.2f} {pct(samples[key], 0.95):8.2f}")
    for label in ("before", "now"):
        ratio = [f / b for f, b in zip(samples[label], bfs, strict=True)]
        print(f"ratio {label}/bound: p50 {pct(samples[label], .5) / pct(bfs, .5):.1f}x,"
              f" p95 {pct(samples[label], .95) / pct(bfs, .95):.1f}x,"
              f" median per worker {statistics.median(ratio):.1f}x (goal <= 3x)")


if __name__ == "__main__":
    main()
