"""``pathways history`` and ``pathways undo`` on the embedded store, as a data officer uses them:
load, look at the history, undo, and the refusals in plain words."""

from __future__ import annotations

import csv
import getpass
import hashlib
import io
import json

import pytest
from click.testing import CliRunner

from pathways.cli import cli, main
from pathways.store.embedded import EmbeddedStore
from tests.conftest import write_folder

SMALL = {
    "people": [["id", "name", "role"], ["lw", "Lee Walker", "link_worker"]],
    "organisations": [["id", "name", "kind"], ["org", "Calder Arts", "cultural"]],
    "relationships": [["source_id", "type", "target_id"], ["lw", "WORKS_FOR", "org"]],
}
RENAMED = {"organisations": [["id", "name", "kind"], ["org", "Calder Arts CIC", "cultural"]]}


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("PATHWAYS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("PATHWAYS_STORE", "embedded")
    return tmp_path / "home"


def run(*args, input=None):
    return CliRunner().invoke(cli, [str(a) for a in args], input=input)


def graph(home):
    snapshot = EmbeddedStore(home / "graph.json").snapshot()
    return ({n: a["props"] for n, a in snapshot.nodes(data=True)},
            {(u, k, v): a["props"] for u, v, k, a in snapshot.edges(keys=True, data=True)})


def test_history_lists_loads_newest_first_with_who_files_and_counts(home, tmp_path):
    small = write_folder(tmp_path / "small", SMALL)
    renamed = write_folder(tmp_path / "renamed", RENAMED)
    assert run("load", small).exit_code == 0
    assert run("load", renamed).exit_code == 0
    result = run("history", "--format", "json")
    assert result.exit_code == 0, result.output
    found = json.loads(result.stdout)
    assert [r["id"] for r in found] == ["2", "1"]
    assert {r["actor"] for r in found} == {getpass.getuser()}  # the OS user runs the CLI
    assert found[0]["counts"] == {"nodes_changed": 1}
    assert found[1]["counts"] == {"nodes_new": 2, "rels_new": 1}
    digest = hashlib.sha256((renamed / "organisations.csv").read_bytes()).hexdigest()
    assert found[0]["sources"] == [{"name": "organisations.csv", "sha256": digest}]
    rows = list(csv.DictReader(io.StringIO(run("history", "--format", "csv").stdout)))
    assert [(r["id"], r["action"], r["undone"]) for r in rows] == [("2", "load", "no"),
                                                                    ("1", "load", "no")]
    table = run("history").stdout
    assert "1 changed node" in table and "2 new nodes, 1 new relationship" in table


def test_undo_asks_first_then_restores_and_says_what_it_did(home, tmp_path):
    assert run("load", write_folder(tmp_path / "small", SMALL)).exit_code == 0
    before = graph(home)
    assert run("load", write_folder(tmp_path / "renamed", RENAMED)).exit_code == 0
    declined = run("undo", "2", input="n\n")
    assert declined.exit_code != 0 and "Undo load 2 (load by" in declined.output
    assert graph(home) != before
    done = run("undo", "2", input="y\n")
    assert done.exit_code == 0, done.output
    assert "Undid load 2 (recorded as load 3): 1 node restored." in done.output
    assert graph(home) == before
    rows = json.loads(run("history", "--format", "json").stdout)
    assert rows[0]["action"] == "undo" and rows[1]["undone_by"] == "3"


def test_undo_refusals_are_plain_and_change_nothing(home, tmp_path, capsys):
    assert run("load", write_folder(tmp_path / "small", SMALL)).exit_code == 0
    assert run("load", write_folder(tmp_path / "renamed", RENAMED)).exit_code == 0
    after = graph(home)
    with pytest.raises(SystemExit) as exit_:
        main(["undo", "1", "--yes"])
    assert exit_.value.code == 1
    err = capsys.readouterr().err
    assert "load 1 cannot be undone while later loads stand on it: 2 (load by" in err
    assert "pathways undo 2" in err and "nothing was changed" in err
    with pytest.raises(SystemExit):
        main(["undo", "7", "--yes"])
    assert "no load with id '7'" in capsys.readouterr().err
    assert graph(home) == after


def test_reset_is_recorded_and_undo_brings_the_data_back(home, tmp_path):
    assert run("load", write_folder(tmp_path / "small", SMALL)).exit_code == 0
    before = graph(home)
    reset = run("reset", "--yes")
    assert "Recorded as load 2: `pathways undo 2` brings the data back." in reset.output
    assert graph(home) == ({}, {})
    assert run("undo", "2", "--yes").exit_code == 0
    assert graph(home) == before
