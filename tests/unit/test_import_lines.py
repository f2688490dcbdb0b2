"""The importer's lines are written without the csv module where no cell needs quotes:
every line must still be what the csv module writes, and a line break anywhere must still
switch on neo4j-admin's multi-line fields."""

from __future__ import annotations

import csv
import io

import pytest

from loaders.living_db import LoadPlan
from pathways.model import NodeKind, NodeRecord, RelRecord, RelType
from pathways.neo4j_runtime.bulk import write_import_files

AWKWARD = ["plain", "a, comma", 'a "quote"', "two\nlines", "carriage\rreturn", "crlf\r\nend",
           "", " spaced ", "trailing,", '"']


def csv_module_bytes(rows: list[list[str]]) -> bytes:
    text = io.StringIO(newline="")
    csv.writer(text).writerows(rows)
    return text.getvalue().encode("utf-8")


def plan_with_notes(notes: list[str]) -> LoadPlan:
    plan = LoadPlan()
    for at, note in enumerate(notes):
        props = {"id": f"a{at}", "name": f"Club {at}"}
        if note:
            props["description"] = note
        plan.nodes.append(NodeRecord(NodeKind.ACTIVITY, props["id"], props, "activities.csv",
                                     at + 2))
        rel_props = {"source": "relationships.csv", "notes": note} if note else {
            "source": "relationships.csv"}
        plan.rels.append(RelRecord(RelType.ADDRESSES, props["id"], "need", rel_props,
                                   "relationships.csv", at + 2))
    plan.nodes.append(NodeRecord(NodeKind.NEED, "need", {"id": "need", "name": "Need"},
                                 "needs.csv", 2))
    return plan


@pytest.mark.parametrize("awkward", AWKWARD)
def test_every_line_is_the_csv_modules_whatever_its_cells_hold(tmp_path, awkward):
    # the first rows of a kind make its plan; the awkward value comes on a later one
    notes = ["first", "second", awkward, "after"]
    files = write_import_files(plan_with_notes(notes), tmp_path, "2026-12-01T10:00:00+00:00")
    for path in (files.nodes[NodeKind.ACTIVITY], files.relationships[RelType.ADDRESSES]):
        with path.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.reader(handle))
        assert path.read_bytes() == csv_module_bytes(rows)
        column = next(at for at, name in enumerate(rows[0])
                      if name.split(":")[0] in ("description", "notes"))
        assert [row[column] for row in rows[1:]] == notes
    assert files.multiline == any(c in awkward for c in "\r\n")


def test_a_line_break_in_a_later_relationship_alone_makes_the_files_multiline(tmp_path):
    plan = plan_with_notes(["one", "two", "three"])
    plan.rels.append(RelRecord(RelType.ADDRESSES, "a0", "need",
                               {"source": "relationships.csv", "notes": "x\ny"},
                               "relationships.csv", 9))
    files = write_import_files(plan, tmp_path, "2026-12-01T10:00:00+00:00")
    assert files.multiline
    assert not write_import_files(plan_with_notes(["one", "two", "three"]), tmp_path / "b",
                                  "2026-12-01T10:00:00+00:00").multiline
