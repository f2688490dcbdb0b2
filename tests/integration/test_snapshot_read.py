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
