"""The importer files `pathways neo4j start --import` writes: typed headers, refusals."""

from __future__ import annotations

import csv

import pytest

from loaders.living_db import LoadPlan
from pathways.errors import Neo4jRuntimeError
from pathways.model import NodeKind, NodeRecord, RelRecord, RelType
from pathways.neo4j_runtime.bulk import write_import_files


def plan_of(*activities: dict) -> LoadPlan:
    plan = LoadPlan()
    for props in activities:
        plan.nodes.append(NodeRecord(NodeKind.ACTIVITY, props["id"], props, "activities.csv", 2))
    plan.nodes.append(NodeRecord(NodeKind.NEED, "loneliness", {"id": "loneliness", "name": "Loneliness"},
                                 "needs.csv", 2))
    plan.rels.append(RelRecord(RelType.ADDRESSES, activities[0]["id"], "loneliness",
                               {"source": "relationships.csv"}, "relationships.csv", 2))
    return plan


def read(path):
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


def test_headers_carry_each_property_type_and_rows_their_labels(tmp_path):
    plan = plan_of({"id": "a1", "name": "Art Club", "free": True, "age_min": 18,
                    "accessibility": ["step_free", "hearing_loop"], "description": "Two\nlines"},
                   {"id": "a2", "name": "Walk"})
    files = write_import_files(plan, tmp_path, "2026-11-29T10:00:00+00:00")
    header, first, second = read(files.nodes[NodeKind.ACTIVITY])
    assert header[:2] == ["id:ID(Pathways)", ":LABEL"]
    assert {"free:boolean", "age_min:long", "accessibility:string[]", "name:string",
            "loaded_at:string"} <= set(header)
    row = dict(zip(header, first, strict=True))
    assert row[":LABEL"] == "Pathways;Activity"
    assert row["free:boolean"] == "true" and row["accessibility:string[]"] == "step_free;hearing_loop"
    assert dict(zip(header, second, strict=True))["free:boolean"] == ""  # absent, not false
    assert files.multiline  # the description spans two lines
    rel_header, rel_row = read(files.relationships[RelType.ADDRESSES])
    assert rel_header[:3] == [":START_ID(Pathways)", ":END_ID(Pathways)", ":TYPE"]
    assert rel_row[:3] == ["a1", "loneliness", "ADDRESSES"]
    assert files.rows == 4  # three nodes, one relationship


def test_a_property_with_two_types_is_refused(tmp_path):
    plan = plan_of({"id": "a1", "name": "Art", "capacity": 12}, {"id": "a2", "name": "Walk", "capacity": "lots"})
    with pytest.raises(Neo4jRuntimeError, match=r"capacity.*one type per property"):
        write_import_files(plan, tmp_path, "now")


def test_a_list_value_holding_the_delimiter_is_refused(tmp_path):
    plan = plan_of({"id": "a1", "name": "Art", "accessibility": ["a;b"]})
    with pytest.raises(Neo4jRuntimeError, match="contains ';'"):
        write_import_files(plan, tmp_path, "now")
