"""`pathways load --import`: rows checked and neo4j-admin's files written in one pass.

A bad row anywhere refuses the import before a server exists (file, row, column, reason);
a good Living Database gives a running local Neo4j holding the graph `pathways load` writes
into the embedded store.
"""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from pathways.config import Neo4jSettings
from pathways.loading import load_paths
from pathways.store.embedded import EmbeddedStore
from tests.conftest import write_folder
from tests.integration.test_gaps_parity import described

pytestmark = pytest.mark.neo4j

# Both commands take the same route (pathways.cli.local_neo4j.start_with_import).
COMMANDS = pytest.mark.parametrize("command", [["load", "--import"], ["neo4j", "start", "--import"]],
                                   ids=["load", "neo4j-start"])


@COMMANDS
def test_load_import_refuses_a_bad_row_and_starts_no_server(tmp_path, monkeypatch, command):
    from pathways import neo4j_runtime as rt
    from pathways.cli import cli

    monkeypatch.setenv("PATHWAYS_HOME", str(tmp_path / "home"))
    folder = write_folder(tmp_path / "bad", {
        "people": [["id", "name", "role"], ["lw", "Lee Walker", "link_worker"]],
        "services": [["id", "name"], ["svc", "Arts on Prescription"]],
        "relationships": [["source_id", "type", "target_id"],
                          ["lw", "REFERS_TO", "svc"], ["lw", "REFERS_TO", "nowhere"]],
    })
    result = CliRunner().invoke(cli, [*command, str(folder)])
    assert result.exit_code != 0
    message = str(result.exception) + result.output
    assert "relationships.csv, row 3, column 'target_id'" in message and "nowhere" in message
    assert rt.running_state() is None
    assert not (tmp_path / "home" / "neo4j").exists()
    assert [p.name for p in (tmp_path / "home").iterdir() if p.name.startswith("import-")] == []


@COMMANDS
def test_load_import_starts_neo4j_with_the_graph_load_writes(tmp_path, local_neo4j_home,
                                                             demo_dir, command):
    from pathways import neo4j_runtime as rt
    from pathways.cli import cli
    from pathways.store.neo4j import Neo4jStore

    result = CliRunner().invoke(cli, [*command, str(demo_dir)])
    info = rt.running_state()
    try:
        assert result.exit_code == 0, str(result.exception) + result.output
        assert info is not None and "Imported" in result.output
        embedded = EmbeddedStore(tmp_path / "embedded" / "graph.json")
        load_paths(embedded, [demo_dir])
        with Neo4jStore(Neo4jSettings(info["uri"], info["user"], info["password"],
                                      "neo4j")) as neo:
            nodes, edges = described(neo.snapshot())
        want_nodes, want_edges = described(embedded.snapshot())
        assert len(nodes) == len(want_nodes) > 100
        assert nodes == want_nodes
        assert edges == want_edges
        again = CliRunner().invoke(cli, [*command, str(demo_dir)])
        assert again.exit_code != 0
        assert "already" in str(again.exception) + again.output
        assert [p.name for p in local_neo4j_home.iterdir() if p.name.startswith("import-")] == []
    finally:
        if info is not None:
            rt.stop_server(info, remove_home=True)
