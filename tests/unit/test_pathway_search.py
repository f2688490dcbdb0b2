"""The embedded store's pathway search (pathways.store.pathway_search) finds the same best
paths as the straightforward search it replaced (pathways.graphs.best_path_parents, kept as
the oracle), on random graphs full of equal names, cycles, parallel relationships and
relationships a pathway does not follow; and the store's answers are those paths."""

from __future__ import annotations

import random

import networkx as nx
import pytest

from pathways.analysis.pathways import pathways_from
from pathways.analysis.snapshot import link_workers
from pathways.graphs import Snapshot, best_path_parents, best_paths
from pathways.model import NodeKind, RelType
from pathways.store import PathwayFilter
from pathways.store.pathway_search import best_parents, pathway_nodes

KINDS = [NodeKind.PERSON, NodeKind.ORGANISATION, NodeKind.SERVICE, NodeKind.ACTIVITY,
         NodeKind.NEED]
RELS = list(RelType)


def random_graph(rng: random.Random, size: int) -> Snapshot:
    """Names from a tiny alphabet (so paths often tie on names and ids decide), any kind
    pointing anywhere by any relationship type, several types between one pair."""
    graph: Snapshot = nx.MultiDiGraph()
    for i in range(size):
        graph.add_node(f"n{rng.randrange(10 * size)}-{i}", kind=rng.choice(KINDS),
                       props={"name": rng.choice("AB" if size > 10 else "ABC")})
    nodes = list(graph)
    rels = RELS if rng.random() < 0.5 else [RelType.REFERS_TO, RelType.ADDRESSES]
    for _ in range(size * rng.choice([1, 2, 3])):
        graph.add_edge(rng.choice(nodes), rng.choice(nodes), key=rng.choice(rels))
    return graph


def as_ids(found) -> dict[str, str | None]:
    return {node.id: parent and parent.id for node, parent in found.items()}


@pytest.mark.parametrize("seed", range(60))
def test_best_parents_are_those_of_the_straightforward_search(seed):
    rng = random.Random(seed)
    graph = random_graph(rng, rng.choice([5, 20, 80]))
    compared = 0
    for start in rng.sample(list(graph), min(8, len(graph))):
        for hops in (1, 2, 3, 4, 6):
            found = best_parents(graph, start, hops)
            expected = best_path_parents(graph, start, hops)
            assert as_ids(found) == expected
            seen: set[str] = set()
            for node, parent in found.items():  # parents come before their children
                assert parent is None or parent.id in seen
                seen.add(node.id)
            compared += len(expected)
    assert best_parents(graph, "not-a-node", 4) == {}
    assert compared > 0


def test_a_childs_name_counts_before_its_parents_id():
    """Two routes whose first steps have the same name: the one whose next step's name
    sorts first wins, whatever the ids of the first steps."""
    graph: Snapshot = nx.MultiDiGraph()
    for n, name in (("w", "W"), ("x1", "A"), ("x2", "A"), ("y1", "B"), ("y2", "A"),
                    ("z", "Z")):
        graph.add_node(n, kind=NodeKind.SERVICE, props={"name": name})
    for u, v in (("w", "x1"), ("w", "x2"), ("x1", "y1"), ("x2", "y2"), ("y1", "z"),
                 ("y2", "z")):
        graph.add_edge(u, v, key=RelType.REFERS_TO)
    assert as_ids(best_parents(graph, "w", 3))["z"] == "y2"
    assert best_paths(graph, "w", 3)["z"] == (("W", "w"), ("A", "x2"), ("A", "y2"), ("Z", "z"))


def test_each_node_leads_on_along_pathway_relationships_only():
    graph: Snapshot = nx.MultiDiGraph()
    for n, kind in (("w", NodeKind.PERSON), ("o", NodeKind.ORGANISATION),
                    ("s", NodeKind.SERVICE), ("a", NodeKind.ACTIVITY), ("n", NodeKind.NEED)):
        graph.add_node(n, kind=kind, props={"name": n.upper()})
    graph.add_edge("w", "o", key=RelType.REFERS_TO)
    graph.add_edge("o", "s", key=RelType.PROVIDES)
    graph.add_edge("o", "s", key=RelType.PARTNERS_WITH)  # a second type, not followed
    graph.add_edge("o", "s", key=RelType.REFERS_TO)  # a second type, followed
    graph.add_edge("s", "a", key=RelType.OFFERS)
    graph.add_edge("a", "n", key=RelType.ADDRESSES)
    nodes = pathway_nodes(graph)
    assert [t.id for t in nodes["o"].onward] == ["s"]  # once, however many types
    assert nodes["a"].onward == ()  # ADDRESSES is not followed
    assert {n.id for n in best_parents(graph, "w", 6)} == {"w", "o", "s", "a"}


def test_the_stores_answers_are_the_best_paths(generated):
    """Every activity the embedded store lists has exactly the best path of the oracle."""
    graph = generated.snapshot()
    compared = 0
    for worker in link_workers(graph)[:25]:
        for hops in (2, 4):
            every = best_paths(graph, worker, hops)
            answer = pathways_from(generated, worker, PathwayFilter(), hops)
            activities = {n for n in every if graph.nodes[n]["kind"] == NodeKind.ACTIVITY}
            assert {a["id"] for a in answer["activities"]} == activities
            for row in answer["activities"]:
                assert tuple((n["name"], n["id"]) for n in row["path"]) == every[row["id"]]
                assert [n["kind"] for n in row["path"]] == [
                    graph.nodes[n["id"]]["kind"].value for n in row["path"]]
                compared += 1
    assert compared > 500


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    from benchmarks.generate import generate
    from pathways.store.embedded import EmbeddedStore
    from tests.conftest import load_data

    store = EmbeddedStore(tmp_path_factory.mktemp("generated") / "graph.json")
    load_data(store, generate(1500, seed=5))
    return store
