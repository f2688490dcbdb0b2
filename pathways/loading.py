"""Loading the Living Database into a store: validate everything, then write once.

Nothing is written when any row is invalid, unless ``allow_partial`` is set; then the
valid rows are written and the rejected rows are saved to a CSV report.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from loaders.quality import QualityReport
from loaders.feeds import detect_format, plan_feed
from loaders.files import read_sources
from loaders.living_db import LoadPlan, plan_load
from pathways.errors import InputError, Problem
from pathways.gcpause import gc_paused
from pathways.store.base import GraphStore, Progress, WriteSummary, now_iso


@dataclass
class LoadResult:
    summary: WriteSummary
    rejected: list[Problem]
    report: Path | None
    quality: QualityReport | None = None
    retired: list[str] = field(default_factory=list)


def detect(paths: list[Path], fmt: str | None) -> str:
    """The one format of all ``paths`` (Living Database, ORUK or HSDS), or a clear error."""
    if fmt is not None:
        return fmt
    found = {detect_format(p) for p in paths}
    if len(found) > 1:
        raise InputError([Problem(", ".join(map(str, paths)), 0, "",
                                  "these paths hold different formats (" + ", ".join(sorted(found))
                                  + "); load them one format at a time")])
    return found.pop()


def load_feed(
    store: GraphStore,
    paths: list[Path],
    fmt: str,
    *,
    report: Path | None = None,
    remove_missing: bool = False,
    progress: Progress | None = None,
    on_plan=None,
) -> LoadResult:
    """Import an ORUK or HSDS feed: load what can be loaded, report the rest.

    A feed is known by its files' names: nodes an earlier import loaded from files of the
    same names (same format) that this one no longer has are marked ``missing_from_feed``
    or, with ``remove_missing``, deleted.  A feed that looks incomplete (fewer records than
    it says it has) retires nothing.
    """
    with store.load_lock(), gc_paused():
        return _load_feed(store, paths, fmt, report, remove_missing, progress, on_plan)


def _load_feed(store, paths, fmt, report, remove_missing, progress, on_plan) -> LoadResult:
    first, _ = plan_feed(paths, fmt, {})
    ids = {n.id for n in first.nodes} | {r.source_id for r in first.rels} | {r.target_id for r in first.rels}
    previous = store.ids_from_sources(sorted({n.props["source"] for n in first.nodes}))
    plan, quality = plan_feed(paths, fmt, store.existing_kinds(ids), previous_ids=previous)
    if on_plan is not None:
        on_plan(plan)
    summary = store.write(plan.nodes, plan.rels, progress=progress)
    gone = quality.disappeared
    if gone:
        store.retire(gone, remove_missing, now_iso())
    if report is not None:
        quality.write_csv(report)
        quality.write_json(report.with_suffix(".json"))
    return LoadResult(summary, [], report, quality, gone)


def plan_for_store(store: GraphStore, paths: Iterable[Path | str]) -> LoadPlan:
    """Read and validate files against what the store already holds."""
    with gc_paused():
        return _plan_for_store(store, paths)


def _plan_for_store(store: GraphStore, paths: Iterable[Path | str]) -> LoadPlan:
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
    """Validate all rows, then write all-or-nothing (or the valid ones, if allowed).

    The store's write lock is held from planning to writing, so a concurrent load is
    refused with a clear message instead of either load being lost.
    """
    with store.load_lock():
        return _load_paths(store, paths, allow_partial, report, progress, on_plan)


def _load_paths(store, paths, allow_partial, report, progress, on_plan) -> LoadResult:
    plan = plan_for_store(store, paths)
    if plan.problems and not allow_partial:
        raise InputError(plan.problems)
    if on_plan is not None:
        on_plan(plan)
    with gc_paused():
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
