"""The gap report's faster parts (issue 18 item 5) against independent answers: the
referral network's articulation points against networkx's, and single points of failure
against deleting each node in turn on larger, deeper random networks than test_gaps'."""

from __future__ import annotations

import random

import networkx as nx
import pytest

from pathways.analysis.gaps import GapQuery, gap_report, referral_articulation_points
from pathways.store.embedded import EmbeddedStore
from tests.conftest import load_data
from tests.unit.test_gaps import AS_OF, assert_failure_points_exact, random_tables


def networkx_articulation_points(graph) -> set[str]:
    undirected: nx.Graph[str] = nx.Graph()
    undirected.add_edges_from((u, v) for u, v, key in graph.edges(keys=True)
                              if key.value in ("REFERS_TO", "PROVIDES", "OFFERS"))
    return set(nx.articulation_points(undirected))


def deep_tables(seed: int, orgs: int = 40) -> dict[str, list[dict]]:
    """Link workers referring into chains of organisations that refer onward (routes up to
    ~8 hops, with and without alternatives), services offering activities."""
    rng = random.Random(seed)
    org_ids = [f"org{i}" for i in range(orgs)]
    svc_ids = [f"svc{i}" for i in range(orgs * 2)]
    act_ids = [f"act{i}" for i in range(orgs * 3)]
    workers = [f"lw{i}" for i in range(4)]
    rels: list[dict] = []

    def add(source: str, rel: str, target: str) -> None:
        rels.append({"source_id": source, "type": rel, "target_id": target})

    for worker in workers:
        for org in rng.sample(org_ids[:8], 3):
            add(worker, "REFERS_TO", org)
    for i, org in enumerate(org_ids):
        for later in rng.sample(org_ids[i + 1:i + 6], min(len(org_ids) - i - 1, rng.randint(0, 3))):
            add(org, "REFERS_TO", later)  # onward, mostly a few steps down the chain
        if rng.random() < 0.3:
            add(org, "REFERS_TO", rng.choice(svc_ids))  # a side entry into another subtree
        for svc in rng.sample(svc_ids, rng.randint(0, 2)):
            add(org, "PROVIDES", svc)
    for svc in svc_ids:
        for act in rng.sample(act_ids, rng.randint(0, 3)):
            add(svc, "OFFERS", act)
    return {
        "people": [{"id": w, "name": w, "role": "link_worker"} for w in workers],
        "organisations": [{"id": o, "name": o, "kind": "other"} for o in org_ids],
        "services": [{"id": s, "name": s} for s in svc_ids],
        "activities": [{"id": a, "name": a} for a in act_ids],
        "relationships": rels,
    }


def test_articulation_flags_are_networkx_articulation_points(tmp_path):
    checked = 0
    for seed in range(30):
        store = EmbeddedStore(tmp_path / f"graph-{seed}.json")
        load_data(store, random_tables(seed) if seed % 2 else deep_tables(seed))
        graph = store.snapshot()
        expected = networkx_articulation_points(graph)
        assert referral_articulation_points(graph) == expected
        report = gap_report(store, GapQuery(as_of=AS_OF))
        for row in report["single_points_of_failure"]:
            assert row["articulation_point"] == (row["id"] in expected), row
        checked += len(expected)
    assert checked >= 100, checked  # the graphs have cut points to compare


@pytest.mark.parametrize("max_hops", [6, 8])
def test_failure_points_are_exact_on_deep_referral_chains(tmp_path, max_hops):
    reported = spare = 0
    for seed in range(6):
        store = EmbeddedStore(tmp_path / f"deep-{seed}.json")
        load_data(store, deep_tables(seed))
        report = gap_report(store, GapQuery(max_hops=max_hops, as_of=AS_OF))
        found = assert_failure_points_exact(store.snapshot(), report)
        reported, spare = reported + found[0], spare + found[1]
    assert reported >= 50 and spare >= 5, (reported, spare)  # sole routes and alternatives
