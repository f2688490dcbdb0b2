"""graph.json written a chunk of records per line (issue 18 item 8): the same graph comes back,
older versions can still read the file whole, a damaged file is refused in plain words (never
half read), and the strings the graph keeps are shared where they repeat (what keeps a
1M-node graph inside the memory of one machine)."""

from __future__ import annotations

import orjson
import pytest

from pathways.errors import StoreUnavailableError
from pathways.store import graphfile
from pathways.store.embedded import EmbeddedStore
from pathways.store.graphfile import parse_graph, serialise
from tests.unit.test_graphfile import _networkx_way, _random_file


@pytest.fixture(autouse=True)
def _small_chunks(monkeypatch):
    monkeypatch.setattr(graphfile, "CHUNK", 7)  # several lines even for small graphs


def _listed_file(seed: int) -> dict:
    """A random graph file whose relationships all join listed nodes (as every store saves)."""
    data = _random_file(seed)
    data["relationships"] = [r for r in data["relationships"] if r["target"] != "unlisted"]
    return data


def _same(a, b) -> None:
    assert list(a.nodes(data=True)) == list(b.nodes(data=True))
    assert list(a.edges(keys=True, data=True)) == list(b.edges(keys=True, data=True))
    assert list(a.in_edges(keys=True, data=True)) == list(b.in_edges(keys=True, data=True))


@pytest.mark.parametrize("seed", range(25))
def test_a_written_graph_reads_back_the_same(seed):
    expected = _networkx_way(_listed_file(seed))
    raw = bytes(serialise(expected))
    assert raw.count(b"\n") > 3 or expected.number_of_nodes() < 7
    again = parse_graph(raw, "g.json")
    _same(again, _networkx_way(orjson.loads(raw)))  # as networkx builds what the file says
    assert list(again.nodes(data=True)) == list(expected.nodes(data=True))
    assert list(again.edges(keys=True, data=True)) == list(expected.edges(keys=True, data=True))
    for node in again:  # one dict shared by both directions, as networkx shares it
        for target in again.succ[node]:
            assert again._succ[node][target] is again._pred[target][node]


@pytest.mark.parametrize("seed", range(10))
def test_older_versions_read_the_file_whole(seed):
    """Format 1 as it always was: one JSON document, nodes then relationships, the keys an
    older reader looks up."""
    expected = _networkx_way(_listed_file(seed))
    data = orjson.loads(serialise(expected))
    assert data["format"] == 1
    assert data["nodes"] == [{"id": n, "kind": a["kind"].value, "props": a["props"]}
                             for n, a in expected.nodes(data=True)]
    assert data["relationships"] == [
        {"source": u, "type": k.value, "target": v, "props": a["props"]}
        for u, v, k, a in expected.edges(keys=True, data=True)]


def test_a_file_written_whole_by_an_older_version_still_opens(tmp_path):
    data = _listed_file(3)
    (tmp_path / "graph.json").write_bytes(orjson.dumps(data))  # one line, no layout
    store = EmbeddedStore(tmp_path / "graph.json")
    _same(store.graph, _networkx_way(data))
    with store.load_lock():  # the next save writes the new layout; same graph again
        store._commit(store.graph)
    raw = (tmp_path / "graph.json").read_bytes()
    assert raw.count(b"\n") > 3
    _same(EmbeddedStore(tmp_path / "graph.json").graph, _networkx_way(orjson.loads(raw)))
    assert list(EmbeddedStore(tmp_path / "graph.json").graph.edges(keys=True, data=True)) == \
        list(_networkx_way(data).edges(keys=True, data=True))


def test_a_cut_or_damaged_file_is_refused_whole():
    raw = bytes(serialise(_networkx_way(_listed_file(5))))
    cuts = sorted({i for i, byte in enumerate(raw) if byte == ord("\n")}
                  | set(range(1, len(raw) - 3, max(1, len(raw) // 40))))
    for cut in cuts:
        if not raw[cut:].strip():
            continue  # only the final newline cut: the whole document is there
        with pytest.raises(StoreUnavailableError, match=r"cannot read the embedded store g\.json"):
            parse_graph(raw[:cut], "g.json")
    lines = raw.split(b"\n")
    no_comma = b"\n".join([lines[0], lines[1].rstrip(b","), *lines[2:]])
    with pytest.raises(StoreUnavailableError, match=r"cannot read the embedded store g\.json"):
        parse_graph(no_comma, "g.json")
    for bad in (raw.replace(b'"kind":"', b'"kind":"Wizard', 1),  # a node's kind
                raw.replace(b'"type":"', b'"type":"NOT_', 1)):  # a relationship's type
        assert bad != raw
        with pytest.raises(StoreUnavailableError, match=r"g\.json is damaged"):
            parse_graph(bad, "g.json")


def test_a_file_laid_out_differently_but_valid_still_opens():
    raw = bytes(serialise(_networkx_way(_listed_file(8)))).replace(b"\n", b"\n\n")
    _same(parse_graph(raw, "g.json"), _networkx_way(orjson.loads(raw)))  # edited by hand


def test_repeated_strings_are_kept_once(tmp_path):
    """Each node id is one object wherever the graph names it, and provenance that repeats
    (the file, the load time) is one object per value: at 100k nodes this is 830 -> 546 MiB."""
    stamp, source = "2026-11-30T22:27:46+00:00", "relationships.csv"
    ids = [f"act-{i}" for i in range(30)]
    data = {"format": 1,
            "nodes": [{"id": i, "kind": "Activity",
                       "props": {"id": i, "name": i, "loaded_at": stamp, "source": "a.csv"}}
                      for i in ids],
            "relationships": [{"source": a, "type": "PARTNERS_WITH", "target": b,
                               "props": {"source": source, "loaded_at": stamp,
                                         "source_id": f"{a}|PARTNERS_WITH|{b}"}}
                              for a, b in zip(ids, ids[1:] + ids[:1], strict=True)]}
    raw = bytes(serialise(parse_graph(orjson.dumps(data), "g.json")))
    graph = parse_graph(raw, "g.json")
    _same(graph, _networkx_way(data))
    keys = {id(n) for n in graph}
    assert {id(a["props"]["id"]) for _, a in graph.nodes(data=True)} == keys
    assert {id(v) for u in graph for v in graph._succ[u]} <= keys
    assert {id(u) for v in graph for u in graph._pred[v]} <= keys
    props = [a["props"] for *_, a in graph.edges(keys=True, data=True)] + \
        [a["props"] for _, a in graph.nodes(data=True)]
    assert len({id(p["loaded_at"]) for p in props}) == 1
    assert len({id(p["source"]) for p in props}) == 2
