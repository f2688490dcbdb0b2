"""Relationship rows checked a chunk at a time (``StreamCheck._add_valid_rels``) and written
a run at a time (``ImportWriter.plain_rels``): the same problems, the same records in the
same order and the same importer bytes as the row-by-row loop and ``ImportWriter.rel``.

The row loop is the reference: each test runs the check with the chunk path switched off
too and compares everything it hands on.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import loaders.living_stream as stream
from benchmarks.generate import generate, write
from loaders.living_db import PlainRels, StreamCheck
from loaders.living_stream import check_paths
from pathways.errors import InputError
from pathways.model import CONTENT_HASH, NodeKind, RelRecord, RelType
from pathways.neo4j_runtime.bulk import ImportWriter
from tests.bad_input_cases import CASES
from tests.conftest import write_folder

NOW = "2026-12-01T19:00:00+00:00"
LIVING_CASES = [c for c in CASES if not c.name.startswith(("json", "oruk", "hsds"))]


@pytest.fixture(autouse=True)
def stream_everything(monkeypatch):
    monkeypatch.setattr(stream, "STREAM_FROM_BYTES", 0)


def as_records(rels: PlainRels) -> list[RelRecord]:
    """What ``on_rel`` would have been given for each row of a run."""
    return [RelRecord(rel, src, dst, {"source": rels.file, "source_id": f"{src}|{rel.value}|{dst}",
                                      CONTENT_HASH: digest}, rels.file, row)
            for rel, src, dst, digest, row in zip(rels.types, rels.sources, rels.targets,
                                                  rels.hashes, rels.rows, strict=True)]


def checked(paths, lookup, localities, chunk_rows, *, row_loop, monkeypatch, runs=True):
    """Everything the check says and hands on, the chunk path on or off."""
    handed: list = []
    plain_runs: list[int] = []

    def on_plain(rels: PlainRels) -> None:
        plain_runs.append(len(rels.rows))
        handed.extend(as_records(rels))

    def sink():
        handed.clear()
        return (handed.append, handed.append, on_plain) if runs else (handed.append,
                                                                      handed.append)
    with monkeypatch.context() as patched:
        if row_loop:
            patched.setattr(StreamCheck, "_add_valid_rels",
                            lambda check, rows, *_args: check._endpoint_kinds(rows))
        try:
            got = check_paths(paths, lookup, localities, chunk_rows=chunk_rows, sink=sink)
        except InputError as exc:
            return ("refused", exc.problems), plain_runs
    return (got.problems, got.rejected, got.not_placed, got.nodes, got.rels, handed), plain_runs


@pytest.mark.parametrize("chunk_rows", [2, 1000])
@pytest.mark.parametrize("case", LIVING_CASES, ids=[c.name for c in LIVING_CASES])
def test_a_chunk_checked_at_once_gives_what_the_row_loop_gives_on_the_bad_input_corpus(
        case, chunk_rows, embedded_store, demo_dir, tmp_path, monkeypatch):
    from pathways.loading import load_paths

    load_paths(embedded_store, [demo_dir])
    for name, value in case.env.items():
        monkeypatch.setenv(name, value)
    if case.setup is not None:
        case.setup(embedded_store, tmp_path)
    paths = case.build(tmp_path / "input")
    args = (paths, embedded_store.existing_kinds, embedded_store.list_nodes(NodeKind.LOCALITY),
            chunk_rows)
    at_once, _runs = checked(*args, row_loop=False, monkeypatch=monkeypatch)
    row_by_row, none = checked(*args, row_loop=True, monkeypatch=monkeypatch)
    assert at_once == row_by_row  # problems in order, rejected rows, records in order
    assert none == []


@pytest.mark.parametrize("chunk_rows", [7, 20_000])
def test_a_generated_partnership_gives_the_same_records_in_the_same_order(
        tmp_path, monkeypatch, chunk_rows):
    folder = tmp_path / "synthetic"
    write(generate(3000), folder)  # REFERS_TO rows with properties among plain ones
    args = ([folder], lambda ids: {}, (), chunk_rows)
    at_once, runs = checked(*args, row_loop=False, monkeypatch=monkeypatch)
    row_by_row, none = checked(*args, row_loop=True, monkeypatch=monkeypatch)
    without_runs, _ = checked(*args, row_loop=False, monkeypatch=monkeypatch, runs=False)
    assert at_once == row_by_row == without_runs
    problems, _rejected, _not_placed, _nodes, rels, _handed = at_once
    assert not problems and rels > 10_000
    assert sum(runs) > 0.8 * rels and none == []  # most came in runs


@pytest.mark.parametrize("chunk_rows", [3, 100])
def test_duplicates_inside_one_chunk_and_against_an_earlier_one_say_where_first_seen(
        tmp_path, chunk_rows):
    folder = write_folder(tmp_path / "db", {
        "people": [["id", "name", "role"], ["lw-1", "Lee", "link_worker"],
                   ["lw-2", "Sam", "link_worker"]],
        "organisations": [["id", "name", "kind"], ["org-1", "Arts Centre", "cultural"],
                          ["org-2", "Library", "council"]],
        "relationships": [["source_id", "type", "target_id", "method"],
                          ["lw-1", "REFERS_TO", "org-1", "phone"], ["lw-2", "REFERS_TO", "org-1"],
                          ["lw-1", "WORKS_FOR", "org-2"], ["lw-1", "REFERS_TO", "org-1"],
                          ["lw-2", "WORKS_FOR", "org-2"], ["lw-2", "REFERS_TO", "org-1", "email"]],
    })
    got = check_paths([folder], lambda ids: {}, chunk_rows=chunk_rows)
    assert [(p.file, p.row, p.reason) for p in got.problems] == [
        ("relationships.csv", 5, "duplicate relationship, first at relationships.csv, row 2"),
        ("relationships.csv", 7, "duplicate relationship, first at relationships.csv, row 3"),
    ]
    assert got.rels == 4


CLEAN_IDS = ["plain", "per%cent", "%s", "é"]  # written from the template
AWKWARD_IDS = ["a,comma", 'a"quote', "two\nlines", "cr\rhere"]  # through the csv module


def write_both_ways(tmp_path: Path, file: str, loaded_at: str):
    """The same relationships through ``rel`` one by one and through ``plain_rels`` in runs
    (types interleaved; a relationship with properties between two runs), then the files."""
    def run(names):
        return [rel for name in names for rel in ((RelType.ADDRESSES, f"act-{name}", "need-1"),
                                                  (RelType.OFFERS, "svc-1", f"act-{name}"))]

    clean, awkward = run(CLEAN_IDS), run(AWKWARD_IDS)
    rows_clean = list(range(2, 2 + len(clean)))
    notes_row = 2 + len(clean)
    rows_awkward = list(range(notes_row + 1, notes_row + 1 + len(awkward)))
    with_notes = RelRecord(RelType.ADDRESSES, "act-notes", "need-1",
                           {"notes": "a note", "source": file,
                            "source_id": "act-notes|ADDRESSES|need-1", CONTENT_HASH: "0" * 32},
                           file, notes_row)

    def records(rels, rows):
        return [RelRecord(rel, src, dst, {"source": file, "source_id": f"{src}|{rel.value}|{dst}",
                                          CONTENT_HASH: f"{row:032x}"}, file, row)
                for row, (rel, src, dst) in zip(rows, rels, strict=True)]

    def run_of(rels, rows):
        return PlainRels(file, [r[0] for r in rels], [r[1] for r in rels], [r[2] for r in rels],
                         [f"{row:032x}" for row in rows], rows)

    one_by_one = ImportWriter(tmp_path / "one-by-one", loaded_at)
    in_runs = ImportWriter(tmp_path / "in-runs", loaded_at)
    for record in [*records(clean, rows_clean), with_notes, *records(awkward, rows_awkward)]:
        one_by_one.rel(record)
    in_runs.plain_rels(run_of(clean, rows_clean))
    in_runs.rel(with_notes)
    in_runs.plain_rels(run_of(awkward, rows_awkward))
    return one_by_one.finish(), in_runs.finish()


@pytest.mark.parametrize(("file", "loaded_at"), [("relationships.csv", NOW),
                                                 ("odd %s name.csv", "100%"),
                                                 ("a,comma.csv", NOW)])
def test_runs_are_written_byte_for_byte_as_rel_writes_them(tmp_path, file, loaded_at):
    one_by_one, in_runs = write_both_ways(tmp_path, file, loaded_at)
    assert list(in_runs.relationships) == list(one_by_one.relationships)  # neo4j-admin's order
    assert (in_runs.rows, in_runs.multiline) == (one_by_one.rows, one_by_one.multiline)
    assert in_runs.multiline and in_runs.rows == 2 * (len(CLEAN_IDS) + len(AWKWARD_IDS)) + 1
    for rel_type, path in one_by_one.relationships.items():
        assert in_runs.relationships[rel_type].read_bytes() == path.read_bytes(), rel_type
