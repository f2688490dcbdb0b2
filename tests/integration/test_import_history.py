"""`pathways load --import` is in the load history, and can be undone like any first load.

neo4j-admin writes the database before any server (and so any recorder) can see it, so the
import is recorded once the server is up: the files' SHA-256, the counts, and a before-image
saying nothing existed.  A partnership lead who imported the wrong folder undoes it from
`pathways history` / `pathways undo` as they would a first `pathways load`.
"""

from __future__ import annotations

import hashlib
import json

import pytest
from click.testing import CliRunner

from pathways.config import Neo4jSettings
from tests.integration.test_gaps_parity import described

pytestmark = pytest.mark.neo4j


def test_an_import_is_recorded_and_undone_like_a_first_load(local_neo4j_home, demo_dir):
    from pathways import neo4j_runtime as rt
    from pathways.cli import cli
    from pathways.store.neo4j import Neo4jStore

    runner = CliRunner()
    result = runner.invoke(cli, ["load", "--import", str(demo_dir)])
    info = rt.running_state()
    try:
        assert result.exit_code == 0, str(result.exception) + result.output
        assert info is not None
        assert "Recorded as load 1 in the history" in result.output
        with Neo4jStore(Neo4jSettings(info["uri"], info["user"], info["password"],
                                      "neo4j")) as neo:
            imported = described(neo.snapshot())
        assert len(imported[0]) > 100

        shown = runner.invoke(cli, ["--store", "neo4j", "history", "--format", "json"])
        assert shown.exit_code == 0, str(shown.exception) + shown.output
        (record,) = json.loads(shown.output[shown.output.index("["):])
        assert record["action"] == "import" and record["status"] == "done"
        assert record["counts"] == {"nodes_new": len(imported[0]), "rels_new": len(imported[1])}
        assert record["changes"] == len(imported[0]) + len(imported[1])
        files = sorted(p for p in demo_dir.iterdir() if p.is_file() and not p.name.startswith("."))
        assert record["sources"] == [
            {"name": p.name, "sha256": hashlib.sha256(p.read_bytes()).hexdigest()} for p in files]

        undone = runner.invoke(cli, ["--store", "neo4j", "undo", "1", "--yes"])
        assert undone.exit_code == 0, str(undone.exception) + undone.output
        with Neo4jStore(Neo4jSettings(info["uri"], info["user"], info["password"],
                                      "neo4j")) as neo:
            assert sum(neo.stats()["nodes"].values()) == 0
        redone = runner.invoke(cli, ["--store", "neo4j", "undo", "2", "--yes"])
        assert redone.exit_code == 0, str(redone.exception) + redone.output
        with Neo4jStore(Neo4jSettings(info["uri"], info["user"], info["password"],
                                      "neo4j")) as neo:
            assert described(neo.snapshot()) == imported
    finally:
        if info is not None:
            rt.stop_server(info, remove_home=True)
