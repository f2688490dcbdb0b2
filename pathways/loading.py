"""Loading the Living Database into a store: validate everything, then write once.

Nothing is written when any row is invalid, unless ``allow_partial`` is set; then the
valid rows are written and the rejected rows are saved to a CSV report.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from loaders.files import read_sources
from loaders.living_db import LoadPlan, plan_load
from pathways.errors import InputError, Problem
from pathways.store.base import GraphStore, Progress, WriteSummary


@dataclass
class LoadResult:
    summary: WriteSummary
    rejected: list[Problem]
    report: Path | None


def plan_for_store(store: GraphStore, paths: Iterable[Path | str]) -> LoadPlan:
    """Read and validate files against what the store already holds."""
    tables, read_problems = read_sources(paths)
    ids: set[str] = set()
    for table in tables:
        for column in ("id", "source_id", "target_id"):
            if column in table.header:
                index = table.header.index(column)
                ids.update(v[index].strip() for _, v in table.rows if index < len(v))
    plan = plan_load(tables, store.existing_kinds(ids - {""}))
    plan.problems = read_problems + plan.problems
    return plan


def load_paths(
    store: GraphStore,
    paths: Iterable[Path | str],
    *,
    allow_partial: bool = False,
    report: Path | None = None,
    progress: Progress | None = None,
    on_plan=None,
) -> LoadResult:
    """Validate all rows, then write all-or-nothing (or the valid ones, if allowed)."""
    plan = plan_for_store(store, paths)
    if plan.problems and not allow_partial:
        raise InputError(plan.problems)
    if on_plan is not None:
        on_plan(plan)
    summary = store.write(plan.nodes, plan.rels, progress=progress)
    written_report = None
    if plan.problems:
        written_report = write_report(plan, report or Path("pathways-rejected-rows.csv"))
    return LoadResult(summary, sorted(plan.problems), written_report)


def write_report(plan: LoadPlan, path: Path) -> Path:
    """Rejected rows as a CSV Excel opens (UTF-8 with BOM): where, why, and the row itself."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["file", "row", "column", "reason", "values"])
        for problem in sorted(plan.problems):
            values = plan.rejected.get((problem.file, problem.row), {})
            shown = "; ".join(f"{k}={v}" for k, v in values.items() if v)
            writer.writerow([problem.file, problem.row, problem.column, problem.reason, shown])
    return path
