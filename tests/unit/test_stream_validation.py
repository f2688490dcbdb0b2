"""Streaming validation (loaders/living_stream.py): chunk by chunk, the same problems.

Large CSV files are read a chunk at a time and checked holding only ids and relationship
digests; here every file is streamed (``STREAM_FROM_BYTES = 0``) in chunks of two rows, so
duplicates, references and refused files cross chunk boundaries.  The answers are compared
with the whole-file route (``read_sources`` then ``plan_load``, as ``pathways load`` read
before) on the bad-input corpus and on a generated partnership, and the importer files
written in the validation pass with the ones written from a plan.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from click.testing import CliRunner

import loaders.living_stream as stream
from benchmarks.generate import generate, write
from loaders.files import read_sources
from loaders.living_db import plan_load
from loaders.living_stream import check_paths
from pathways.cli import cli
from pathways.errors import InputError, Problem
from pathways.loading import detect, plan_for_store
from pathways.model import NodeKind
from pathways.neo4j_runtime.bulk import prepare_import, write_import_files
from pathways.store.embedded import EmbeddedStore
from tests.bad_input_cases import CASE_IDS, CASES
from tests.conftest import write_folder

NOW = "2026-11-30T20:00:00+00:00"


@pytest.fixture(autouse=True)
def stream_everything(monkeypatch):
    monkeypatch.setattr(stream, "STREAM_FROM_BYTES", 0)


def streamed(store, paths, chunk_rows=2, **kwargs):
    return check_paths(paths, store.existing_kinds, store.list_nodes(NodeKind.LOCALITY),
                       chunk_rows=chunk_rows, **kwargs)


def whole_file_plan(store, paths):
    """The check as it was before streaming: every file read whole (``read_sources``), then
    ``plan_load`` over the tables (``pathways load`` until this change)."""
    tables, read_problems = read_sources(paths)
    ids = {v[t.header.index(c)].strip() for t in tables for c in ("id", "source_id", "target_id")
           if c in t.header for _n, v in t.rows if t.header.index(c) < len(v)}
    plan = plan_load(tables, store.existing_kinds({i for i in ids if i and len(i) <= 256}),
                     store.list_nodes(NodeKind.LOCALITY))
    plan.problems = read_problems + plan.problems
    if not plan.problems and not plan.nodes and not plan.rels:
        files = ", ".join(t.file for t in tables) or ", ".join(map(str, paths))
        plan.problems = [Problem(files, 0, "", "nothing to load: the files have a header but no rows")]
    return plan


def where(problems):
    return sorted((p.file, p.row, p.column, p.reason) for p in problems)


LIVING_CASES = [c for c in CASES if not c.name.startswith(("json", "oruk", "hsds"))]


@pytest.mark.parametrize("case", LIVING_CASES, ids=[c.name for c in LIVING_CASES])
def test_streamed_check_finds_the_problems_the_load_finds_on_the_bad_input_corpus(
        case, demo_store, tmp_path, monkeypatch):
    for name, value in case.env.items():
        monkeypatch.setenv(name, value)
    if case.setup is not None:
        case.setup(demo_store, tmp_path)
    paths = case.build(tmp_path / "input")
    try:
        kind = detect(paths, None)
        refusal = None
    except InputError as exc:
        kind, refusal = "refused before its format is known", exc
    if kind != "living-db":  # a feed, or no data file at all: `pathways validate` refuses it
        checked = CliRunner().invoke(cli, ["validate", "--fresh", *map(str, paths)])
        assert checked.exit_code == 1, checked.output
        said = str(checked.exception) + checked.output
        if refusal is not None:  # about the same files the load names
            assert all(Path(str(p.file)).name in said for p in refusal.problems), (refusal, said)
        return
    try:
        whole = whole_file_plan(demo_store, paths)
    except InputError as exc:  # refused before any row is read (a file given twice)
        with pytest.raises(InputError) as again:
            streamed(demo_store, paths)
        assert where(again.value.problems) == where(exc.problems)
        return
    got = streamed(demo_store, paths)
    assert where(got.problems) == where(whole.problems)
    assert got.problems, f"{case}: the corpus case passed the streamed check"
    assert got.rejected == whole.rejected
    assert (got.nodes, got.rels) == (len(whole.nodes), len(whole.rels))


def test_the_corpus_is_all_here():
    assert len(LIVING_CASES) >= 30 and set(CASE_IDS) >= {c.name for c in LIVING_CASES}


def test_duplicates_and_unknown_ids_are_caught_across_chunks_and_files(tmp_path):
    folder = write_folder(tmp_path / "db", {
        "people": [["id", "name", "role"], ["lw-1", "Lee", "link_worker"],
                   ["lw-2", "Sam", "link_worker"], ["lw-3", "Ash", "link_worker"],
                   ["org-1", "Not an org", "link_worker"]],
        "organisations": [["id", "name", "kind"], ["org-1", "Arts Centre", "cultural"],
                          ["org-2", "Library", "council"], ["lw-2", "Twice", "council"]],
        "relationships": [["source_id", "type", "target_id"],
                          ["lw-1", "REFERS_TO", "org-1"], ["lw-1", "REFERS_TO", "org-2"],
                          ["lw-3", "REFERS_TO", "org-2"], ["lw-1", "REFERS_TO", "org-1"],
                          ["lw-2", "REFERS_TO", "nowhere"], ["lw-1", "REFERS_TO", "org-2"]],
    })
    got = check_paths([folder], lambda ids: {}, chunk_rows=2)
    # a folder's files are read in name order: organisations.csv before people.csv
    assert where(got.problems) == [
        ("people.csv", 3, "id", "duplicate id 'lw-2', first at organisations.csv, row 4"),
        ("people.csv", 5, "id", "duplicate id 'org-1', first at organisations.csv, row 2"),
        ("relationships.csv", 5, "", "duplicate relationship, first at relationships.csv, row 2"),
        ("relationships.csv", 6, "target_id", "no node with id 'nowhere' in this load or in the store"),
        ("relationships.csv", 7, "", "duplicate relationship, first at relationships.csv, row 3"),
    ]
    assert (got.nodes, got.rels) == (5, 3)


def test_a_quote_never_closed_late_in_a_file_refuses_that_file_whole(tmp_path):
    folder = write_folder(tmp_path / "db", {
        "people": [["id", "name", "role"], *[[f"lw-{i}", f"Worker {i}", "link_worker"]
                                             for i in range(10)]],
        "organisations": [["id", "name", "kind"], ["org-1", "Arts Centre", "cultural"]],
    })
    with (folder / "people.csv").open("a", encoding="utf-8") as handle:
        handle.write('lw-99,"Never closed,link_worker\nlw-100,Fine,link_worker\n')
    writes = []

    def sink():
        writes.append([])
        return writes[-1].append, writes[-1].append

    got = check_paths([folder], lambda ids: {}, chunk_rows=3, sink=sink)
    whole = whole_file_plan(EmbeddedStore(None), [folder])
    assert where(got.problems) == where(whole.problems)
    assert [(p.file, p.row, p.column) for p in got.problems] == [("people.csv", 12, "name")]
    assert "never closed" in got.problems[0].reason
    # the first pass had checked rows before the quote; the records it sank are forgotten
    assert len(writes) == 2 and [r.id for r in writes[-1]] == ["org-1"]


def test_importer_files_written_in_the_check_are_those_written_from_the_plan(tmp_path):
    folder = tmp_path / "synthetic"
    write(generate(600), folder)
    plan = plan_for_store(EmbeddedStore(None), [folder])
    assert not plan.problems
    from_plan = write_import_files(plan, tmp_path / "from-plan", NOW)
    streamed_files = prepare_import([folder], tmp_path / "streamed", NOW)
    assert streamed_files.rows == from_plan.rows == len(plan.nodes) + len(plan.rels) > 3000
    assert set(streamed_files.nodes) == set(from_plan.nodes)
    assert set(streamed_files.relationships) == set(from_plan.relationships)
    for one, other in [*zip(streamed_files.nodes.values(), from_plan.nodes.values(), strict=True),
                       *zip(streamed_files.relationships.values(),
                            from_plan.relationships.values(), strict=True)]:
        assert rows_of(one) == rows_of(other), one.name
    assert not list((tmp_path / "streamed").glob("*.body"))


def rows_of(path: Path) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as handle:
        return sorted((dict(row) for row in csv.DictReader(handle)), key=lambda r: sorted(r.items()))


def test_prepare_import_leaves_nothing_behind_when_a_row_is_wrong(tmp_path):
    folder = tmp_path / "synthetic"
    write(generate(300), folder)
    with (folder / "relationships.csv").open("a", encoding="utf-8") as handle:
        handle.write("person-lw-0,REFERS_TO,nowhere,phone,,,\n")
    rows = sum(1 for _ in (folder / "relationships.csv").open(encoding="utf-8"))
    with pytest.raises(InputError) as refused:
        prepare_import([folder], tmp_path / "files", NOW)
    assert [(p.file, p.row, p.column) for p in refused.value.problems] == [
        ("relationships.csv", rows, "target_id")]
    assert list((tmp_path / "files").iterdir()) == []


def test_pathways_validate_reports_where_and_why_and_exits_1(tmp_path, monkeypatch):
    monkeypatch.setenv("PATHWAYS_HOME", str(tmp_path / "home"))
    folder = write_folder(tmp_path / "bad", {
        "people": [["id", "name", "role"], ["lw", "Lee Walker", "link_worker"]],
        "services": [["id", "name"], ["svc", "Arts on Prescription"]],
        "relationships": [["source_id", "type", "target_id"],
                          ["lw", "REFERS_TO", "svc"], ["lw", "REFERS_TO", "nowhere"]],
    })
    result = CliRunner().invoke(cli, ["validate", "--fresh", str(folder)])
    assert result.exit_code == 1
    message = str(result.exception) + result.output
    assert "relationships.csv, row 3, column 'target_id'" in message and "nowhere" in message
    (folder / "relationships.csv").write_text("source_id,type,target_id\nlw,REFERS_TO,svc\n",
                                              encoding="utf-8")
    result = CliRunner().invoke(cli, ["validate", "--fresh", str(folder)])
    assert result.exit_code == 0, result.output
    assert "2 nodes and 1 relationships would be loaded" in result.output


def test_pathways_validate_checks_against_the_store_like_load(tmp_path, monkeypatch, demo_dir):
    monkeypatch.setenv("PATHWAYS_HOME", str(tmp_path / "home"))
    runner = CliRunner()
    assert runner.invoke(cli, ["--store", "embedded", "load", str(demo_dir)]).exit_code == 0
    store = EmbeddedStore(tmp_path / "home" / "graph.json")
    person = store.list_nodes(NodeKind.PERSON)[0]["id"]
    folder = write_folder(tmp_path / "clash", {
        "organisations": [["id", "name", "kind"], [person, "Same id as a person", "council"]]})
    result = runner.invoke(cli, ["--store", "embedded", "validate", str(folder)])
    assert result.exit_code == 1
    assert f"id {person!r} is already a Person in the store" in str(result.exception)
    fresh = runner.invoke(cli, ["--store", "embedded", "validate", "--fresh", str(folder)])
    assert fresh.exit_code == 0, fresh.output
