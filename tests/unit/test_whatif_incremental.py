"""A simulation's gap report, worked out from the real network's report and only what the new
agreements can change (pathways.analysis.whatif), is the gap report of the graph with them
computed from scratch: seeded random graphs and random sets of allowed new agreements, every
hop limit, chains of new agreements, agreements that duplicate an existing one."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from pathways.analysis.gaps import GapQuery, compute_gaps
from pathways.analysis.recommend import can_receive, can_refer, with_agreements
from pathways.analysis.whatif import simulated_report
from pathways.store.embedded import EmbeddedStore
from tests.conftest import load_data
from tests.unit.test_gaps import random_tables

AS_OF = dt.date(2026, 11, 29)


def random_edges(graph, rng: random.Random, count: int) -> list[tuple[str, str]]:
    froms = sorted(n for n in graph if can_refer(graph, n))
    tos = sorted(n for n in graph if can_receive(graph, n))
    edges: list[tuple[str, str]] = []
    for _ in range(count):
        u, v = rng.choice(froms), rng.choice(tos)
        if u != v and (u, v) not in edges:
            edges.append((u, v))
    return edges


def test_simulated_report_equals_a_full_recompute_on_random_graphs(tmp_path):
    compared = changed_failures = changed_articulation = changed_cells = 0
    for seed in range(60):
        store = EmbeddedStore(tmp_path / f"g{seed}.json")
        load_data(store, random_tables(seed))
        graph = store.snapshot()
        rng = random.Random(seed)
        for max_hops in (1, 2, 3, 4):
            query = GapQuery(max_hops=max_hops, as_of=AS_OF)
            real = compute_gaps(graph, query)
            for count in (1, 2, 5):
                edges = random_edges(graph, rng, count)
                if not edges:
                    continue
                expected = compute_gaps(with_agreements(graph, edges), query)
                got = simulated_report(graph, real, edges)
                assert got == expected, (seed, max_hops, edges)
                compared += 1
                changed_cells += expected["coverage"] != real["coverage"]
                changed_failures += (expected["single_points_of_failure"]
                                     != real["single_points_of_failure"])
                changed_articulation += (
                    {r["id"] for r in expected["single_points_of_failure"] if r["articulation_point"]}
                    != {r["id"] for r in real["single_points_of_failure"] if r["articulation_point"]})
    # the seeds exercise every part that can change
    assert compared > 600 and changed_cells > 15 and changed_failures > 100
    assert changed_articulation > 40


@pytest.mark.parametrize("localities", [(), ("loc0",)])
def test_a_filtered_report_stays_filtered(tmp_path, localities):
    store = EmbeddedStore(tmp_path / "g.json")
    load_data(store, random_tables(7))
    graph = store.snapshot()
    query = GapQuery(localities=localities, max_hops=3, as_of=AS_OF)
    edges = random_edges(graph, random.Random(3), 4)
    assert (simulated_report(graph, compute_gaps(graph, query), edges)
            == compute_gaps(with_agreements(graph, edges), query))
