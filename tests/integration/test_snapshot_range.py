"""The snapshot read by ranges of ids (queries/graph.py SNAPSHOT_NODE_RANGE and the
relationship reads beside it): one range seek in the id index per chunk, in the index's
order, giving the same snapshot as the read by lists of ids; a chunk whose range does not
hold exactly its ids, in order, is read again by its ids."""

from __future__ import annotations

import itertools

import pytest

from pathways.graphs import build_snapshot
from pathways.loading import load_paths
from queries import graph as q
from tests.conftest import load_data
from tests.integration.test_query_plans import explain

pytestmark = pytest.mark.neo4j

# ids Python and an index might order differently: case, accents, a character beyond the
# basic plane (UTF-16 surrogates) next to one just below it, digits against letters
AWKWARD_IDS = ["org-Z", "org-a", "org-é", "org-\U0001f600", "org-\uff5e", "org-10", "org-9",
               "org- ", "org-Ā"]


def by_id_lists(tx, ids: list[str], lean: bool) -> tuple[list, list]:
    """The read as it was: every chunk by its list of ids (SNAPSHOT_NODES and its rels)."""
    kinds = {kind.value: kind for kind in q.NodeKind}
    query, rows_of = ((q.SNAPSHOT_RELATIONSHIP_LEAN, q.lean_relationships) if lean
                      else (q.SNAPSHOT_RELATIONSHIP_ROWS, q.snapshot_relationships))
    nodes: list = []
    rels: list = []
    for start in range(0, len(ids), q.SNAPSHOT_CHUNK):
        chunk = ids[start : start + q.SNAPSHOT_CHUNK]
        rows = tx.run(q.SNAPSHOT_NODES, ids=chunk).single(strict=True)["rows"]
        nodes.extend((n, kinds[k], p) for n, k, p in rows)
        rels.extend(rows_of(tx.run(query, ids=chunk).single(strict=True)["rows"]))
    return nodes, rels


def listed(graph) -> tuple[list, list]:
    return list(graph.nodes(data=True)), list(graph.edges(keys=True, data=True))


def with_awkward_ids(store, demo_dir) -> None:
    load_paths(store, [demo_dir])
    load_data(store, {
        "organisations": [{"id": i, "name": f"Org {n}", "kind": "voluntary_community"}
                          for n, i in enumerate(AWKWARD_IDS)],
        "relationships": [{"source_id": a, "type": "PARTNERS_WITH", "target_id": b,
                           **({"notes": "shared hall"} if n % 2 else {})}
                          for n, (a, b) in enumerate(itertools.pairwise(AWKWARD_IDS))]})


@pytest.mark.parametrize("lean", [False, True])
@pytest.mark.parametrize("chunk", [3, 20, 20_000])
def test_range_read_equals_the_read_by_id_lists(neo4j_store, demo_dir, monkeypatch, lean,
                                                chunk):
    with_awkward_ids(neo4j_store, demo_dir)
    monkeypatch.setattr(q, "SNAPSHOT_CHUNK", chunk)
    ids = sorted(neo4j_store._read(lambda tx: tx.run(q.ALL_IDS).single(strict=True)["ids"]))
    expected = build_snapshot(*neo4j_store._read(by_id_lists, ids, lean))
    for graph in (build_snapshot(*neo4j_store._read(q.snapshot, lean)),
                  build_snapshot(*neo4j_store._snapshot_rows(2, lean=lean)),
                  neo4j_store.analysis_snapshot() if lean else neo4j_store.snapshot()):
        assert listed(graph) == listed(expected)
    assert expected.number_of_nodes() == 140 + len(AWKWARD_IDS)
    assert expected.number_of_edges() == 370 + len(AWKWARD_IDS) - 1


def test_a_range_not_holding_exactly_its_ids_is_read_by_them(neo4j_store, demo_dir,
                                                             monkeypatch):
    """Were Neo4j to order a chunk's ids otherwise than Python, its range would not hold
    exactly them in order: here the range read is made to give them backwards, and to
    miss one, and the snapshot is still the read by lists of ids."""
    with_awkward_ids(neo4j_store, demo_dir)
    monkeypatch.setattr(q, "SNAPSHOT_CHUNK", 20)
    ids = sorted(neo4j_store._read(lambda tx: tx.run(q.ALL_IDS).single(strict=True)["ids"]))
    expected = build_snapshot(*neo4j_store._read(by_id_lists, ids, True))
    ranges = []
    for altered in (q.SNAPSHOT_NODE_RANGE.replace("ORDER BY a.id", "ORDER BY a.id DESC"),
                    q.SNAPSHOT_NODE_RANGE.replace("a.id <= $last", "a.id < $last")):
        monkeypatch.setattr(q, "SNAPSHOT_NODE_RANGE", altered)
        monkeypatch.setattr(q, "SNAPSHOT_RELATIONSHIP_RANGE_LEAN", "RETURN 1/0 AS rows")
        ranges.append(listed(build_snapshot(*neo4j_store._read(q.snapshot, True))))
    assert ranges == [listed(expected)] * 2


@pytest.mark.parametrize("query", ["SNAPSHOT_NODE_RANGE", "SNAPSHOT_RELATIONSHIP_RANGE",
                                   "SNAPSHOT_RELATIONSHIP_RANGE_LEAN"])
@pytest.mark.parametrize("graph", ["empty", "loaded"])
def test_range_reads_seek_the_id_index_in_its_order(neo4j_store, demo_dir, query, graph):
    neo4j_store.ensure_constraints()
    if graph == "loaded":
        load_paths(neo4j_store, [demo_dir])
    ops = explain(neo4j_store, getattr(q, query), {"first": "a", "last": "b"})
    assert any("IndexSeekByRange" in op for op in ops), ops
    assert not any(op.startswith(("Sort", "PartialSort", "NodeByLabelScan", "AllNodesScan"))
                   for op in ops), ops
