"""The consortium landscape's Louvain (pathways/analysis/louvain.py) gives exactly the groups
networkx's own ``louvain_communities`` gives, in the same order, for the graphs it is used on
(undirected, integer weights): random graphs of every shape, weighted, with self-loops, with
string and integer node names, several seeds, and a generated partnership's tie graph."""

from __future__ import annotations

import random

import networkx as nx
import pytest

from benchmarks.generate import generate
from pathways.analysis.consortia import communities, tie_graph
from pathways.analysis.louvain import louvain_communities
from pathways.analysis.snapshot import cached_snapshot
from pathways.store.embedded import EmbeddedStore
from tests.conftest import load_data


def random_weighted(seed: int) -> nx.Graph:
    rng = random.Random(seed)
    n = rng.randint(1, 80)
    graph = nx.gnm_random_graph(n, rng.randint(0, n * 5), seed=seed)
    if seed % 3 == 0:  # names that sort differently from their insertion order
        graph = nx.relabel_nodes(graph, {i: f"org-{rng.random():.8f}" for i in graph})
    for u, v in graph.edges:
        graph[u][v]["weight"] = rng.randint(1, 6)
    if seed % 4 == 0 and n:
        node = rng.choice(list(graph))
        graph.add_edge(node, node, weight=rng.randint(1, 3))
    return graph


@pytest.mark.parametrize("seed", range(120))
def test_louvain_on_lists_gives_networkx_groups(seed):
    graph = random_weighted(seed)
    for louvain_seed in (0, 3):
        want = nx.community.louvain_communities(graph, weight="weight", seed=louvain_seed)
        assert louvain_communities(graph, seed=louvain_seed) == want, (seed, louvain_seed)


def test_louvain_on_lists_gives_networkx_groups_for_a_partnership(tmp_path):
    store = EmbeddedStore(tmp_path / "graph.json")
    load_data(store, generate(3000, seed=5))
    graph = cached_snapshot(store)
    ties = tie_graph(graph)
    want = nx.community.louvain_communities(ties, weight="weight", seed=0)
    assert len(want) > 1
    assert communities(graph) == want


def test_louvain_refuses_graphs_it_was_not_checked_on():
    with pytest.raises(ValueError):
        louvain_communities(nx.DiGraph([(1, 2)]))
    with pytest.raises(ValueError):
        louvain_communities(nx.Graph([(1, 2, {"weight": 0.5})]))
