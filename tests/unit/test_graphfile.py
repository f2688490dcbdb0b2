"""The embedded store's fast graph-file reader builds the very graph networkx's own
add_node/add_edge would (so every answer stays the same), and says plainly when a file is
not a graph or is damaged."""

from __future__ import annotations

import random

import networkx as nx
import orjson
import pytest

from pathways.errors import StoreUnavailableError
from pathways.graphs import Snapshot
from pathways.model import NodeKind, RelType
from pathways.store.embedded import EmbeddedStore
from pathways.store.graphfile import FORMAT_VERSION, parse_graph


def _random_file(seed: int) -> dict:
    rng = random.Random(seed)
    kinds, types = list(NodeKind), list(RelType)
    ids = [f"n{i}" for i in range(rng.randint(1, 60))]
    nodes = [{"id": i, "kind": rng.choice(kinds).value, "props": {"id": i, "name": f"N {i}"}}
             for i in ids]
    nodes += [{"id": rng.choice(ids), "kind": rng.choice(kinds).value,  # repeated ids
               "props": {"id": "again", "name": "again"}} for _ in range(rng.randint(0, 3))]
    rels = [{"source": rng.choice(ids), "target": rng.choice(ids + ["unlisted"]),
             "type": rng.choice(types).value, "props": {"n": k}}
            for k in range(rng.randint(0, 200))]  # repeats, self loops, parallel types
    return {"format": FORMAT_VERSION, "nodes": nodes, "relationships": rels}


def _networkx_way(data: dict) -> Snapshot:
    graph: Snapshot = nx.MultiDiGraph()
    for node in data["nodes"]:
        graph.add_node(node["id"], kind=NodeKind(node["kind"]), props=node["props"])
    for rel in data["relationships"]:
        graph.add_edge(rel["source"], rel["target"], key=RelType(rel["type"]), props=rel["props"])
    return graph


@pytest.mark.parametrize("seed", range(25))
def test_reader_builds_the_graph_networkx_builds(seed):
    data = _random_file(seed)
    fast, slow = parse_graph(orjson.dumps(data), "g.json"), _networkx_way(data)
    assert list(fast.nodes(data=True)) == list(slow.nodes(data=True))
    assert list(fast.edges(keys=True, data=True)) == list(slow.edges(keys=True, data=True))
    assert list(fast.in_edges(keys=True, data=True)) == list(slow.in_edges(keys=True, data=True))
    for node in slow:  # the same dict is shared by both directions, as networkx shares it
        for target in slow.succ[node]:
            assert fast._succ[node][target] is fast._pred[target][node]


def test_a_saved_store_reads_back_the_same(tmp_path):
    data = _random_file(99)
    data["relationships"] = [r for r in data["relationships"] if r["target"] != "unlisted"]
    path = tmp_path / "graph.json"
    path.write_bytes(orjson.dumps(data))
    store = EmbeddedStore(path)
    again = EmbeddedStore(tmp_path / "copy.json")
    with again.load_lock():
        again._commit(store.graph)
    assert orjson.loads((tmp_path / "copy.json").read_bytes())["nodes"] == \
        [{"id": n, "kind": a["kind"].value, "props": a["props"]}
         for n, a in _networkx_way(data).nodes(data=True)]
    assert list(EmbeddedStore(tmp_path / "copy.json").graph.edges(keys=True, data=True)) == \
        list(_networkx_way(data).edges(keys=True, data=True))


@pytest.mark.parametrize(("content", "says"), [
    (b"{not json", "cannot read the embedded store g.json"),
    (b'{"format": 99, "nodes": [], "relationships": []}', "g.json is not a Thriving Pathways"),
    (b"[]", "g.json is not a Thriving Pathways"),
    ((b'{"format": 1, "nodes": [{"id": "a", "kind": "Wizard", "props": {}}],'
     b' "relationships": []}'), "g.json is damaged"),
    ((b'{"format": 1, "nodes": [{"id": "a", "kind": "Person", "props": {}}],'
     b' "relationships": [{"source": "a", "target": "a", "type": "LIKES", "props": {}}]}'),
     "g.json is damaged"),
    (b'{"format": 1, "nodes": [{"id": "a", "kind": "Person"}], "relationships": []}',
     "g.json is damaged"),
    ((b'{"format": 1, "nodes": [], "relationships": [{"source": null, "target": "a",'
     b' "type": "OFFERS", "props": {}}]}'), "g.json is damaged"),
])
def test_a_file_that_is_not_a_graph_is_named_plainly(content, says):
    with pytest.raises(StoreUnavailableError, match=says):
        parse_graph(content, "g.json")
