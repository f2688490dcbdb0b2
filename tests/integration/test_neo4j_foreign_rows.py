"""Rows someone else wrote (no content hash) are updated by a load, never duplicated."""

from __future__ import annotations

import pytest

from tests.conftest import load_data

pytestmark = pytest.mark.neo4j

DATA = {
    "people": [{"id": "lw", "name": "Lee Walker", "role": "link_worker"}],
    "services": [{"id": "svc", "name": "Arts on Prescription"}],
    "relationships": [{"source_id": "lw", "type": "REFERS_TO", "target_id": "svc"}],
}


def test_a_load_updates_hashless_rows_instead_of_creating_twins(neo4j_store):
    neo4j_store.ensure_constraints()
    neo4j_store.driver.execute_query(
        "CREATE (:Pathways:Person {id: 'lw', name: 'Old name'})"
        "-[:REFERS_TO]->(:Pathways:Service {id: 'svc', name: 'Old service'})",
        database_=neo4j_store.settings.database)

    summary = load_data(neo4j_store, DATA)

    assert (summary.nodes_new, summary.nodes_changed) == (0, 2)
    assert (summary.rels_new, summary.rels_changed) == (0, 1)
    records, _, _ = neo4j_store.driver.execute_query(
        "MATCH (a:Pathways {id: 'lw'})-[r:REFERS_TO]->(b:Pathways {id: 'svc'})"
        " RETURN count(r) AS routes, a.name AS worker, r.content_hash IS NOT NULL AS hashed",
        database_=neo4j_store.settings.database)
    assert [(r["routes"], r["worker"], r["hashed"]) for r in records] == [(1, "Lee Walker", True)]
