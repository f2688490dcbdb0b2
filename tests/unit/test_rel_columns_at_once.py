"""Relationship chunks without properties read a column at a time (``plain_rel_columns``)
and checked without a dict per row (``StreamCheck._add_valid_columns``): the same problems,
rejected rows, records in the same order and the same content hashes as the row loop.

The row loop is the reference: each test runs the check with both chunk paths switched off
too and compares everything it hands on.
"""

from __future__ import annotations

import random

import pytest

import loaders.living_db as living_db
import loaders.living_stream as stream
from benchmarks.generate import generate, write
from loaders.files import RawRows
from loaders.living_db import (
    PlainRels,
    StreamCheck,
    content_hash,
    parse_table,
    plain_rel_columns,
)
from loaders.living_stream import check_paths
from pathways.errors import InputError, Problem
from pathways.model import CONTENT_HASH, NodeKind, RelRecord
from tests.bad_input_cases import CASES
from tests.conftest import write_folder

LIVING_CASES = [c for c in CASES if not c.name.startswith(("json", "oruk", "hsds"))]


@pytest.fixture(autouse=True)
def stream_everything(monkeypatch):
    monkeypatch.setattr(stream, "STREAM_FROM_BYTES", 0)


def as_records(rels: PlainRels) -> list[RelRecord]:
    return [RelRecord(rel, src, dst, {"source": rels.file, "source_id": f"{src}|{rel.value}|{dst}",
                                      CONTENT_HASH: digest}, rels.file, row)
            for rel, src, dst, digest, row in zip(rels.types, rels.sources, rels.targets,
                                                  rels.hashes, rels.rows, strict=True)]


def checked(paths, lookup=lambda ids: {}, localities=(), chunk_rows=1000, *, row_loop,
            monkeypatch, runs=True):
    """Everything the check says and hands on (records with their props' key order),
    the chunk paths on or off; and how many chunks went as columns."""
    handed: list = []
    as_columns: list[int] = []

    def on_plain(rels: PlainRels) -> None:
        handed.extend(as_records(rels))

    def sink():
        handed.clear()
        return (handed.append, handed.append, on_plain) if runs else (handed.append,
                                                                      handed.append)
    real_columns = living_db.plain_rel_columns

    def watched(raw):
        found = real_columns(raw)
        if found is not None:
            as_columns.append(len(found.numbers))
        return found
    with monkeypatch.context() as patched:
        patched.setattr(living_db, "plain_rel_columns", watched)
        if row_loop:
            patched.setattr(StreamCheck, "_add_valid_columns",
                            lambda check, _numbers, _types, srcs, dsts, *_args:
                            check._kinds_of_ends(srcs, dsts))
        try:
            got = check_paths(paths, lookup, localities, chunk_rows=chunk_rows, sink=sink)
        except InputError as exc:
            return ("refused", exc.problems), as_columns
    records = [(record, list(record.props.items())) for record in handed]
    return (got.problems, got.rejected, got.not_placed, got.nodes, got.rels, records), as_columns


@pytest.mark.parametrize("chunk_rows", [7, 20_000])
def test_a_generated_partnership_goes_as_columns_and_gives_the_row_loops_records(
        tmp_path, monkeypatch, chunk_rows):
    folder = tmp_path / "synthetic"
    write(generate(3000), folder)  # REFERS_TO rows with properties among plain ones
    at_once, columns = checked([folder], chunk_rows=chunk_rows, row_loop=False,
                               monkeypatch=monkeypatch)
    row_by_row, _ = checked([folder], chunk_rows=chunk_rows, row_loop=True,
                            monkeypatch=monkeypatch)
    without_runs, _ = checked([folder], chunk_rows=chunk_rows, row_loop=False,
                              monkeypatch=monkeypatch, runs=False)
    assert at_once == row_by_row == without_runs
    problems, _rejected, _not_placed, _nodes, rels, _records = at_once
    assert not problems and rels > 10_000
    if chunk_rows == 7:  # one chunk of 20,000 holds REFERS_TO rows with properties
        assert sum(columns) > 0.5 * rels  # most chunks went as columns


RELS_HEADER = ["source_id", "type", "target_id", "method", "self_referral",
               "typical_wait_days", "notes"]
AWKWARD_CELLS = {
    "source_id": ["", " ", "nobody", "lw-1", " lw-2 ", "org-1"],
    "type": ["", "refers to", "REFERS TO", "Refers_To", "WORKS_FOR", "OFFERS", "nonsense"],
    "target_id": ["", "org-1", "org-2 ", "lw-1", "ghost"],
    "method": ["", "phone", "Phone", "carrier pigeon"],
    "self_referral": ["", "yes", "maybe"],
    "typical_wait_days": ["", "3", "-2"],
    "notes": ["", "a note", "  "],
}


def base_folder(tmp_path, rel_rows, header=RELS_HEADER):
    return write_folder(tmp_path / "db", {
        "people": [["id", "name", "role"], ["lw-1", "Lee", "link_worker"],
                   ["lw-2", "Sam", "link_worker"]],
        "organisations": [["id", "name", "kind"], ["org-1", "Arts Centre", "cultural"],
                          ["org-2", "Library", "council"], ["org-1", "Again", "council"]],
        "relationships": [header, *rel_rows],
    })


def clean_rows(count, chance):
    ends = [("lw-1", "WORKS_FOR", "org-1"), ("lw-2", "WORKS_FOR", "org-2"),
            ("lw-1", "REFERS_TO", "org-2"), ("lw-2", "REFERS_TO", "org-1"),
            ("lw-1", "WORKS_FOR", "org-2"), ("lw-2", "REFERS_TO", "org-2")]
    return [[*chance.choice(ends), "", "", "", ""] for _ in range(count)]


@pytest.mark.parametrize("seed", range(20))
@pytest.mark.parametrize("rate", [0.002, 0.05, 0.3])
def test_mutated_relationship_rows_give_the_row_loops_report(tmp_path, monkeypatch, seed, rate):
    chance = random.Random(seed)
    rows = clean_rows(60, chance)  # duplicates among them: the check says where first seen
    for row in rows:
        for at, name in enumerate(RELS_HEADER):
            if chance.random() < rate:
                row[at] = chance.choice(AWKWARD_CELLS[name])
        if chance.random() < rate / 3:
            row[:] = row[:-1] if chance.random() < 0.5 else [*row, chance.choice(["", "x"])]
    folder = base_folder(tmp_path, rows)
    at_once, _ = checked([folder], chunk_rows=5, row_loop=False, monkeypatch=monkeypatch)
    row_by_row, _ = checked([folder], chunk_rows=5, row_loop=True, monkeypatch=monkeypatch)
    assert at_once == row_by_row


def test_distinct_valid_rows_go_as_columns_and_write_what_the_row_loop_writes(tmp_path,
                                                                              monkeypatch):
    rows = [["lw-1", "WORKS_FOR", "org-1", "", "", "", ""],
            ["lw-2", "WORKS_FOR", "org-2", " ", "", "", ""],
            [" lw-1", "REFERS_TO ", "org-2", "", "", "", ""]]
    folder = base_folder(tmp_path, rows)
    at_once, columns = checked([folder], row_loop=False, monkeypatch=monkeypatch)
    row_by_row, _ = checked([folder], row_loop=True, monkeypatch=monkeypatch)
    assert at_once == row_by_row and columns == [3]
    assert at_once[4] == 3 and [p.reason for p in at_once[0]] == [
        "duplicate id 'org-1', first at organisations.csv, row 2"]


def chunk(header, rows, **extra):
    return RawRows("relationships", "relationships.csv", header,
                   [(n, r) for n, r in enumerate(rows, 2)], **{"check_chars": False, **extra})


@pytest.mark.parametrize(("header", "rows"), [
    (["source_id", "type", "target_id", "surprise"], [["a", "OFFERS", "b", ""]]),
    (["source_id", "type", "target_id", "type"], [["a", "OFFERS", "b", "OFFERS"]]),
    (["source_id", "target_id"], [["a", "b"]]),
    (["source_id", "type", "target_id", ""], [["a", "OFFERS", "b", ""]]),
    (RELS_HEADER, [["a", "OFFERS", "b", "", "", "", "note"]]),
    (RELS_HEADER, [["a", "OFFERS", "b", "", "", ""]]),
    (RELS_HEADER, [["a", "OFFERS", "b", "", "", "", "", ""]]),
    (RELS_HEADER, [["a", "offers", "b", "", "", "", ""]]),
    (RELS_HEADER, [["a", "OFFERS", " ", "", "", "", ""]]),
    (RELS_HEADER, []),
])
def test_chunks_the_columns_cannot_take_go_to_parse_table(header, rows):
    assert plain_rel_columns(chunk(header, rows)) is None


def test_columns_are_what_parse_table_reads_in_any_column_order():
    header = ["notes", "target_id", "type", "source_id"]
    rows = [["", " b", "OFFERS", "a "], ["  ", "c", "LOCATED_IN", "d"]]
    columns = plain_rel_columns(chunk(header, rows))
    parsed, problems = parse_table(chunk(header, rows))
    assert not problems and columns is not None
    assert list(zip(columns.numbers, columns.types, columns.sources, columns.targets,
                    strict=True)) == [(n, v["type"], v["source_id"], v["target_id"])
                                      for n, v in parsed]
    assert all(len(v) == 3 for _n, v in parsed)


def test_rows_read_with_problems_or_characters_to_check_are_left_to_parse_table():
    rows = [["a", "OFFERS", "b"]]
    header = ["source_id", "type", "target_id"]
    assert plain_rel_columns(chunk(header, rows)) is not None
    assert plain_rel_columns(chunk(header, rows, check_chars=True)) is None
    trouble = [Problem("relationships.csv", 2, "", "unreadable")]
    assert plain_rel_columns(chunk(header, rows, problems=trouble)) is None


ODD = ["a", "\x7f", "\u2028", "\u00e9", "\U0001f600", "%s", "%%", "<&>", "'", "/", "\ufeff",
       "a\x1fb", 'q"', "b\\s", "\x00", "\t", ""]


def test_plain_hashes_are_content_hash_of_the_row_whatever_the_ids():
    for src in ODD:
        types, srcs, dsts = ["OFFERS"] * len(ODD), [src] * len(ODD), list(ODD)
        expected = [content_hash({"source_id": src, "type": "OFFERS", "target_id": dst})
                    for dst in ODD]
        assert living_db._plain_rel_hashes(types, srcs, dsts) == expected  # a chunk
        for dst, digest in zip(ODD, expected, strict=True):  # each pair alone
            assert living_db._plain_rel_hashes(["OFFERS"], [src], [dst]) == [digest]


@pytest.mark.parametrize("chunk_rows", [2, 1000])
@pytest.mark.parametrize("case", LIVING_CASES, ids=[c.name for c in LIVING_CASES])
def test_the_bad_input_corpus_gives_the_row_loops_report_and_records(
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
    at_once, _ = checked(*args, row_loop=False, monkeypatch=monkeypatch)
    row_by_row, _ = checked(*args, row_loop=True, monkeypatch=monkeypatch)
    assert at_once == row_by_row
