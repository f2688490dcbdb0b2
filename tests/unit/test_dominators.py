"""pathways.graphs.dag_immediate_dominators gives networkx's answer on shortest-path DAGs."""

from __future__ import annotations

import random
from itertools import pairwise

import networkx as nx
import pytest

from pathways.graphs import dag_immediate_dominators


def layered_dag(seed: int):
    """A random shortest-path DAG: layers from a start, every node fed by the layer above."""
    rng = random.Random(seed)
    layers = [["s"]]
    for depth in range(1, rng.randint(2, 6)):
        layers.append([f"n{depth}-{i}" for i in range(rng.randint(1, 6))])
    preds: dict[str, list[str]] = {}
    for above, layer in pairwise(layers):
        for node in layer:
            preds[node] = rng.sample(above, rng.randint(1, len(above)))
    order = [n for layer in layers for n in layer]
    return order, preds


@pytest.mark.parametrize("seed", range(200))
def test_same_immediate_dominators_as_networkx(seed):
    order, preds = layered_dag(seed)
    dag = nx.DiGraph()
    dag.add_node("s")
    dag.add_edges_from((p, n) for n, ps in preds.items() for p in ps)
    ours = dag_immediate_dominators("s", order, preds)
    assert ours.pop("s") == "s"
    theirs = nx.immediate_dominators(dag, "s")
    theirs.pop("s", None)  # networkx 3.5 stopped listing the start itself
    assert ours == theirs


def test_a_single_route_makes_each_node_dominate_the_next():
    order = ["s", "a", "b", "c"]
    preds = {"a": ["s"], "b": ["a"], "c": ["b"]}
    assert dag_immediate_dominators("s", order, preds) == {"s": "s", "a": "s", "b": "a", "c": "b"}
