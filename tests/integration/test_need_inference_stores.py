"""Needs inferred from a real council directory's text, on both stores (issue 15, item 1)."""

from __future__ import annotations

import json
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


def cli_on(store, request, monkeypatch, *args: str):
    """``pathways --store <the store's kind> ARGS`` against this very store."""
    from click.testing import CliRunner

    from pathways.cli import cli
    from pathways.store.embedded import EmbeddedStore

    if isinstance(store, EmbeddedStore):
        monkeypatch.setenv("PATHWAYS_HOME", str(request.getfixturevalue("tmp_path")))
        chosen = ["--store", "embedded"]
    else:
        s = request.getfixturevalue("neo4j_settings")
        chosen = ["--store", "neo4j", "--neo4j-uri", s.uri, "--neo4j-user", s.user,
                  "--neo4j-password", s.password, "--neo4j-database", s.database]
    result = CliRunner().invoke(cli, chosen + list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


def test_lists_show_needs_and_the_evidence_of_inferred_ones(store, request, monkeypatch,
                                                            tmp_path):
    load_feed(store, [BRISTOL], "oruk")
    given = write_folder(tmp_path / "ours", {  # the partnership says it is for carers too
        "relationships": [["source_id", "type", "target_id"],
                          [f"{CALL_COMPANIONS}:activity", "ADDRESSES", "carers"]],
    })
    load_paths(store, [given])
    activities = json.loads(cli_on(store, request, monkeypatch,
                                   "list", "activities", "--format", "json"))
    row = next(r for r in activities if r["id"] == f"{CALL_COMPANIONS}:activity")
    assert row["needs"] == ["carers", "loneliness"]
    assert row["need_evidence"] == {"loneliness": "lonely"}  # carers was given, not inferred
    services = json.loads(cli_on(store, request, monkeypatch,
                                 "list", "services", "--format", "json"))
    service = next(r for r in services if r["id"] == CALL_COMPANIONS)
    assert (service["needs"], service["need_evidence"]) == (row["needs"], row["need_evidence"])
    assert sum(bool(r["needs"]) for r in services) >= 40
    table = cli_on(store, request, monkeypatch, "list", "activities", "--format", "csv")
    line = next(x for x in table.splitlines() if x.startswith(f"{CALL_COMPANIONS}:activity,"))
    assert line.endswith("carers; loneliness (inferred from 'lonely')")
