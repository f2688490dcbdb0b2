"""The lean snapshot for analyses (``GraphStore.analysis_snapshot``, issue 18 item 5).

Neo4j's leaves out each relationship's provenance and hash (``source``, ``source_id``,
``loaded_at``, ``content_hash``), which no analysis reads; everything else is the full
snapshot's.  Checked here: it is exactly the full snapshot minus those; it is read under the
same rules (parts equal one transaction, a load between the parts is never mixed in, inside
``consistent`` its one transaction); every analysis answers the same without relationship
provenance, on either store, and the lean Neo4j snapshot gives the embedded store's answers.
"""

from __future__ import annotations

import datetime as dt
import io

import pytest
from openpyxl import load_workbook

from pathways.analysis import snapshot as snapshots
from pathways.analysis.commission import red_cells
from pathways.analysis.consortia import consortia, report_contacts
from pathways.analysis.funders import funding_landscape
from pathways.analysis.gaps import GapQuery, gap_report
from pathways.analysis.geo import map_data
from pathways.analysis.recommend import protection, recommend
from pathways.analysis.referral import how_to_refer_many
from pathways.analysis.snapshot import cached_snapshot, link_workers, of_kind
from pathways.graphs import build_snapshot
from pathways.loading import load_paths
from pathways.model import NodeKind, RelType
from pathways.update_requests import update_request_workbook
from queries import graph as q
from tests.conftest import first_difference, load_data
from tests.integration.test_consortia_parity import DEMO_OPPORTUNITIES
from tests.integration.test_snapshot_read import a_load_between_ids_and_parts
from tests.unit.test_gaps import random_tables

AS_OF = dt.date(2026, 11, 29)
PROVENANCE = {"source", "source_id", "loaded_at", "content_hash"}


def without_provenance(props: dict) -> dict:
    return {k: v for k, v in props.items() if k not in PROVENANCE}


def edges_of(graph) -> list[tuple]:
    return [(u, k, v, a["props"]) for u, v, k, a in graph.edges(keys=True, data=True)]


def stripped(graph):
    """A copy of ``graph`` whose relationships carry no provenance (the nodes unchanged)."""
    return build_snapshot(((n, a["kind"], a["props"]) for n, a in graph.nodes(data=True)),
                          ((u, k, v, without_provenance(a["props"]))
                           for u, v, k, a in graph.edges(keys=True, data=True)))


def read_by_analyses(store, monkeypatch, snapshot) -> None:
    """Every analysis reads ``snapshot()`` from now on, whichever of the store's snapshot
    methods ``cached_snapshot`` calls; nothing computed before is served again."""
    monkeypatch.setattr(store, "snapshot", snapshot)
    monkeypatch.setattr(store, "analysis_snapshot", snapshot)
    snapshots._cache.pop(store, None)


def workbook_values(data: bytes) -> dict[str, list[tuple]]:
    book = load_workbook(io.BytesIO(data))
    return {sheet.title: list(sheet.iter_rows(values_only=True)) for sheet in book.worksheets}


def answers(store, opportunities=DEMO_OPPORTUNITIES) -> dict:
    """What the analyses tell a user, from whatever snapshot the store hands them."""
    found: dict = {}
    for hops in (3, 4):
        found[f"gaps, {hops} hops"] = gap_report(store, GapQuery(max_hops=hops, as_of=AS_OF))
    found["red cells"] = red_cells(store, found["gaps, 4 hops"]["coverage"])
    found["recommendations"] = recommend(store)
    found["protection"] = protection(store)
    found["funding landscape"] = funding_landscape(store)
    found["map"] = map_data(store)
    for number, opp in enumerate(opportunities):
        report = consortia(store, opp)
        found[f"consortia {number}"] = report
        found[f"contacts {number}"] = report_contacts(store, report)
    graph = cached_snapshot(store)
    activities = of_kind(graph, NodeKind.ACTIVITY)
    for worker in link_workers(graph):
        found[f"how to refer, from {worker}"] = how_to_refer_many(store, worker, activities,
                                                                  as_of=AS_OF)
    for organisation in of_kind(graph, NodeKind.ORGANISATION):
        data, _, _ = update_request_workbook(store, organisation, as_of=AS_OF)
        found[f"update request, {organisation}"] = workbook_values(data)
    return found


def referral_details_shown(found: dict) -> int:
    """How many route steps show a referral's own details (read from relationships)."""
    return sum(step.method is not None or step.notes != "" or step.self_referral is not None
               for key, rows in found.items() if key.startswith("how to refer")
               for row in rows for step in row.steps)


# ------------------------------------------------------------------ analyses need no provenance


def test_analyses_answer_the_same_without_relationship_provenance(store, demo_dir, monkeypatch):
    """Fails if an analysis needs a relationship's provenance, or shows it (the answers
    with it and without it differ)."""
    load_paths(store, [demo_dir])
    full = answers(store)
    assert referral_details_shown(full) > 20  # relationship properties really are read
    whole = store.snapshot()
    assert any(PROVENANCE & set(props) for *_, props in edges_of(whole))
    lean = store.analysis_snapshot if store.analysis_snapshot() is not whole \
        else lambda: stripped(whole)  # (the embedded store hands analyses its own graph)
    read_by_analyses(store, monkeypatch, lean)
    assert not any(PROVENANCE & set(props) for *_, props in edges_of(cached_snapshot(store)))
    without = answers(store)
    assert without == full, first_difference(without, full)


def test_embedded_store_hands_analyses_its_own_graph(embedded_store, demo_dir):
    load_paths(embedded_store, [demo_dir])
    assert embedded_store.analysis_snapshot() is embedded_store.snapshot()


@pytest.mark.neo4j
@pytest.mark.parametrize("data", ["demo", 3, 11])
def test_lean_neo4j_snapshot_gives_the_embedded_stores_answers(embedded_store, neo4j_store,
                                                              demo_dir, monkeypatch, data):
    for store in (embedded_store, neo4j_store):
        if data == "demo":
            load_paths(store, [demo_dir])
        else:
            load_data(store, random_tables(data))
    read_by_analyses(neo4j_store, monkeypatch, neo4j_store.analysis_snapshot)
    opportunities = DEMO_OPPORTUNITIES if data == "demo" else []
    embedded, neo4j = answers(embedded_store, opportunities), answers(neo4j_store, opportunities)
    assert neo4j == embedded, first_difference(neo4j, embedded)
    if data == "demo":
        assert referral_details_shown(neo4j) > 20


# ------------------------------------------------------------------ the lean read itself


@pytest.mark.neo4j
def test_lean_snapshot_is_the_full_one_without_relationship_provenance(neo4j_store, demo_dir):
    load_paths(neo4j_store, [demo_dir])
    load_data(neo4j_store, {
        "organisations": [{"id": "org-a", "name": "A", "kind": "voluntary_community"},
                          {"id": "org-b", "name": "B", "kind": "voluntary_community"}],
        "relationships": [
            {"source_id": "org-a", "type": "REFERS_TO", "target_id": "org-b", "method": "phone",
             "self_referral": "yes", "typical_wait_days": "5", "notes": "ring first"},
            {"source_id": "org-a", "type": "PARTNERS_WITH", "target_id": "org-b",
             "notes": "shared hall"},
            {"source_id": "org-b", "type": "PARTNERS_WITH", "target_id": "org-a"}]})
    # relationships written by older code: a stored source_id, a load time, no hash
    neo4j_store.driver.execute_query(
        "MATCH (:Pathways {id: 'org-b'})-[r:PARTNERS_WITH]->() SET r.source_id = 'kept',"
        " r.loaded_at = '2026-01-01T00:00:00'", database_=neo4j_store.settings.database)
    neo4j_store.driver.execute_query(
        "MATCH (:Pathways {id: 'org-a'})-[r:PARTNERS_WITH]->() REMOVE r.content_hash",
        database_=neo4j_store.settings.database)
    full, lean = neo4j_store.snapshot(), neo4j_store.analysis_snapshot()
    assert list(lean.nodes(data=True)) == list(full.nodes(data=True))  # nodes untouched
    assert [(u, k, v, without_provenance(p)) for u, k, v, p in edges_of(full)] == edges_of(lean)
    read = {(u, k, v): props for u, k, v, props in edges_of(lean)}
    assert read["org-a", RelType.REFERS_TO, "org-b"] == {
        "method": "phone", "self_referral": True, "typical_wait_days": 5, "notes": "ring first"}
    assert read["org-a", RelType.PARTNERS_WITH, "org-b"] == {"notes": "shared hall"}
    assert read["org-b", RelType.PARTNERS_WITH, "org-a"] == {}
    assert len(read) == 373 and sum(props == {} for props in read.values()) > 300
    assert full.edges["org-b", "org-a", RelType.PARTNERS_WITH]["props"]["source_id"] == "kept"


@pytest.mark.neo4j
@pytest.mark.parametrize("sessions", [1, 2, 3])
def test_lean_read_in_parts_equals_one_transaction(neo4j_store, demo_dir, monkeypatch,
                                                   sessions):
    load_paths(neo4j_store, [demo_dir])
    monkeypatch.setattr(q, "SNAPSHOT_CHUNK", 20)  # the demo's 140 nodes in 7 chunks
    parts = []
    read_part = q.versioned_snapshot_part

    def counted(tx, version, ids, lean):
        parts.append(lean)
        return read_part(tx, version, ids, lean)

    monkeypatch.setattr(q, "versioned_snapshot_part", counted)
    in_parts = build_snapshot(*neo4j_store._snapshot_rows(sessions, lean=True))
    assert len(parts) >= sessions and all(parts)  # really read in lean parts
    whole = build_snapshot(*neo4j_store._read(q.snapshot, True))
    inside = neo4j_store.consistent(neo4j_store.analysis_snapshot)  # its one transaction
    for graph in (in_parts, inside):
        assert list(graph.nodes(data=True)) == list(whole.nodes(data=True))
        assert edges_of(graph) == edges_of(whole)
    assert whole.number_of_nodes() == 140 and whole.number_of_edges() == 370
    assert not any(PROVENANCE & set(props) for *_, props in edges_of(whole))


@pytest.mark.neo4j
def test_lean_parts_never_mix_two_versions(neo4j_store, demo_dir, monkeypatch):
    """A load committed after the ids were read and before the parts: the lean read runs
    again and gives the data as it is now, not a mix."""
    load_paths(neo4j_store, [demo_dir])
    writes = a_load_between_ids_and_parts(neo4j_store, monkeypatch,
                                          {"type": "REFERS_TO", "method": "email"})
    graph = neo4j_store.analysis_snapshot()
    assert writes
    assert "org-late" in graph and "org-later" in graph
    assert graph.edges["org-late", "org-later", RelType.REFERS_TO]["props"] == {"method": "email"}
    whole = build_snapshot(*neo4j_store._read(q.snapshot, True))
    assert list(graph.nodes(data=True)) == list(whole.nodes(data=True))
    assert edges_of(graph) == edges_of(whole)
