"""Beyond one machine (issue 18, item 7): the Neo4j store on a ``neo4j://`` (routing) URI.

A Neo4j cluster or Aura is reached through ``neo4j://`` (``neo4j+s://`` with TLS): the driver
asks a router for the database's routing table, then sends read transactions to readers
(followers, read replicas) and write transactions to the leader.  That only works if the
store says which is which.  These tests run on the real throwaway server, which, standalone,
answers the routing table with itself in every role (``server.bolt.advertised_address`` is
set by :mod:`pathways.neo4j_runtime`), and read what the driver sent on the wire (its debug
log of Bolt messages): ``ROUTE`` to fetch the table, ``BEGIN {'mode': 'r'}`` for a read
transaction, a ``BEGIN`` without ``mode`` for a write.  Nothing is mocked.
"""

from __future__ import annotations

import ast
import json
import logging
import re
from dataclasses import replace

import pytest

from pathways.analysis.gaps import GapQuery, gap_report
from pathways.analysis.pathways import pathways_from
from pathways.loading import load_paths
from pathways.store import PathwayFilter
from pathways.store.neo4j import Neo4jStore
from pathways.webstore import set_store
from tests.integration.test_app_security import PATHWAY_FORM, call

pytestmark = pytest.mark.neo4j

DEMO_WORKER = "person-lw-pat-example"


def routed_uri(uri: str) -> str:
    """The same server, addressed through routing: ``bolt://h:p`` -> ``neo4j://h:p``."""
    scheme, rest = uri.split("://", 1)
    return f"{'neo4j+s' if scheme.endswith('+s') else 'neo4j'}://{rest}"


@pytest.fixture
def routed(neo4j_settings):
    """A store on the test server through ``neo4j://``, emptied before and after."""
    store = Neo4jStore(replace(neo4j_settings, uri=routed_uri(neo4j_settings.uri)))
    store.reset()
    yield store
    store.reset()
    store.close()


class Wire:
    """The Bolt messages the driver sent, read from its debug log while a block ran."""

    def __init__(self, caplog):
        self.caplog = caplog

    def __enter__(self):
        self.caplog.clear()
        self.caplog.set_level(logging.DEBUG, logger="neo4j")
        return self

    def __exit__(self, *exc):
        self.messages = [r.getMessage() for r in self.caplog.records if r.name.startswith("neo4j")]
        self.caplog.set_level(logging.WARNING, logger="neo4j")

    def transactions(self) -> list[str]:
        """``"read"`` or ``"write"`` for each transaction begun (explicit or auto-commit)."""
        kinds = []
        for message in self.messages:
            begun = re.search(r"C: BEGIN (\{.*\})\s*$", message)
            auto = re.search(r"C: RUN .* (\{[^{}]*'db'[^{}]*\})\s*$", message)
            found = begun or auto
            if found:
                extra = ast.literal_eval(found.group(1))
                kinds.append("read" if extra.get("mode") == "r" else "write")
        return kinds

    def routed(self) -> bool:
        return any("C: ROUTE" in m for m in self.messages) or any(
            "acquire routing connection" in m for m in self.messages)


def test_the_routing_scheme_reaches_the_server_through_its_routing_table(routed, caplog):
    """``neo4j://`` works against the local server: it answers a routing table naming itself
    as router, reader and writer, and the store's reads go through it."""
    records, _, _ = routed.driver.execute_query(
        "CALL dbms.routing.getRoutingTable({}, $db)", db=routed.settings.database,
        database_=routed.settings.database)
    roles = {server["role"]: server["addresses"] for server in records[0]["servers"]}
    address = routed.settings.uri.split("://", 1)[1]
    assert roles == {"ROUTE": [address], "READ": [address], "WRITE": [address]}
    with Wire(caplog) as wire:
        assert sum(routed.stats()["nodes"].values()) == 0
    assert wire.routed(), "the driver did not route (a bolt:// driver never does)"


def test_loads_go_to_the_leader_and_every_app_read_to_readers(routed, neo4j_settings,
                                                               demo_dir, caplog):
    """On a neo4j:// URI a load writes through write transactions (the leader), and what the
    app reads (pathways, the pathways page's table and network, the gap report, a node's
    details) goes through read transactions only, which a cluster serves from its readers.
    The answers are the same as through a direct bolt:// connection."""
    with Wire(caplog) as wire:
        load_paths(routed, [demo_dir])
    assert "write" in wire.transactions()
    assert sum(routed.stats()["nodes"].values()) > 0, "the load through neo4j:// wrote nothing"

    set_store(routed)
    try:
        from app import app

        client = app.server.test_client()
        assert client.get("/pathways").status_code == 200
        web = (app, client, routed)
        form = {**PATHWAY_FORM, "pw-worker.value": DEMO_WORKER}
        with Wire(caplog) as wire:
            status, table = call(web, "pw-table.rowData", form, ["pw-worker.value"])
            graph_status, graph = call(web, "pw-graph.elements", form, ["pw-worker.value"])
            query = GapQuery()  # one day for both reports (each says its date)
            report = gap_report(routed, query)
            routes = pathways_from(routed, DEMO_WORKER, PathwayFilter(needs=("loneliness",)), 3)
            node = routed.get_node(DEMO_WORKER)
            version = routed.version()
    finally:
        set_store(None)
    assert status == 200 and graph_status == 200, (table, graph)
    rows = json.loads(table)["response"]["pw-table"]["rowData"]
    assert {row["id"] for row in rows} == {
        a["id"] for a in pathways_from(routed, DEMO_WORKER, max_hops=form["pw-hops.value"])["activities"]}
    assert rows, "the pathways table came back empty"
    kinds = wire.transactions()
    assert kinds and set(kinds) == {"read"}, f"app reads ran in {kinds.count('write')} write transactions"

    with Neo4jStore(neo4j_settings) as direct:  # the same server, not routed
        assert gap_report(direct, query) == report
        assert pathways_from(direct, DEMO_WORKER, PathwayFilter(needs=("loneliness",)), 3) == routes
        assert direct.get_node(DEMO_WORKER) == node
        assert direct.version() == version
