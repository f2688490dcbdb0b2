"""Loading the Living Database into a store: validate everything, then write once.

Nothing is written when any row is invalid, unless ``allow_partial`` is set; then the
valid rows are written and the rejected rows are saved to a CSV report.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from loaders.feeds import (
    candidate_ids,
    detect_format,
    feed_sources,
    map_feed,
    read_feed,
    vetoed_links,
)
from loaders.files import read_sources
from loaders.living_db import LoadPlan
from loaders.living_stream import check_paths
from loaders.quality import QualityReport
from loaders.update_scope import ids_concerned, refuse_out_of_scope, request_organisation, tables_of
from pathways.errors import InputError, Problem
from pathways.gcpause import gc_paused
from pathways.history import recording
from pathways.model import NodeKind, RelType
from pathways.spreadsheet import CSV_ENCODING, excel_safe
from pathways.store.base import GraphStore, Progress, WriteSummary, now_iso


@dataclass
class LoadResult:
    summary: WriteSummary
    rejected: list[Problem]
    report: Path | None
    quality: QualityReport | None = None
    retired: list[str] = field(default_factory=list)
    #: Living Database activities that could not be placed in a locality → why
    not_placed: dict[str, str] = field(default_factory=dict)
    #: relationships removed: a feed no longer gives them, or the partnership vetoed them
    unlinked: list[tuple[str, RelType, str]] = field(default_factory=list)


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
    actor: str | None = None,
    action: str = "feed",
) -> LoadResult:
    """Import an ORUK or HSDS feed: load what can be loaded, report the rest.

    A feed is known by its files' names: nodes an earlier import loaded from files of the
    same names (same format) that this one no longer has are marked ``missing_from_feed``
    or, with ``remove_missing``, deleted.  A feed that looks incomplete (fewer records than
    it says it has) retires nothing.  The load is recorded in the store's history as done by
    ``actor`` (default: the OS user), with what undoes it (:mod:`pathways.history`).
    """
    with (store.load_lock(), gc_paused(),
          recording(store, action, paths, actor) as recorder):
        result = _load_feed(recorder.store, paths, fmt, report, remove_missing, progress,
                            on_plan)
        recorder.finish(recorder.load_counts(result))
        return result


def plan_feed_for_store(store: GraphStore, paths: list[Path],
                        fmt: str) -> tuple[LoadPlan, QualityReport, set[str]]:
    """A feed's plan against what the store holds, its quality report, and the ids an earlier
    import of the same files loaded (nothing written: what a load would do, for a preview)."""
    feed, quality = read_feed(paths, fmt)  # read once and mapped once (map_feed)
    previous = store.ids_from_sources(sorted(feed_sources(feed)))
    # the partnership's localities to place activities in (loaders/placing.py): not the
    # town localities a feed made up
    localities = [p for p in store.list_nodes(NodeKind.LOCALITY)
                  if not str(p.get("source", "")).startswith(("oruk:", "hsds:"))]
    needs = store.list_nodes(NodeKind.NEED)  # their keywords infer needs too
    existing = store.existing_kinds(candidate_ids(feed) | {str(n["id"]) for n in needs})
    # what the previous import and the partnership linked the feed's nodes to
    links = store.relationships_from(sorted(i for i in previous | set(existing)
                                            if i.startswith(f"{feed.namespace}:")))
    plan = map_feed(feed, quality, existing, previous_ids=previous, localities=localities,
                    links=links, needs=needs)
    return plan, quality, previous


def _load_feed(store, paths, fmt, report, remove_missing, progress, on_plan) -> LoadResult:
    plan, quality, previous = plan_feed_for_store(store, paths, fmt)
    if not plan.nodes:
        raise InputError(_nothing_to_load(paths, quality))
    if remove_missing:
        refused = _refuse_to_remove(paths, quality, previous, fmt)
        if refused:
            raise InputError(refused)
    if on_plan is not None:
        on_plan(plan)
    summary = store.write(plan.nodes, plan.rels, progress=progress)
    store.unlink(quality.unlinked)  # links the feed no longer gives (see map_feed)
    gone = quality.disappeared
    if gone:
        store.retire(gone, remove_missing, now_iso())
    if report is not None:
        quality.write_csv(report)
        quality.write_json(report.with_suffix(".json"))
    return LoadResult(summary, [], report, quality, gone, unlinked=list(quality.unlinked))


#: ``--remove-missing`` deletes nothing when a feed lost more than this share of its records
MOST_OF_A_FEED = 0.5
_FEW = 10  # ... and more than this many: small feeds change by a few records at a time


def _names(paths) -> str:
    return ", ".join(Path(p).name for p in paths)


def _nothing_to_load(paths, quality: QualityReport) -> list[Problem]:
    reason = "nothing to load: the feed holds no records that can be loaded"
    return quality.read_problems + quality.dropped_problems() + [
        Problem(_names(paths), 0, "", reason)]


def _refuse_to_remove(paths, quality: QualityReport, previous: set[str], fmt: str) -> list[Problem]:
    """Why ``--remove-missing`` must not delete anything this time (empty: it may)."""
    keep = ("nothing was written; fix the feed, or load it without --remove-missing (records"
            " it lacks are then marked missing_from_feed, not deleted)")
    if quality.read_problems:
        reason = f"--remove-missing refused: part of the feed could not be read; {keep}"
        return quality.read_problems + [Problem(_names(paths), 0, "", reason)]
    if quality.incomplete:
        why = "; ".join(e.reason for e in quality.incomplete)
        return [Problem(_names(paths), 0, "", f"--remove-missing refused: {why}; {keep}")]
    gone = quality.disappeared
    before = sum(1 for i in previous if i.startswith(f"{fmt}:"))
    if len(gone) > _FEW and len(gone) > MOST_OF_A_FEED * before:
        reason = (f"--remove-missing refused: the feed no longer has {len(gone):,} of the"
                  f" {before:,} records the previous import loaded, so it looks incomplete;"
                  f" {keep}")
        return [Problem(_names(paths), 0, "", reason)]
    return []


def plan_for_store(store: GraphStore, paths: Iterable[Path | str]) -> LoadPlan:
    """Read and validate files against what the store already holds."""
    with gc_paused():
        return _plan_for_store(store, paths)


def _plan_for_store(store: GraphStore, paths: Iterable[Path | str]) -> LoadPlan:
    # Large CSV files are read a chunk at a time (loaders/living_stream.py): the plan holds
    # the valid records, not the files' rows as well.
    plan = LoadPlan()

    def sink():
        plan.nodes.clear()  # again: a file turned out unreadable, so it is refused whole
        plan.rels.clear()
        return plan.nodes.append, plan.rels.append

    paths = list(paths)
    checked = check_paths(paths, store.existing_kinds, store.list_nodes(NodeKind.LOCALITY),
                          sink=sink)
    plan.rejected, plan.not_placed = checked.rejected, checked.not_placed
    plan.problems = checked.problems + _update_request_scope(
        store, paths, checked.sources.workbook_tables, plan)
    return plan


def _update_request_scope(store: GraphStore, paths: Iterable[Path | str], tables: list,
                          plan: LoadPlan) -> list[Problem]:
    """Rows of an update-request workbook (``pathways update-request``) that are not its
    organisation's: refused, and taken out of the plan (see :mod:`loaders.update_scope`)."""
    problems: list[Problem] = []
    for given in paths:
        path = Path(given)
        files = [path] if path.is_file() else sorted(path.glob("*.xlsx")) if path.is_dir() else []
        for file in files:
            organisation = request_organisation(file)
            if organisation is None:
                continue
            mine = tables_of(tables, file)
            ids = sorted(ids_concerned(organisation, mine))
            problems += refuse_out_of_scope(plan, organisation, {t.file for t in mine},
                                            store.relationships_among(ids),
                                            store.existing_kinds(ids))
    return problems


def load_paths(
    store: GraphStore,
    paths: Iterable[Path | str],
    *,
    allow_partial: bool = False,
    report: Path | None = None,
    progress: Progress | None = None,
    on_plan=None,
    actor: str | None = None,
    action: str | None = None,
) -> LoadResult:
    """Validate all rows, then write all-or-nothing (or the valid ones, if allowed).

    The store's write lock is held from planning to writing, so a concurrent load is
    refused with a clear message instead of either load being lost.  The load is recorded
    in the store's history as done by ``actor`` (default: the OS user), with what undoes it
    (:mod:`pathways.history`); ``action`` names it there (default: ``demo`` for the demo
    data, else ``load``).
    """
    paths = list(paths)
    if action is None:
        action = "demo" if [Path(p) for p in paths] == [demo_data_dir()] else "load"
    with store.load_lock(), recording(store, action, paths, actor) as recorder:
        result = _load_paths(recorder.store, paths, allow_partial, report, progress, on_plan)
        recorder.finish(recorder.load_counts(result))
        return result


def _load_paths(store, paths, allow_partial, report, progress, on_plan) -> LoadResult:
    paths = list(paths)
    plan = plan_for_store(store, paths)
    if plan.problems and not allow_partial:
        raise InputError(plan.problems)
    if plan.problems and not plan.nodes and not plan.rels:  # no valid row at all
        write_report(plan, report or Path("pathways-rejected-rows.csv"))
        raise InputError(plan.problems)
    if on_plan is not None:
        on_plan(plan)
    with gc_paused():
        summary = store.write(plan.nodes, plan.rels, progress=progress)
    unlinked = _apply_vetoes(store, plan)
    written_report = None
    plan.problems.extend(files_not_loaded(plan))
    if plan.problems:
        written_report = write_report(plan, report or Path("pathways-rejected-rows.csv"))
    return LoadResult(summary, sorted(plan.problems), written_report,
                      not_placed=dict(plan.not_placed), unlinked=unlinked)


#: the reason of the whole-file problem :func:`files_not_loaded` adds
NOT_LOADED = ("none of this file's rows was loaded (it was refused whole, or each of its rows"
              " was: see its other problems; fix them and load the file again)")


def files_not_loaded(plan: LoadPlan) -> list[Problem]:
    """For a partial load: one whole-file problem (row 0) for each file with problems that
    gave no row to the plan, so a report of one row's problem cannot read as if the file's
    other rows were loaded (a CSV file unreadable past one row is refused whole)."""
    gave = {record.file for record in plan.nodes} | {record.file for record in plan.rels}
    whole = {p.file for p in plan.problems if p.row == 0}
    return [Problem(file, 0, "", NOT_LOADED) for file in dict.fromkeys(p.file for p in plan.problems)
            if file not in gave and file not in whole]


def _apply_vetoes(store: GraphStore, plan: LoadPlan) -> list[tuple[str, RelType, str]]:
    """Remove the inferred needs the plan's ``DOES_NOT_ADDRESS`` rows veto (on the node
    itself and, for a service, on the activities it offers); re-imports of the feed then
    leave them out (:class:`loaders.feed_mapping.Mapper`)."""
    vetoes = {(r.source_id, r.target_id) for r in plan.rels
              if r.type == RelType.DOES_NOT_ADDRESS}
    if not vetoes:
        return []
    first = store.relationships_from(sorted({node for node, _need in vetoes}))
    offered = {target for _s, rel, target, _p in first if rel == RelType.OFFERS}
    keys = vetoed_links(vetoes, first + store.relationships_from(sorted(offered)))
    store.unlink(keys)
    return keys


PERSONAL_DATA = "[removed: personal data]"
_CONTACT_WORDS = ("phone", "email", "e-mail", "mobile", "contact")


def is_contact_column(name: str) -> bool:
    """Columns whose values are personal data: phone, email, and any contact column."""
    lowered = name.strip().lower()
    return any(word in lowered for word in _CONTACT_WORDS)


def write_report(plan: LoadPlan, path: Path) -> Path:
    """Rejected rows as a CSV Excel opens (UTF-8 with BOM): where, why, and the row itself,
    with phone numbers, e-mails and other contact details removed (personal data)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding=CSV_ENCODING, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["file", "row", "column", "reason", "values"])
        for problem in sorted(plan.problems):
            values = plan.rejected.get((problem.file, problem.row), {})
            shown = "; ".join(f"{k}={PERSONAL_DATA if is_contact_column(k) else v}"
                              for k, v in values.items() if v)
            writer.writerow([excel_safe(cell) for cell in
                             (problem.file, problem.row, problem.column, problem.reason, shown)])
    return path


# --- the demo data ---------------------------------------------------------------------------

def demo_data_dir() -> Path:
    """The illustrative Calderdale demo data shipped with the package (a Living Database)."""
    return Path(str(resources.files("pathways") / "demo_data"))


def demo_node_ids() -> set[str]:
    """The ids of every node the demo data defines (its tables' ``id`` column)."""
    tables, _problems = read_sources([demo_data_dir()])  # the demo's own files: no problems
    ids: set[str] = set()
    for table in tables:
        if table.table == "relationships" or "id" not in table.header:
            continue
        column = table.header.index("id")
        ids.update(values[column].strip() for _row, values in table.rows if len(values) > column)
    return ids - {""}


def data_besides_demo(store: GraphStore) -> tuple[int, int]:
    """``(all nodes, nodes the demo did not define)`` in the store, read from one version."""
    demo_ids = demo_node_ids()

    def read() -> tuple[int, int]:
        total = sum(store.stats()["nodes"].values())
        return total, total - len(store.existing_kinds(demo_ids))

    return store.consistent(read)
