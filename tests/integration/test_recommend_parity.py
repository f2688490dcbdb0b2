"""Route recommendations, remedies and what-if simulations are the same on the embedded store
and on a real Neo4j server, and a simulation writes nothing to either."""

from __future__ import annotations

import datetime as dt

import pytest

from pathways.analysis.gaps import GapQuery, gap_report
from pathways.analysis.recommend import RecommendQuery, protection, recommend, simulate
from pathways.loading import load_paths
from tests.conftest import first_difference, load_data
from tests.integration.test_gaps_parity import described
from tests.unit.test_gaps import random_tables

AS_OF = dt.date(2026, 11, 29)


def test_simulating_the_recommendations_closes_cells_without_writing(store, demo_dir):
    load_paths(store, [demo_dir])
    version, before = store.version(), described(store.snapshot())
    found = recommend(store)
    edges = [(r["source"]["id"], r["target"]["id"]) for r in found["recommendations"]]
    assert found["closed"] == len(found["amber"]) > 0
    report = simulate(store, edges, GapQuery(as_of=AS_OF))
    reachable = {(c["need"], c["locality"]) for c in report["coverage"] if c["reachable"]}
    assert {tuple(c) for c in found["amber"]} <= reachable
    assert store.version() == version
    assert described(store.snapshot()) == before
    assert not any(store.snapshot().has_edge(u, v) for u, v in edges)
    assert gap_report(store, GapQuery(as_of=AS_OF))["coverage"] != report["coverage"]


@pytest.fixture
def both(embedded_store, neo4j_store):
    return embedded_store, neo4j_store


@pytest.mark.neo4j
def test_recommendations_remedies_and_simulations_are_identical_on_both_stores(both, demo_dir):
    embedded_store, _ = both
    interesting = []  # random graphs with something to recommend (most have no amber cell)
    for seed in range(60):
        embedded_store.reset()
        load_data(embedded_store, random_tables(seed))
        if any(recommend(embedded_store, RecommendQuery(max_hops=h))["recommendations"] for h in (2, 3, 4)):
            interesting.append(seed)
        if len(interesting) == 6:
            break
    compared = 0
    for seed in [None, *interesting]:
        for store in both:
            store.reset()
            if seed is None:
                load_paths(store, [demo_dir])
            else:
                load_data(store, random_tables(seed))
        for hops in (2, 3, 4):
            query = RecommendQuery(max_hops=hops, max_new=3)
            embedded, neo4j = (recommend(s, query) for s in both)
            assert embedded == neo4j, (seed, first_difference(embedded, neo4j))
            kept = [protection(s, hops) for s in both]
            assert kept[0] == kept[1], (seed, first_difference(*kept))
            edges = [(r["source"]["id"], r["target"]["id"]) for r in embedded["recommendations"]]
            gaps = GapQuery(max_hops=hops, as_of=AS_OF)
            sims = [simulate(s, edges, gaps) for s in both]
            assert sims[0] == sims[1], (seed, first_difference(*sims))
            compared += bool(edges)
    assert compared >= 7
