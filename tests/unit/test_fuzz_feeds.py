"""Property-based fuzzing of the ORUK and HSDS 3.0 feed loaders: real records, mutated.

Every example starts from a real feed file (the ORUK test feed in tests/fixtures/oruk, a
slice of a council's published sample and the HSDS 3.0 specification's examples in
../shared/fixtures, when there) and changes it as a directory's export might: fields of the
wrong type, missing, null, nested wrongly, lists where objects belong and objects where
lists belong, odd text, huge numbers, duplicated records.  It is loaded on top of the demo
data in the embedded store.  For any input:

1. the load raises nothing but :class:`~pathways.errors.InputError`, and the CLI shows no
   traceback;
2. every problem names the file, a line in it (or 0 for the whole file), a field of the
   input (or "") and a reason;
3. a refused load leaves the store exactly as it was (also when it is the feed's next
   import, which may retire records); a value of the wrong shape is never written as
   Python's picture of it (a dict or list turned into text).

Hypothesis runs derandomised with no example database; the shrunk inputs of bugs it found
are kept as ``@example`` and run every time.
"""

from __future__ import annotations

import csv
import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pathways.errors import InputError, Problem
from pathways.loading import demo_data_dir, detect, load_feed, load_paths
from pathways.store.embedded import EmbeddedStore
from tests.conftest import SHARED
from tests.unit.test_fuzz_living_db import ODD_TEXT, cli_home, graph, run_cli
from tests.unit.test_fuzz_living_db import Change as CellChange
from tests.unit.test_fuzz_living_db import apply as apply_to_table

ORUK = Path(__file__).parents[1] / "fixtures" / "oruk"
COUNCILS = SHARED / "fixtures" / "oruk-council-sample"
HSDS = SHARED / "fixtures" / "hsds3-spec-examples" / "json"
SENTINEL = "zz-wrongly-nested"  # a key only the mutations write


def _documents() -> dict[str, object]:
    docs: dict[str, object] = {}
    for path in sorted(ORUK.glob("*.json")):
        text = path.read_text(encoding="utf-8")
        try:
            docs[f"oruk/{path.name}"] = json.loads(text)
        except json.JSONDecodeError:  # two pages in one file: keep the first
            docs[f"oruk/{path.name}"] = json.JSONDecoder().raw_decode(text)[0]
    for path in sorted(COUNCILS.glob("*.json")):  # a few real services of each council
        whole = json.loads(path.read_text(encoding="utf-8"))
        items = whole.get("content", whole) if isinstance(whole, dict) else whole
        docs[f"council/{path.name}"] = items[:4]
    for path in sorted(HSDS.glob("*.json")):
        docs[f"hsds/{path.name}"] = json.loads(path.read_text(encoding="utf-8"))
    return docs


DOCUMENTS = _documents()
DOC_NAMES = sorted(DOCUMENTS)

WRONG: list[object] = [
    None, 0, -1, 1.5, 2**70, -(2**70), True, False, "", " ", "\x00", "\u200b", "x" * 40_000,
    "=HYPERLINK(\"x\")", "Zoë 🙂", "2026-02-30", "NaN", [], {}, [None], [[]], [{}], [""],
    {"id": None}, {SENTINEL: "v"}, [{SENTINEL: 1}], {"id": "1", "name": {SENTINEL: 2}},
    "null", "101", 101,
]
VALUES = st.one_of(st.sampled_from(WRONG), st.text(max_size=10),
                   st.integers(-10**20, 10**20), st.floats(allow_nan=False, allow_infinity=False))
OPS = ["replace", "replace", "replace", "delete", "wrap", "unwrap", "duplicate", "rename",
       "nest"]


@dataclass(frozen=True)
class Change:
    """One change at the ``at``-th place (modulo the places there are then) of the document."""

    op: str
    at: int
    value: object = None


@dataclass(frozen=True)
class Feed:
    document: str
    changes: tuple[Change, ...]
    indent: int | None = 2
    encoding: str = "utf-8"
    raw_edit: tuple[int, str] | None = None  # (at, text) inserted in the written text

    def data(self) -> object:
        doc = json.loads(json.dumps(DOCUMENTS[self.document]))
        for change in self.changes:
            doc = apply(doc, change)
        return doc

    def write(self, folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / Path(self.document).name
        text = json.dumps(self.data(), indent=self.indent, ensure_ascii=False)
        if self.raw_edit is not None:
            at = self.raw_edit[0] % (len(text) + 1)
            text = text[:at] + self.raw_edit[1] + text[at:]
        path.write_bytes(text.encode(self.encoding, "replace"))
        return path


def places(doc: object, at: tuple = ()) -> list[tuple]:
    """Every path to a value inside ``doc`` (the document itself is ``()``)."""
    found = [at]
    if isinstance(doc, dict):
        for key, value in doc.items():
            found += places(value, (*at, key))
    elif isinstance(doc, list):
        for index, value in enumerate(doc):
            found += places(value, (*at, index))
    return found


def apply(doc: object, change: Change) -> object:
    inner = places(doc)[1:]
    if not inner:
        return doc
    path = inner[change.at % len(inner)]
    parent = doc
    for step in path[:-1]:
        parent = parent[step]  # type: ignore[index]
    last = path[-1]
    old = parent[last]  # type: ignore[index]
    if change.op == "delete":
        del parent[last]  # type: ignore[attr-defined]
    elif change.op == "wrap":
        parent[last] = [old]  # type: ignore[index]
    elif change.op == "unwrap":
        parent[last] = (old[0] if isinstance(old, list) and old  # type: ignore[index]
                        else next(iter(old.values()), None) if isinstance(old, dict) and old
                        else old)
    elif change.op == "duplicate" and isinstance(parent, list):
        parent.insert(last, json.loads(json.dumps(old)))
    elif change.op == "rename" and isinstance(parent, dict):
        parent[f"{last}_"] = parent.pop(last)
    elif change.op == "nest":
        parent[last] = {SENTINEL: old}  # type: ignore[index]
    else:
        parent[last] = change.value  # type: ignore[index]
    return doc


@st.composite
def feeds(draw) -> Feed:
    changes = draw(st.lists(st.builds(Change, st.sampled_from(OPS), st.integers(0, 10**5),
                                      VALUES), min_size=1, max_size=4))
    raw_edit = None
    if draw(st.integers(0, 4)) == 0:  # a stray character mid-file
        raw_edit = (draw(st.integers(0, 10**6)),
                    draw(st.sampled_from(['"', ",", "}", "]", "\x00", "\ufeff", "\n", "NaN"])))
    return Feed(draw(st.sampled_from(DOC_NAMES)), tuple(changes),
                draw(st.sampled_from([None, 2])),
                draw(st.sampled_from(["utf-8", "utf-8", "utf-8-sig", "cp1252", "utf-16"])),
                raw_edit)


# --------------------------------------------------------------------------- checking


def keys(doc: object) -> set[str]:
    if isinstance(doc, dict):
        return set(map(str, doc)) | {k for v in doc.values() for k in keys(v)}
    if isinstance(doc, list):
        return {k for v in doc for k in keys(v)}
    return set()


def check_problems(problems: list[Problem], path: Path, data: object) -> None:
    """Property 2: each problem says where (the file, a line of it, a field of it) and why."""
    lines = max(len(path.read_bytes().decode("latin-1").splitlines()), 1)
    fields = keys(data)
    for problem in problems:
        assert problem.reason.strip(), problem
        assert Path(problem.file).name == path.name, f"{problem}: names no file given"
        assert 0 <= problem.row <= lines, f"{problem}: the file has {lines} lines"
        absent = any(w in problem.reason for w in ("has no", "missing", "without"))  # needed
        assert problem.column == "" or problem.column in fields or absent, (
            f"{problem}: no such field in the input")


def demo_store() -> EmbeddedStore:
    store = EmbeddedStore(None)
    load_paths(store, [demo_data_dir()])
    return store


FUZZ = settings(derandomize=True, database=None, deadline=None, max_examples=200,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@FUZZ
@given(feeds())
def test_a_mutated_feed_is_loaded_or_refused_with_where_and_why(feed):
    with tempfile.TemporaryDirectory() as tmp:
        path = feed.write(Path(tmp))
        store = demo_store()
        loaded_or_refused(store, path, feed, lambda: load_feed(
            store, [path], detect([path], None), report=Path(tmp) / "quality.csv"))


def loaded_or_refused(store, path: Path, feed, load) -> None:
    """``load()`` of the mutated ``feed`` at ``path`` into ``store``: refused with problems
    that say where and why and the store as it was, or loaded with its read problems said
    and no wrongly nested value stored as text."""
    before = graph(store)
    try:
        result = load()
    except InputError as exc:
        assert exc.problems, "refused without a problem"
        check_problems(exc.problems, path, feed.data())
        assert graph(store) == before, "a refused load changed the store"
        return
    assert result.quality is not None
    check_problems(result.quality.read_problems, path, feed.data())
    assert SENTINEL.encode() not in graph(store), "a wrongly nested value was stored as text"


@settings(FUZZ, max_examples=60)
@given(feeds(), st.booleans())
def test_a_mutated_next_import_of_a_feed_is_loaded_or_refused_leaving_the_last_one(
        feed, remove_missing):
    """The real file loaded first, then the mutated one as the feed's next import (same file
    name: records it no longer has are marked, or with ``remove_missing`` deleted)."""
    with tempfile.TemporaryDirectory() as tmp:
        first = Feed(feed.document, ()).write(Path(tmp) / "first")
        path = feed.write(Path(tmp) / "next")
        store = demo_store()
        try:
            load_feed(store, [first], detect([first], None))
        except InputError:  # the spec's taxonomy list alone holds nothing to load
            return
        loaded_or_refused(store, path, feed, lambda: load_feed(
            store, [path], detect([path], None), remove_missing=remove_missing))


@settings(FUZZ, max_examples=40)
@given(feeds())
def test_the_cli_loads_a_mutated_feed_or_says_why_without_a_traceback(feed):
    with cli_home() as tmp:
        run_cli(["load", str(feed.write(tmp / "input"))])  # 0 or 1, said plainly


# --------------------------------------------------------------------------- HSDS tables

TABULAR = SHARED / "fixtures" / "hsds3-spec-examples" / "csv"


def _tables() -> dict[str, list[list[str]]]:
    tables = {}
    for path in sorted(TABULAR.glob("*.csv")):
        with path.open(encoding="utf-8", newline="") as handle:
            tables[path.name] = list(csv.reader(handle))
    return tables


HSDS_TABLES = _tables() if TABULAR.is_dir() else {}
CELL_OPS = ["cell", "cell", "cell", "drop_column", "duplicate_column", "rename_column",
            "reorder", "duplicate_row", "short_row", "long_row", "drop_row", "blank_row"]


@pytest.mark.skipif(not HSDS_TABLES, reason="../shared/fixtures/hsds3-spec-examples is not here")
@settings(FUZZ, max_examples=100)
@given(st.lists(st.builds(CellChange, st.sampled_from(CELL_OPS),
                          st.sampled_from(sorted(HSDS_TABLES) or ["none.csv"]),
                          st.integers(0, 10**4), st.integers(0, 10**4), ODD_TEXT),
                min_size=1, max_size=4))
def test_mutated_hsds_tables_are_loaded_or_refused_with_where_and_why(changes):
    tables = {name: [list(r) for r in rows] for name, rows in HSDS_TABLES.items()}
    for change in changes:
        apply_to_table(tables, change)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "hsds"
        folder.mkdir()
        shutil.copy(TABULAR / "datapackage.json", folder)
        for name, rows in tables.items():
            with (folder / name).open("w", encoding="utf-8", newline="") as handle:
                csv.writer(handle).writerows(rows)
        store = demo_store()
        before = graph(store)
        try:
            result = load_feed(store, [folder], detect([folder], None))
        except InputError as exc:
            problems = list(exc.problems)
            assert problems, "refused without a problem"
            assert graph(store) == before, "a refused load changed the store"
        else:
            assert result.quality is not None
            problems = list(result.quality.read_problems)
        for problem in problems:
            assert problem.reason.strip(), problem
            name = Path(problem.file).name
            assert name in tables or name in {"hsds", "datapackage.json"}, problem
            rows = tables.get(name, [])
            assert 0 <= problem.row <= max(len(rows), 1), problem
            header = {h.strip() for h in rows[0]} if rows else set()
            absent = any(w in problem.reason for w in ("has no", "missing", "without"))
            assert problem.column == "" or problem.column in header or absent, problem
