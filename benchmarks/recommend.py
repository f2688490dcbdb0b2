"""Benchmark: ``pathways recommend`` (route recommendations, remedies, what-if) on the demo and
on generated graphs.  The analyses run on a whole-graph snapshot, which both stores give
identically (tests/integration/test_recommend_parity.py), so the embedded store's snapshot is
used; loading and snapshot times are in gaps_report.py.

Prints figures; asserts nothing.

    .venv/bin/python benchmarks/recommend.py [--nodes 10000 100000] [--max-new 5]

Per size: the generated graph at max hops 2 (at 4 it has no amber cell), and the same graph
with most referral agreements taken away (``thinned``) at the default 4.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import tempfile
from pathlib import Path

from _common import timed
from generate import generate, write
from pathways.analysis.gaps import GapQuery, compute_gaps
from pathways.analysis.recommend import (
    RecommendQuery,
    compute_protection,
    compute_recommendations,
    with_agreements,
)
from pathways.analysis.whatif import simulated_report
from pathways.gcpause import gc_paused
from pathways.loading import demo_data_dir, load_paths
from pathways.store.embedded import EmbeddedStore


def thinned(tables: dict[str, list[dict]], seed: int = 11) -> dict[str, list[dict]]:
    """Fewer referral agreements: each link worker keeps its first, organisations and services
    a fifth of theirs, so that many cells are amber at the default hop limit (the generated
    graph has none: every worker refers to two hubs)."""
    rng = random.Random(seed)
    kept, has_one = [], set()
    for r in tables["relationships"]:
        if r["type"] == "REFERS_TO" and r["source_id"].startswith("person-"):
            if r["source_id"] in has_one:
                continue
            has_one.add(r["source_id"])
        elif r["type"] == "REFERS_TO" and rng.random() < 0.8:
            continue
        kept.append(r)
    return {**tables, "relationships": kept}


def bench(name: str, folder: Path, tmp: Path, max_new: int, hops: int) -> None:
    store = EmbeddedStore(tmp / f"{name}.json")
    load_paths(store, [folder])
    graph = store.snapshot()
    with gc_paused():  # as the app runs analyses (pathways.analysis.snapshot.cached_per_version)
        _bench(name, graph, max_new, hops)


def _bench(name: str, graph, max_new: int, hops: int) -> None:
    query = GapQuery(max_hops=hops, as_of=dt.date(2026, 11, 29))
    # First the gap report, as the app computes it first: it builds the per-snapshot indexes
    # (adjacency) the recommendations share, so their figures below are warm.
    base_s, base = timed(compute_gaps, graph, query)
    found_s, found = timed(compute_recommendations, graph,
                           RecommendQuery(max_hops=hops, max_new=max_new))
    first_s, _ = timed(compute_recommendations, graph, RecommendQuery(max_hops=hops, max_new=1))
    protect_s, protect = timed(compute_protection, graph, hops)
    edges = [(r["source"]["id"], r["target"]["id"]) for r in found["recommendations"]]
    sim_s, simulated = timed(lambda: compute_gaps(with_agreements(graph, edges), query))
    # What simulate() does: from the real report (cached in the app), only what the new
    # agreements can change.  The first on a snapshot builds its per-snapshot search of the
    # referral network and the workers' shortest distances; later ones reuse them.
    fast_s, fast = timed(simulated_report, graph, base, edges)
    again_s, _ = timed(simulated_report, graph, base, edges[: max(1, len(edges) - 1)])
    amber_after = sum(1 for c in simulated["coverage"] if c["existing"] and not c["reachable"])
    steps = found["recommendations"]
    kept = protect["remedies"][0] if protect["remedies"] else None
    print(f"{name:14} {graph.number_of_nodes():6} nodes, {graph.number_of_edges():6} rels, "
          f"max hops {hops}: {len(found['amber'])} amber cells", flush=True)
    print(f"  recommend --max-new {max_new}: {found_s:6.2f} s ({len(steps)} agreements close "
          f"{found['closed']} cells; first adds +{len(steps[0]['cells']) if steps else 0} cells, "
          f"+{steps[0]['options'] if steps else 0} options); --max-new 1: {first_s:6.2f} s")
    print(f"  protect (top 5): {protect_s:6.2f} s" + (
        f" (top: cuts {kept['pairs_lost']}, best new route keeps {kept['kept']})" if kept else ""))
    print(f"  gap report (cold: builds the indexes) {base_s:6.2f} s; simulated with the {len(edges)} agreements "
          f"(copy + full report) {sim_s:6.2f} s: amber {len(found['amber'])} -> {amber_after}",
          flush=True)
    print(f"  simulate (incremental, as the app and CLI do): first on the snapshot {fast_s:6.2f} s, "
          f"another set of agreements {again_s:6.2f} s; same report as the full recompute: "
          f"{'yes' if fast == simulated else 'NO'}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--nodes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--max-new", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        bench("demo", demo_data_dir(), tmp, args.max_new, 4)
        for nodes in args.nodes:
            tables = generate(nodes)
            write(tables, tmp / f"synth-{nodes}")
            bench(f"synth-{nodes // 1000}k", tmp / f"synth-{nodes}", tmp, args.max_new, 2)
            write(thinned(tables), tmp / f"thin-{nodes}")
            bench(f"thinned-{nodes // 1000}k", tmp / f"thin-{nodes}", tmp, args.max_new, 4)


if __name__ == "__main__":
    main()
