"""The Neo4j snapshot's relationship read (queries/graph.py SNAPSHOT_RELATIONSHIP_ROWS):
relationships carrying more than their provenance and hash (notes, referral details, an
older graph's stored source_id) keep every property, plain ones get exactly what the map
read gave, and the ids are looked up by index seek (see test_query_plans.py)."""

from __future__ import annotations

import pytest

from pathways.loading import load_paths
from pathways.model import RelType
from queries import graph as q
from tests.conftest import load_data
from tests.integration.test_query_plans import IDS, explain

pytestmark = pytest.mark.neo4j


def maps_as_before(store) -> dict:
    """Every relationship's properties as the map read (REL_PROPS) gives them."""
    ids = sorted(store._read(lambda tx: tx.run(q.ALL_IDS).single(strict=True)["ids"]))
    rows = store._read(lambda tx: tx.run(q.SNAPSHOT_RELATIONSHIPS, ids=ids).single(strict=True)["rows"])
    return {(a, RelType(rel), b): props for a, rel, b, props in rows}


@pytest.mark.parametrize("graph", ["empty", "loaded"])
def test_snapshot_relationships_are_looked_up_by_index_seek(neo4j_store, demo_dir, graph):
    neo4j_store.ensure_constraints()
    if graph == "loaded":
        load_paths(neo4j_store, [demo_dir])
    ops = explain(neo4j_store, q.SNAPSHOT_RELATIONSHIP_ROWS, {"ids": IDS})
    assert any("IndexSeek" in op for op in ops), ops
    assert not any(op in {"NodeIndexScan", "NodeByLabelScan", "AllNodesScan"} for op in ops), ops


def test_snapshot_keeps_every_relationship_property(neo4j_store, demo_dir):
    load_paths(neo4j_store, [demo_dir])
    load_data(neo4j_store, {
        "organisations": [{"id": "org-a", "name": "A", "kind": "voluntary_community"},
                          {"id": "org-b", "name": "B", "kind": "voluntary_community"}],
        "relationships": [
            {"source_id": "org-a", "type": "REFERS_TO", "target_id": "org-b", "method": "phone",
             "self_referral": "yes", "typical_wait_days": "5", "notes": "ring first"},
            {"source_id": "org-a", "type": "PARTNERS_WITH", "target_id": "org-b"}]})
    # a relationship written before source_ids stopped being stored keeps its own
    neo4j_store.driver.execute_query(
        "MATCH (:Pathways {id: 'org-a'})-[r:PARTNERS_WITH]->() SET r.source_id = 'kept|from|before'",
        database_=neo4j_store.settings.database)
    graph = neo4j_store.snapshot()
    read = {(u, k, v): d["props"] for u, v, k, d in graph.edges(keys=True, data=True)}
    assert read == maps_as_before(neo4j_store)
    referral = read["org-a", RelType.REFERS_TO, "org-b"]
    assert referral["notes"] == "ring first" and referral["typical_wait_days"] == 5
    assert referral["source_id"] == "org-a|REFERS_TO|org-b"
    assert read["org-a", RelType.PARTNERS_WITH, "org-b"]["source_id"] == "kept|from|before"
    plain = [key for key, props in read.items() if key[1] != RelType.PARTNERS_WITH
             and set(props) == {"source", "content_hash", "source_id"}]
    assert len(plain) > 300  # most of the demo's 370: provenance and hash only
    derived = [(key, read[key]["source_id"]) for key in plain
               if read[key]["source_id"] != "|".join((key[0], key[1].value, key[2]))]
    assert derived == []


def same_graph(one, other) -> bool:
    """The same nodes, relationships and properties, in the same order."""
    return (list(one.nodes(data=True)) == list(other.nodes(data=True))
            and list(one.edges(keys=True, data=True)) == list(other.edges(keys=True, data=True)))


@pytest.mark.parametrize("sessions", [1, 2, 3])
def test_snapshot_read_in_parallel_equals_one_transaction(neo4j_store, demo_dir, monkeypatch,
                                                          sessions):
    load_paths(neo4j_store, [demo_dir])
    monkeypatch.setattr(q, "SNAPSHOT_CHUNK", 20)  # the demo's 140 nodes in 7 chunks
    in_parts = 0
    read_part = q.versioned_snapshot_part

    def counted(tx, version, ids, lean):
        nonlocal in_parts
        in_parts += 1
        assert lean is False  # the full snapshot
        return read_part(tx, version, ids, lean)

    monkeypatch.setattr(q, "versioned_snapshot_part", counted)
    one = neo4j_store.snapshot() if sessions == 1 else None  # (parts as idle cores allow)
    from pathways.graphs import build_snapshot

    parallel = build_snapshot(*neo4j_store._snapshot_rows(sessions))
    whole = build_snapshot(*neo4j_store._read(q.snapshot))
    assert in_parts >= sessions  # really read in parts
    assert parallel.number_of_nodes() > 5 * 20
    assert same_graph(parallel, whole)
    if one is not None:
        assert same_graph(one, whole)


def a_load_between_ids_and_parts(store, monkeypatch, relationship: dict) -> list:
    """Make the next snapshot read commit a load once, after its ids are read and before
    its parts (20 ids a chunk): two organisations, ``org-late`` and ``org-later``, and
    ``relationship`` (its type and properties) from the first to the second.  Returns the
    list the load's result lands in (empty until it ran)."""
    monkeypatch.setattr(q, "SNAPSHOT_CHUNK", 20)
    read_ids = q.snapshot_ids
    writes: list = []

    def ids_then_a_load(tx, version):
        found = read_ids(tx, version)
        if not writes:  # once: a load commits between the ids and the parts
            writes.append(load_data(store, {
                "organisations": [{"id": "org-late", "name": "Late",
                                   "kind": "voluntary_community"},
                                  {"id": "org-later", "name": "Later",
                                   "kind": "voluntary_community"}],
                "relationships": [{"source_id": "org-late", "target_id": "org-later",
                                   **relationship}]}))
        return found

    monkeypatch.setattr(q, "snapshot_ids", ids_then_a_load)
    return writes


def test_snapshot_parts_never_mix_two_versions(neo4j_store, demo_dir, monkeypatch):
    """A write committed after the ids were read and before the parts are: the parts see
    another version, so the whole read runs again and the snapshot is the data as it is now."""
    load_paths(neo4j_store, [demo_dir])
    writes = a_load_between_ids_and_parts(neo4j_store, monkeypatch, {"type": "PARTNERS_WITH"})
    graph = neo4j_store.snapshot()
    assert writes
    assert "org-late" in graph and graph.out_degree("org-late") == 1
    from pathways.graphs import build_snapshot

    assert same_graph(graph, build_snapshot(*neo4j_store._read(q.snapshot)))
