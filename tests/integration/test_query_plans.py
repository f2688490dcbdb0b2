"""Id-list queries are planned as index seeks, even on an empty graph.

Plans are cached; one made while the graph was empty once stayed cached as a scan of the whole
id index per key, and a reload of the 100k benchmark graph ran for tens of minutes.  The
queries carry index-seek hints now; these tests read the real server's plans (EXPLAIN runs
nothing) on an empty graph, where the planner is most tempted, and after a load.
"""

from __future__ import annotations

import pytest

from pathways.loading import load_paths
from pathways.model import NodeKind, RelType
from queries import graph as q

pytestmark = pytest.mark.neo4j

ROWS = [{"source": "a", "target": "b", "props": {}}] * 5000
IDS = ["a"] * 5000
ID_LIST_QUERIES = {
    "kinds_of_ids": (q.KINDS_OF_IDS, {"ids": IDS}),
    "node_hashes": (q.NODE_HASHES, {"ids": IDS}),
    "relationship_hashes": (q.RELATIONSHIP_HASHES, {"ids": IDS}),
    "create_relationships": (q.CREATE_RELATIONSHIPS[RelType.ADDRESSES], {"rows": ROWS, "loaded_at": "x"}),
    "update_relationships": (q.UPDATE_RELATIONSHIPS[RelType.REFERS_TO], {"rows": ROWS, "loaded_at": "x"}),
    "snapshot_nodes": (q.SNAPSHOT_NODES, {"ids": IDS}),
    "snapshot_relationships": (q.SNAPSHOT_RELATIONSHIPS, {"ids": IDS}),
    "mark_missing": (q.MARK_MISSING_FROM_FEED, {"ids": IDS, "stamp": "x"}),
    "remove_nodes": (q.REMOVE_NODES, {"ids": IDS}),
}


def operators(plan) -> list[str]:
    found = [plan["operatorType"].split("@")[0]]
    for child in plan.get("children", []):
        found += operators(child)
    return found


def explain(store, query: str, params: dict) -> list[str]:
    summary = store.driver.execute_query("EXPLAIN " + query, params, database_=store.settings.database).summary
    return operators(summary.plan)


@pytest.mark.parametrize("name", sorted(ID_LIST_QUERIES))
@pytest.mark.parametrize("graph", ["empty", "loaded"])
def test_id_lists_are_looked_up_by_index_seek(neo4j_store, demo_dir, name, graph):
    neo4j_store.ensure_constraints()
    if graph == "loaded":
        load_paths(neo4j_store, [demo_dir])
    query, params = ID_LIST_QUERIES[name]
    ops = explain(neo4j_store, query, params)
    assert any("IndexSeek" in op for op in ops), ops
    assert not any(op in {"NodeIndexScan", "NodeByLabelScan", "AllNodesScan", "NodeHashJoin",
                          "ValueHashJoin"} for op in ops), ops
    if name in {"create_relationships", "update_relationships"}:
        assert not any(op.startswith("Expand(All)") for op in ops), ops  # never from the far end


def test_every_kind_has_its_create_query(neo4j_store):
    neo4j_store.ensure_constraints()
    for kind in NodeKind:
        ops = explain(neo4j_store, q.CREATE_NODES[kind], {"rows": [{"id": "x"}], "loaded_at": "x"})
        assert "Create" in ops
