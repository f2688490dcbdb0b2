"""The bad-input corpus (tests/bad_input_cases.py) on the embedded store and through the CLI.

Every case is loaded on top of the demo data, strict and with ``allow_partial``: it must be
refused with its file, row, column and reason, never with another exception, and leave the
graph exactly as it was (``--allow-partial`` may write the valid rows beside the bad ones).
The same cases run on both stores in tests/integration/test_bad_input_stores.py.
"""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from pathways.cli import cli, main
from pathways.errors import InputError
from pathways.loading import load_paths
from pathways.store.embedded import EmbeddedStore
from tests.bad_input_cases import CASE_IDS, CASES, check_case, graph_hash, missing

BY_NAME = {case.name: case for case in CASES}


def test_the_corpus_covers_at_least_the_52_kinds_of_the_probe():
    assert len(CASES) >= 52
    assert len(set(CASE_IDS)) == len(CASE_IDS)


@pytest.mark.parametrize("mode", ["strict", "partial"])
@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_bad_input_is_refused_with_where_and_why_and_the_store_unchanged(
        case, mode, demo_store, tmp_path, monkeypatch):
    check_case(demo_store, case, partial=mode == "partial", folder=tmp_path,
               setenv=monkeypatch.setenv)


def test_the_store_file_itself_is_untouched_by_a_refused_load(demo_store, tmp_path):
    graph_file = tmp_path / "graph.json"
    before = graph_file.read_bytes()
    paths = BY_NAME["unterminated-quote"].build(tmp_path / "input")
    with pytest.raises(InputError):
        load_paths(demo_store, paths)
    assert graph_file.read_bytes() == before


# --------------------------------------------------------------------------- the CLI

CLI_CASES = ["utf16-with-bom", "huge-cell", "unterminated-quote", "int-2-to-the-63",
             "id-over-neo4j-index-key-limit", "same-file-twice", "xlsx-huge-dimension",
             "xlsx-formula-without-value", "json-truncated", "json-nan", "json-nested-1000-deep",
             "json-empty-list"]


@pytest.mark.parametrize("name", CLI_CASES)
def test_pathways_load_refuses_bad_input_with_a_message_and_exit_1(
        name, tmp_path, monkeypatch, capsys):
    case = BY_NAME[name]
    home = tmp_path / "home"
    monkeypatch.setenv("PATHWAYS_HOME", str(home))
    monkeypatch.setenv("PATHWAYS_STORE", "embedded")
    for key, value in case.env.items():
        monkeypatch.setenv(key, value)
    runner = CliRunner()
    assert runner.invoke(cli, ["demo"]).exit_code == 0
    before = graph_hash(EmbeddedStore(home / "graph.json"))
    paths = [str(p) for p in case.build(tmp_path / "input")]

    result = runner.invoke(cli, ["load", *paths])
    assert result.exit_code == 1
    assert isinstance(result.exception, InputError), repr(result.exception)
    assert "Traceback" not in result.output

    with pytest.raises(SystemExit) as exited:  # what a person at a terminal sees
        main(["load", *paths])
    assert exited.value.code == 1
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    assert "\nError: " in "\n" + err and "nothing was written" in err
    shown = [line.strip() for line in err.splitlines()]
    for expect in case.expect:
        assert any(expect.file in line and expect.phrase.lower() in line.lower()
                   for line in shown), (expect, err)
    assert not missing(case.expect, result.exception.problems)
    assert graph_hash(EmbeddedStore(home / "graph.json")) == before
