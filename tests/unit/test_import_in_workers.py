"""``--import``'s check in worker processes (issue 18 item 4): the relationship rows of a
first load are checked in forked workers (``loaders.living_stream.
check_first_load_in_workers``), each writing its share of neo4j-admin's files.  What users
see must not change: the same files (rows) as the check in one process, and for bad input
the same refusal, every problem in order, nothing left behind.  Chunks are small and every
file but the localities is "large" here (each worker reads its own byte range of it), so
that rows, duplicates and references cross chunk, range and worker boundaries.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

import loaders.living_stream as stream
import pathways.processes as processes
from benchmarks.generate import generate, write
from loaders.living_stream import check_first_load_in_workers
from pathways.errors import InputError, Neo4jRuntimeError
from pathways.loading import detect
from pathways.neo4j_runtime.bulk import ImportWriter, prepare_import
from tests.bad_input_cases import CASES

NOW = "2026-11-30T20:00:00+00:00"
LIVING_CASES = [c for c in CASES if not c.name.startswith(("json", "oruk", "hsds"))]

pytestmark = pytest.mark.skipif(not stream.can_fork(), reason="workers are forked (Linux)")


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch):
    monkeypatch.setattr(stream, "STREAM_FROM_BYTES", 0)
    monkeypatch.setattr(stream, "CHUNK_ROWS", 7)


def outcome(paths, folder: Path, workers: int):
    """What ``prepare_import`` gives: the problems in order, or each file's rows."""
    try:
        files = prepare_import(paths, folder, NOW, workers=workers)
    except InputError as refused:
        left = sorted(p.name for p in folder.iterdir()) if folder.exists() else []
        return "refused", [(p.file, p.row, p.column, p.reason) for p in refused.problems], left
    except Neo4jRuntimeError as refused:
        return "refused", str(refused)
    return "files", files.rows, [(path.name, rows_of(path)) for path in  # in order too
                                 [*files.nodes.values(), *files.relationships.values()]]


def rows_of(path: Path) -> list[tuple]:
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        return [tuple(next(reader))] + sorted(tuple(row) for row in reader)


@pytest.fixture
def partnership(tmp_path) -> Path:
    folder = tmp_path / "synthetic"
    write(generate(400), folder)
    return folder


def test_workers_write_the_files_one_process_writes(partnership, tmp_path):
    one = outcome([partnership], tmp_path / "one", workers=1)
    two = outcome([partnership], tmp_path / "two", workers=2)
    assert one[0] == "files" and one[1] > 2000
    assert two == one
    assert sorted(p.name for p in (tmp_path / "two").iterdir()) == sorted(
        name for name, _rows in one[2])  # no parts left


def test_each_worker_checks_a_share_of_the_nodes_and_relationships(partnership, tmp_path):
    class Counting:
        def __init__(self, index):
            self.index, self.nodes, self.rels = index, 0, 0

        def node(self, _record):
            self.nodes += 1

        def rel(self, _record):
            self.rels += 1

        def close(self):
            return self.index, self.nodes, self.rels

    placed = []
    found = check_first_load_in_workers([partnership], placed.append, Counting, workers=3)
    assert found is not None
    checked, parts = found
    rels = sum(1 for _ in (partnership / "relationships.csv").open(encoding="utf-8")) - 1
    assert sorted(index for index, _n, _r in parts) == [0, 1, 2]
    assert sum(n for _i, n, _r in parts) == checked.nodes == 400
    assert all(n > 400 / 6 and r > rels / 6 for _i, n, r in parts)
    assert sum(r for _i, _n, r in parts) + len(placed) == checked.rels >= rels


def test_a_duplicate_id_in_two_files_is_found_by_the_workers(partnership, tmp_path):
    with (partnership / "people.csv").open(encoding="utf-8", newline="") as handle:
        header, *rows = list(csv.reader(handle))
    with (partnership / "services.csv").open(encoding="utf-8", newline="") as handle:
        service_header = next(csv.reader(handle))
    clash = rows[-1][header.index("id")]
    with (partnership / "services.csv").open("a", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerow([clash if c == "id" else "A service" if c == "name" else ""
                                     for c in service_header])
    assert check_first_load_in_workers([partnership], lambda r: None,
                                       lambda i: ImportWriter(tmp_path / f"w{i}", NOW)) is None
    two = outcome([partnership], tmp_path / "two", workers=2)
    assert two == outcome([partnership], tmp_path / "one", workers=1)
    assert [(file, column) for file, _row, column, _reason in two[1]] == [("services.csv", "id")]
    assert f"duplicate id {clash!r}, first at people.csv, row {len(rows) + 1}" in two[1][0][3]


def duplicate_of_an_early_row(folder: Path, type_spelling: str) -> tuple[int, int]:
    path = folder / "relationships.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    header, first = rows[0], rows[3]
    copy = list(first)
    copy[header.index("type")] = type_spelling
    rows.append(copy)
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return 4, len(rows)


@pytest.mark.parametrize("spelling", ["same", "lower case"])
def test_a_duplicate_far_apart_is_found_by_the_workers_and_reported_in_full(
        partnership, tmp_path, spelling):
    path = partnership / "relationships.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        early_type = list(csv.reader(handle))[3][1]
    first, duplicate = duplicate_of_an_early_row(
        partnership, early_type if spelling == "same" else early_type.lower().replace("_", " "))
    # the workers see it (every copy of a relationship meets the same worker) ...
    assert check_first_load_in_workers([partnership], lambda r: None,
                                       lambda i: ImportWriter(tmp_path / f"w{i}", NOW)) is None
    # ... and the report is the one-process check's, with where it was first seen
    two = outcome([partnership], tmp_path / "two", workers=2)
    assert two == outcome([partnership], tmp_path / "one", workers=1)
    assert two[1] == [("relationships.csv", duplicate, "",
                       f"duplicate relationship, first at relationships.csv, row {first}")]
    assert two[2] == []


def test_a_worker_that_fails_leaves_the_decision_to_one_process(partnership, tmp_path):
    class Broken:
        def __init__(self, index):
            self.index = index

        def node(self, _record):
            pass

        def rel(self, _record):
            if self.index == 1:
                raise RuntimeError("disk full")

        def close(self):
            return None

    assert check_first_load_in_workers([partnership], lambda r: None, Broken) is None


@pytest.mark.parametrize("case", LIVING_CASES, ids=[c.name for c in LIVING_CASES])
def test_workers_refuse_the_bad_input_corpus_as_one_process_does(case, tmp_path, monkeypatch):
    for name, value in case.env.items():
        monkeypatch.setenv(name, value)
    paths = case.build(tmp_path / "input")
    try:
        if detect(paths, None) != "living-db":
            return
    except InputError:
        return
    two = outcome(paths, tmp_path / "two", workers=2)
    assert two == outcome(paths, tmp_path / "one", workers=1)
    if two[0] == "refused" and len(two) == 3:  # (some cases are wrong only against the demo)
        assert two[1] and two[2] == [], case.name


def test_rows_written_from_a_plan_are_the_rows_written_property_by_property(tmp_path):
    from pathways.neo4j_runtime.bulk import _ImportTable

    rows = [
        {"name": "Open studio", "age_min": 16, "free": True, "tags": ["art", "calm"]},
        {"name": "Walk", "age_min": 18, "free": False, "tags": ["outdoors"]},  # same plan
        {"name": "Choir", "age_min": None, "free": True, "tags": []},  # None: an empty cell
        {"name": "Line one\nline two", "age_min": 3, "free": True, "tags": ["x"]},  # multiline
        {"free": False, "name": "Order differs", "latitude": 53.72},
        {"name": "Late column", "age_min": 1, "free": True, "tags": ["y"], "extra": "new"},
        {"name": "Walk again", "age_min": 20, "free": False, "tags": ["z"]},
        {"name": "Walk twice", "age_min": 21, "free": True, "tags": ["q"]},  # a plan after it
    ]
    planned = _ImportTable(tmp_path / "planned.csv", ["id:ID"], ["name", "age_min", "free"])
    slow = _ImportTable(tmp_path / "slow.csv", ["id:ID"], ["name", "age_min", "free"])
    for number, props in enumerate(rows):
        planned.write([f"n{number}"], props)
        slow._write_slowly([f"n{number}"], props)
    assert planned._plans, "no row was written from a plan"
    planned.finish()
    slow.finish()
    assert (tmp_path / "planned.csv").read_bytes() == (tmp_path / "slow.csv").read_bytes()
    assert planned.multiline and slow.multiline
    with (tmp_path / "planned.csv").open(encoding="utf-8", newline="") as handle:
        got = list(csv.DictReader(handle))
    assert got[0]["tags:string[]"] == "art;calm" and got[0]["free:boolean"] == "true"
    assert got[2]["age_min:long"] == "" and got[3]["name:string"] == "Line one\nline two"
    assert got[5]["extra:string"] == "new" and got[6]["extra:string"] == ""


def test_a_duplicate_id_far_apart_in_one_large_file_is_found(partnership, tmp_path):
    """The first and the last row of a file are read by different workers (each its own
    range of the file): the ids they accepted are compared."""
    path = partnership / "activities.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    copy = list(rows[1])
    copy[rows[0].index("name")] = "Another name"
    rows.append(copy)
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    assert check_first_load_in_workers([partnership], lambda r: None,
                                       lambda i: ImportWriter(tmp_path / f"w{i}", NOW)) is None
    two = outcome([partnership], tmp_path / "two", workers=2)
    assert two == outcome([partnership], tmp_path / "one", workers=1)
    assert two[1] == [("activities.csv", len(rows), "id",
                       f"duplicate id {copy[0]!r}, first at activities.csv, row 2")]


@pytest.mark.parametrize("where", ["early", "late"])
def test_a_line_break_in_a_quoted_cell_gives_the_files_one_process_gives(
        partnership, tmp_path, where):
    """Rows are numbered by the lines before a worker's range; a cell holding a line break
    makes that count wrong, so the workers give up (or the break is past every split)."""
    path = partnership / "relationships.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    at = 5 if where == "early" else len(rows) - 2
    rows[at][rows[0].index("notes")] = "first line\nsecond line, with a comma"
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    one = outcome([partnership], tmp_path / "one", workers=1)
    assert one[0] == "files"
    assert outcome([partnership], tmp_path / "two", workers=2) == one
    found = check_first_load_in_workers([partnership], lambda r: None,
                                        lambda i: ImportWriter(tmp_path / f"w{i}", NOW))
    assert (found is None) == (where == "early")


def test_windows_line_ends_and_a_byte_order_mark_are_read_in_ranges(partnership, tmp_path):
    for name in ("activities.csv", "relationships.csv"):
        path = partnership / name
        text = path.read_text(encoding="utf-8")
        path.write_bytes("\ufeff".encode() + text.replace("\n", "\r\n").encode())
    one = outcome([partnership], tmp_path / "one", workers=1)
    assert one[0] == "files"
    assert check_first_load_in_workers([partnership], lambda r: None,
                                       lambda i: ImportWriter(tmp_path / f"w{i}", NOW),
                                       workers=3) is not None
    assert outcome([partnership], tmp_path / "two", workers=3) == one


def test_a_line_ended_by_a_carriage_return_alone_leaves_it_to_one_process(partnership,
                                                                           tmp_path):
    path = partnership / "relationships.csv"
    lines = path.read_bytes().split(b"\n")
    lines[3] = lines[3] + b"\r" + lines[4]  # two rows on one "line" (an old Mac line end)
    del lines[4]
    path.write_bytes(b"\n".join(lines))
    one = outcome([partnership], tmp_path / "one", workers=1)
    assert one[0] == "files"
    assert check_first_load_in_workers([partnership], lambda r: None,
                                       lambda i: ImportWriter(tmp_path / f"w{i}", NOW)) is None
    assert outcome([partnership], tmp_path / "two", workers=2) == one


def samples(*busy: float, cores: int = 2):
    """/proc/stat's (all, idle) ticks a moment apart, with ``busy`` cores in use."""
    ticks = iter([(1000, 400), (1000 + 100 * cores, 400 + int(100 * (cores - busy[0])))])
    return lambda: next(ticks)


@pytest.mark.parametrize(("cores", "busy", "workers"), [
    (2, 0.1, 2),  # an idle 2-core box: both cores
    (2, 1.0, 1),  # one core busy: workers would only add their overhead
    (2, 2.0, 1),  # a shared box
    (16, 0.5, 4),  # many idle cores: at most CHECK_WORKERS
    (1, 0.0, 1),
])
def test_workers_are_used_only_where_cores_are_idle_now(monkeypatch, cores, busy, workers):
    monkeypatch.setattr(stream.os, "cpu_count", lambda: cores)
    monkeypatch.setattr(stream, "_cores_here", lambda: cores)
    monkeypatch.setattr(processes, "_cpu_times", samples(busy, cores=cores))
    monkeypatch.setattr(stream.os, "getloadavg", lambda: (9.0, 9.0, 9.0))  # a minute ago
    monkeypatch.setattr(processes.time, "sleep", lambda _s: None)
    assert stream.check_workers() == workers


@pytest.mark.parametrize(("cores", "load", "workers"), [(2, 0.1, 2), (2, 1.2, 1), (16, 0.5, 4)])
def test_without_proc_stat_the_load_average_decides(monkeypatch, cores, load, workers):
    monkeypatch.setattr(stream.os, "cpu_count", lambda: cores)
    monkeypatch.setattr(stream, "_cores_here", lambda: cores)
    monkeypatch.setattr(processes, "_cpu_times", lambda: None)
    monkeypatch.setattr(stream.os, "getloadavg", lambda: (load, load, load))
    assert stream.check_workers() == workers


def test_idle_cores_are_measured_here():
    idle = processes.idle_cores(0.05)
    assert idle is not None and 0 <= idle <= (stream.os.cpu_count() or 1) + 0.01
