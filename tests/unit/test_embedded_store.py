"""The embedded store's file: shared between processes, saved atomically, refused when foreign."""

from __future__ import annotations

import os

import pytest

from pathways.errors import StoreUnavailableError
from pathways.store import embedded
from pathways.store.embedded import EmbeddedStore
from tests.conftest import load_data

GRAPH = {
    "people": [{"id": "lw", "name": "Lee Walker", "role": "link_worker"}],
    "services": [{"id": "svc", "name": "Arts on Prescription"}],
    "relationships": [{"source_id": "lw", "type": "REFERS_TO", "target_id": "svc"}],
}
MORE = {"activities": [{"id": "art", "name": "Art Club"}],
        "relationships": [{"source_id": "svc", "type": "OFFERS", "target_id": "art"}]}


def counts(store):
    stats = store.stats()
    return {k: v for part in stats.values() for k, v in part.items() if v}


def test_two_instances_share_one_file(tmp_path):
    writer = EmbeddedStore(tmp_path / "graph.json")
    reader = EmbeddedStore(tmp_path / "graph.json")
    assert counts(reader) == {}

    load_data(writer, GRAPH)
    assert counts(reader) == {"Person": 1, "Service": 1, "REFERS_TO": 1}
    assert reader.get_node("lw")[1]["name"] == "Lee Walker"

    load_data(reader, MORE)  # the other direction: the reader writes, the writer sees it
    assert counts(writer) == {"Person": 1, "Service": 1, "Activity": 1, "REFERS_TO": 1, "OFFERS": 1}


def test_second_save_within_the_same_timestamp_tick_is_seen(tmp_path):
    path = tmp_path / "graph.json"
    writer, reader = EmbeddedStore(path), EmbeddedStore(path)
    load_data(writer, GRAPH)
    tick = path.stat().st_mtime_ns
    assert counts(reader)["Person"] == 1

    load_data(writer, MORE)
    os.utime(path, ns=(tick, tick))  # what a one-second-resolution filesystem would record
    assert counts(reader).get("Activity") == 1


def test_crash_mid_save_keeps_previous_file_and_graph(tmp_path, monkeypatch):
    store = EmbeddedStore(tmp_path / "graph.json")
    load_data(store, GRAPH)
    before_bytes, before_counts = (tmp_path / "graph.json").read_bytes(), counts(store)

    def fail_to_sync(fd):  # the new file is written but the disk cannot keep it
        os.ftruncate(fd, 20)  # a partial file, as a full disk would leave
        raise OSError("No space left on device")

    monkeypatch.setattr(embedded.os, "fsync", fail_to_sync)
    with pytest.raises(StoreUnavailableError, match=r"No space left.*nothing was changed"):
        load_data(store, MORE)
    monkeypatch.undo()

    assert (tmp_path / "graph.json").read_bytes() == before_bytes
    # no temporary file left behind (the lock file naming the last writer stays)
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.endswith(".lock")) == ["graph.json"]
    assert counts(store) == before_counts
    assert store.get_node("art") is None
    assert counts(EmbeddedStore(tmp_path / "graph.json")) == before_counts

    load_data(store, MORE)  # and the store still works once the disk is fine again
    assert counts(EmbeddedStore(tmp_path / "graph.json"))["OFFERS"] == 1


def test_reset_empties_the_store_and_its_file(tmp_path):
    store = EmbeddedStore(tmp_path / "graph.json")
    load_data(store, GRAPH)
    store.reset()
    assert counts(store) == {}
    assert store.stats()["nodes"]["Person"] == 0
    assert counts(EmbeddedStore(tmp_path / "graph.json")) == {}
    assert store.get_node("lw") is None


def test_reloading_after_reset_counts_rows_as_new(tmp_path):
    store = EmbeddedStore(tmp_path / "graph.json")
    load_data(store, GRAPH)
    store.reset()
    summary = load_data(store, GRAPH)
    assert (summary.nodes_new, summary.rels_new) == (2, 1)


NOT_OURS = "is not a Thriving Pathways graph file"


@pytest.mark.parametrize("content, message", [
    ("this is not json", "cannot read the embedded store"),
    ('{"name": "a package.json, not a graph"}', NOT_OURS),
    ('{"format": 99, "nodes": [], "relationships": []}', NOT_OURS),
    ("[]", NOT_OURS),
    ('{"format": 1}', "is damaged"),
])
def test_file_that_is_not_a_graph_is_refused_clearly(tmp_path, content, message):
    path = tmp_path / "graph.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(StoreUnavailableError, match=message):
        EmbeddedStore(path)
    assert path.read_text(encoding="utf-8") == content  # never overwritten


def test_graph_file_that_is_not_utf8_is_refused_clearly(tmp_path):
    (tmp_path / "graph.json").write_bytes(b"\xff\xfe{}")
    with pytest.raises(StoreUnavailableError, match="cannot read the embedded store"):
        EmbeddedStore(tmp_path / "graph.json")


def test_store_without_a_file_keeps_data_in_memory():
    store = EmbeddedStore()
    load_data(store, GRAPH)
    assert counts(store) == {"Person": 1, "Service": 1, "REFERS_TO": 1}
    assert store.describe() == "embedded store (memory only)"
