"""Needs inferred from a real council directory's text, on both stores (issue 15, item 1)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pathways.analysis.pathways import pathways_from
from pathways.loading import load_feed, load_paths
from pathways.model import RelType
from pathways.store import PathwayFilter
from tests.conftest import write_folder

COUNCIL = Path(__file__).parents[2].parent / "shared" / "fixtures" / "oruk-council-sample"
BRISTOL = COUNCIL / "bristol-services-sample.json"
CALL_COMPANIONS = "oruk:service:c8a98fcd-81a7-3982-8cfb-49892219b22f"

pytestmark = pytest.mark.skipif(not COUNCIL.exists(), reason=f"no council sample at {COUNCIL}")


def addresses(store) -> set[tuple]:
    """(activity, need, inferred, evidence) for every ADDRESSES in the store."""
    graph = store.snapshot()
    return {(u, v, a["props"].get("inferred"), a["props"].get("evidence"))
            for u, v, k, a in graph.edges(keys=True, data=True) if k == RelType.ADDRESSES}


def test_both_stores_keep_the_same_inferred_needs_and_evidence(embedded_store, neo4j_store):
    for store in (embedded_store, neo4j_store):
        load_feed(store, [BRISTOL], "oruk")
    found = addresses(embedded_store)
    assert found == addresses(neo4j_store)
    assert len({activity for activity, *_ in found}) >= 40  # of 100 services; 0 before
    assert (f"{CALL_COMPANIONS}:activity", "loneliness", True, "lonely") in found
    assert all(inferred is True and evidence for _, _, inferred, evidence in found)


def test_reimporting_the_same_directory_changes_no_inferred_need(store):
    load_feed(store, [BRISTOL], "oruk")
    again = load_feed(store, [BRISTOL], "oruk")
    assert (again.summary.nodes_new, again.summary.nodes_changed) == (0, 0)
    assert (again.summary.rels_new, again.summary.rels_changed) == (0, 0)


def test_a_link_worker_finds_an_imported_service_by_an_inferred_need(store, tmp_path):
    load_feed(store, [BRISTOL], "oruk")
    routes = write_folder(tmp_path / "ours", {
        "people": [["id", "name", "role"], ["lw-ana", "Ana Link", "link_worker"]],
        "relationships": [["source_id", "type", "target_id", "method"],
                          ["lw-ana", "REFERS_TO", CALL_COMPANIONS, "phone"]],
    })
    load_paths(store, [routes])
    lonely = pathways_from(store, "lw-ana", PathwayFilter(needs=("loneliness",)))
    assert [a["id"] for a in lonely["activities"]] == [f"{CALL_COMPANIONS}:activity"]
    housing = pathways_from(store, "lw-ana", PathwayFilter(needs=("housing",)))
    assert housing["activities"] == []
