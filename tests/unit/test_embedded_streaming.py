"""The embedded store saves and opens graph.json a line at a time and keeps the loaded
records' own properties (issue 18 item 8: a 1M-node graph within one machine's memory):
the file is the same bytes as before (older versions read it), a save that fails half-way
leaves the old graph and no debris, the whole file's bytes never exist in memory at once,
and a reload changes nothing a reader already holds."""

from __future__ import annotations

import copy
import io
import tracemalloc
from pathlib import Path

import orjson
import pytest

from loaders.living_db import plan_load
from pathways.store import embedded, graphfile
from pathways.store.embedded import EmbeddedStore
from pathways.store.graphfile import serialise
from tests.conftest import tables_from
from tests.unit.test_graphfile import _networkx_way, _random_file


@pytest.fixture(autouse=True)
def _small_chunks(monkeypatch):
    monkeypatch.setattr(graphfile, "CHUNK", 7)  # many lines even for small graphs


def _big_graph(nodes: int = 3000):
    """A graph whose file is many lines (``nodes`` nodes, a relationship out of each)."""
    data = {"format": 1,
            "nodes": [{"id": f"n{i}", "kind": "Activity",
                       "props": {"id": f"n{i}", "name": f"Activity {i} " + "x" * 40}}
                      for i in range(nodes)],
            "relationships": [{"source": f"n{i}", "type": "PARTNERS_WITH",
                               "target": f"n{(i * 7 + 1) % nodes}",
                               "props": {"source": "r.csv", "n": i}} for i in range(nodes)]}
    return _networkx_way(data)


def _temp_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.glob(".graph-*.tmp"))


def test_a_save_writes_the_same_file_a_line_at_a_time(tmp_path, monkeypatch):
    graph = _big_graph()
    store = EmbeddedStore(tmp_path / "graph.json")
    written: list[int] = []
    real_write = embedded.os.write

    def counted(fd, data):
        written.append(len(data))
        return real_write(fd, data)

    with monkeypatch.context() as patched, store.load_lock():
        patched.setattr(embedded.os, "write", counted)
        store._commit(graph)
    raw = (tmp_path / "graph.json").read_bytes()
    assert raw == bytes(serialise(graph))  # the format is unchanged, byte for byte
    data = orjson.loads(raw)  # and one JSON document, as older versions read it
    assert len(data["nodes"]) == 3000 and len(data["relationships"]) == 3000
    assert sum(written) == len(raw)
    assert max(written) < len(raw) / 50  # never the whole file at once
    again = EmbeddedStore(tmp_path / "graph.json").graph
    assert list(again.nodes(data=True)) == list(graph.nodes(data=True))
    assert list(again.edges(keys=True, data=True)) == list(graph.edges(keys=True, data=True))


def test_a_save_holds_no_more_than_a_few_lines_in_memory(tmp_path):
    graph = _big_graph()
    store = EmbeddedStore(tmp_path / "graph.json")
    with store.load_lock():
        tracemalloc.start()
        try:
            store._commit(graph)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    size = (tmp_path / "graph.json").stat().st_size
    assert size > 300_000
    assert peak < size / 10, f"saving a {size:,}-byte file took {peak:,} bytes"


def test_opening_reads_the_file_a_line_at_a_time(tmp_path, monkeypatch):
    path = tmp_path / "graph.json"
    graph = _big_graph()
    path.write_bytes(bytes(serialise(graph)))
    reads: list[int] = []

    class Watched(io.BufferedReader):
        def read(self, size=-1):
            data = super().read(size)
            reads.append(len(data))
            return data

        def readline(self, size=-1):
            data = super().readline(size)
            reads.append(len(data))
            return data

    with monkeypatch.context() as patched:
        patched.setattr(embedded, "open", lambda p, mode: Watched(io.FileIO(p, mode)),
                        raising=False)
        store = EmbeddedStore(path)
    assert list(store.graph.nodes(data=True)) == list(graph.nodes(data=True))
    assert list(store.graph.edges(keys=True, data=True)) == list(graph.edges(keys=True, data=True))
    assert sum(reads) == path.stat().st_size
    assert max(reads) < path.stat().st_size / 50


@pytest.mark.parametrize("seed", range(10))
def test_an_open_file_and_its_bytes_read_the_same(tmp_path, seed):
    """Every layout the reader takes (lines, a file written whole by an older version, lines
    edited by hand) gives the same graph from the open file as from its bytes."""
    data = _random_file(seed)
    data["relationships"] = [r for r in data["relationships"] if r["target"] != "unlisted"]
    lines = bytes(serialise(_networkx_way(data)))
    for raw in (lines, orjson.dumps(data), lines.replace(b"\n", b"\n\n")):
        path = tmp_path / "graph.json"
        path.write_bytes(raw)
        with path.open("rb") as handle:
            from_file = graphfile.parse_graph(handle, path)
        from_bytes = graphfile.parse_graph(raw, path)
        assert list(from_file.nodes(data=True)) == list(from_bytes.nodes(data=True))
        assert list(from_file.edges(keys=True, data=True)) == \
            list(from_bytes.edges(keys=True, data=True))


def test_a_damaged_file_is_refused_the_same_from_the_open_file(tmp_path):
    raw = bytes(serialise(_big_graph(50)))
    path = tmp_path / "graph.json"
    for cut in (len(raw) // 3, len(raw) // 2, len(raw) - 5):
        path.write_bytes(raw[:cut])
        with pytest.raises(embedded.StoreUnavailableError,
                           match=r"cannot read the embedded store .*graph\.json"):
            EmbeddedStore(path)


def test_a_save_failing_half_way_leaves_the_old_graph_and_no_temporary_file(tmp_path):
    path = tmp_path / "graph.json"
    store = EmbeddedStore(path)
    good = _big_graph()
    with store.load_lock():
        store._commit(good)
    before = path.read_bytes()
    bad = good.copy()
    last = list(bad)[-1]  # serialised long after the first lines reached the file
    bad.nodes[last]["props"] = {**bad.nodes[last]["props"], "oops": object()}
    with store.load_lock(), pytest.raises(TypeError):
        store._commit(bad)
    assert path.read_bytes() == before
    assert _temp_files(tmp_path) == []
    assert store.graph is not bad
    assert "oops" not in EmbeddedStore(path).graph.nodes[last]["props"]


GRAPH = {
    "people": [{"id": "lw", "name": "Lee Walker", "role": "link_worker"}],
    "services": [{"id": "svc", "name": "Arts on Prescription"}],
    "relationships": [{"source_id": "lw", "type": "REFERS_TO", "target_id": "svc"}],
}


def _plan(store: EmbeddedStore, data: dict):
    tables = tables_from(data)
    ids = {v for t in tables for _, vals in t.rows for v in vals}
    plan = plan_load(tables, store.existing_kinds(ids))
    assert not plan.problems
    return plan


def test_a_reload_changes_nothing_a_reader_holds_and_keeps_unchanged_load_times(
        tmp_path, monkeypatch):
    store = EmbeddedStore(tmp_path / "graph.json")
    monkeypatch.setattr(embedded, "now_iso", lambda: "2026-01-01T00:00:00+00:00")
    first = _plan(store, GRAPH)
    store.write(first.nodes, first.rels)
    held = store.snapshot()  # what a reader (a request, a pinned thread) holds
    as_held = copy.deepcopy((list(held.nodes(data=True)),
                             list(held.edges(keys=True, data=True))))
    # the records themselves are kept (no second copy of every property while the plan lives)
    lee = next(r for r in first.nodes if r.id == "lw")
    assert held.nodes["lw"]["props"] is lee.props

    monkeypatch.setattr(embedded, "now_iso", lambda: "2026-02-02T00:00:00+00:00")
    renamed = _plan(store, {**GRAPH, "services": [{"id": "svc", "name": "Arts Club"}]})
    service = next(r for r in renamed.nodes if r.id == "svc")
    store.write([lee, service], first.rels)  # the same records again, and one changed

    assert (list(held.nodes(data=True)), list(held.edges(keys=True, data=True))) == as_held
    now = EmbeddedStore(tmp_path / "graph.json").graph  # as saved
    assert now.nodes["lw"]["props"]["loaded_at"] == "2026-01-01T00:00:00+00:00"
    assert now.nodes["svc"]["props"]["loaded_at"] == "2026-02-02T00:00:00+00:00"
    assert now.nodes["svc"]["props"]["name"] == "Arts Club"
    assert held.nodes["svc"]["props"]["name"] == "Arts on Prescription"
    rel = now.get_edge_data("lw", "svc")
    assert [d["props"]["loaded_at"] for d in rel.values()] == ["2026-01-01T00:00:00+00:00"]
