"""`pathways neo4j start --import`: neo4j-admin's offline importer gives the same graph.

A real Neo4j server is started with the demo Living Database bulk-imported, and compared
with the embedded store loaded the ordinary way: same nodes, labels, relationships and
properties (apart from load times), same gap report, and an online reload of the same
files finds every row unchanged (so even the content hashes agree).
"""

from __future__ import annotations

import datetime as dt

import pytest

from pathways.analysis.gaps import GapQuery, gap_report
from pathways.analysis.pathways import pathways_from
from pathways.config import Neo4jSettings
from pathways.loading import load_paths, plan_for_store
from pathways.model import NodeKind
from pathways.store import PathwayFilter
from pathways.store.embedded import EmbeddedStore
from tests.conftest import _neo4j_unavailable
from tests.integration.test_gaps_parity import described

pytestmark = pytest.mark.neo4j


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    """A fresh server with the demo data bulk-imported, and the embedded store beside it."""
    from pathways import neo4j_runtime as rt
    from pathways.errors import Neo4jRuntimeError
    from pathways.loading import demo_data_dir
    from pathways.store.neo4j import Neo4jStore

    plan = plan_for_store(EmbeddedStore(None), [demo_data_dir()])
    assert not plan.problems
    try:
        rt.ensure_jars()
        rt.java_executable()
    except Neo4jRuntimeError as exc:
        _neo4j_unavailable(str(exc))
    info = rt.start_server(home=tmp_path_factory.mktemp("bulk-home"), heap="512m",
                           import_plan=plan)  # an import failure fails the tests
    embedded = EmbeddedStore(tmp_path_factory.mktemp("bulk-embedded") / "graph.json")
    load_paths(embedded, [demo_data_dir()])
    try:
        with Neo4jStore(Neo4jSettings(info.uri, info.user, info.password, "neo4j")) as neo:
            yield neo, embedded
    finally:
        rt.stop_server(info, remove_home=True)


def test_bulk_imported_graph_is_the_graph_the_loader_writes(imported):
    neo, embedded = imported
    nodes, edges = described(neo.snapshot())
    want_nodes, want_edges = described(embedded.snapshot())
    assert len(nodes) == len(want_nodes) > 100
    assert len(edges) == len(want_edges) > 300
    assert nodes == want_nodes
    assert edges == want_edges
    assert neo.stats() == embedded.stats()


def test_every_node_and_relationship_has_its_load_time(imported):
    neo, _ = imported
    graph = neo.snapshot()
    stamps = {a["props"]["loaded_at"] for _, a in graph.nodes(data=True)}
    stamps |= {a["props"]["loaded_at"] for _, _, a in graph.edges(data=True)}
    assert len(stamps) == 1
    assert dt.datetime.fromisoformat(stamps.pop())


def test_online_reload_after_bulk_import_finds_every_row_unchanged(imported, demo_dir):
    neo, _ = imported
    version = neo.version()
    summary = load_paths(neo, [demo_dir]).summary
    assert (summary.nodes_new, summary.nodes_changed) == (0, 0)
    assert (summary.rels_new, summary.rels_changed) == (0, 0)
    assert summary.nodes_unchanged > 100
    assert neo.version() == version  # nothing written, so cached analyses stay valid


def test_analyses_agree_after_bulk_import(imported):
    neo, embedded = imported
    query = GapQuery(as_of=dt.date(2026, 11, 29))
    assert gap_report(neo, query) == gap_report(embedded, query)
    for worker in embedded.list_nodes(NodeKind.PERSON, "link_worker"):
        for where in (PathwayFilter(), PathwayFilter(needs=("loneliness",))):
            assert pathways_from(neo, worker["id"], where) == pathways_from(embedded, worker["id"], where)


def test_constraints_exist_after_bulk_import(imported):
    neo, _ = imported
    records, _, _ = neo.driver.execute_query("SHOW CONSTRAINTS YIELD name RETURN collect(name) AS names",
                                             database_="neo4j")
    names = set(records[0]["names"])
    assert "pathways_id_unique" in names
    assert {f"{kind.label.lower()}_id_unique" for kind in NodeKind} <= names
