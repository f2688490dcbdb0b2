"""Commands that put data in, show what is there, or take it out: ``load``, ``demo``,
``template``, ``stats``, ``list``, ``reset``."""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

import click

from loaders.feeds import FORMATS
from pathways.cli.context import Context, pass_ctx
from pathways.cli.output import output_options, write_rows
from pathways.errors import InputError
from pathways.loading import NOT_LOADED, data_besides_demo, demo_data_dir
from pathways.model import NodeKind, PersonRole, RelType
from pathways.store import GraphStore

CONTACT_FIELDS = ("phone", "email")
HIDDEN_FIELDS = ("content_hash",)


def _progress_load(store: GraphStore, paths, allow_partial: bool, report: Path | None,
                   fmt: str | None = None, remove_missing: bool = False,
                   fetch: dict | None = None):
    from tqdm import tqdm

    from pathways.loading import detect, load_feed, load_paths

    bar = None

    def on_plan(plan):
        nonlocal bar
        total = len(plan.nodes) + len(plan.rels)
        bar = tqdm(total=total, unit="row", desc="Loading", delay=0.5, file=sys.stderr)

    def progress(n):
        if bar is not None:  # made by on_plan, before the first row is written
            bar.update(n)

    paths, fmt = _fetched(list(paths), fmt, allow_partial, **(fetch or {}))
    try:
        kind = detect(paths, fmt)
        if kind == "living-db":
            return load_paths(store, paths, allow_partial=allow_partial, report=report,
                              progress=progress, on_plan=on_plan)
        return load_feed(store, paths, kind, report=report, remove_missing=remove_missing,
                         progress=progress, on_plan=on_plan)
    finally:
        if bar is not None:
            bar.close()


def _fetched(given: list[str], fmt: str | None, allow_partial: bool, full: bool = False,
             rate: float = 2.0, save_to: Path | None = None) -> tuple[list[Path], str | None]:
    """The files to load: a live API's pages fetched first (``URL``), the pages a fetch saved
    (a folder with its manifest), or the paths as given.  An incomplete fetch loads only with
    ``allow_partial``; nothing is written before this returns."""
    from tqdm import tqdm

    from loaders.remote import (
        MANIFEST,
        FetchError,
        FetchOptions,
        default_folder,
        fetch_feed,
        is_url,
        saved_feed,
    )
    from pathways.config import pathways_home

    urls = [g for g in given if is_url(str(g))]
    if not urls:
        paths = [Path(p) for p in given]
        if len(paths) != 1 or not (paths[0] / MANIFEST).is_file():
            return paths, fmt
        fetched = saved_feed(paths[0])
    else:
        if len(given) != 1:
            raise click.UsageError("give one web address at a time, without other paths")
        if fmt == "living-db":
            raise click.UsageError("a web address is an ORUK or HSDS feed, not a Living Database")
        folder = save_to or default_folder(urls[0], pathways_home())
        bar = tqdm(total=None, unit="page", desc="Fetching", delay=0.5, file=sys.stderr)

        def progress(done: int, total: int | None, details: int) -> None:
            bar.total, bar.n = total, done
            if full:
                bar.set_postfix(details=details)
            bar.refresh()

        try:
            fetched = fetch_feed(urls[0], folder, FetchOptions(full=full, rate=rate), fmt=fmt,
                                 progress=progress)
        except FetchError as exc:
            if not allow_partial:
                raise
            fetched = saved_feed(folder)
            click.echo(f"{exc}\n--allow-partial: loading the {fetched.pages} page(s) saved.",
                       err=True)
        finally:
            bar.close()
        click.echo(f"Fetched {fetched.pages} page(s)"
                   + (f" and {fetched.details} full record(s)" if full else "")
                   + f" from {fetched.url}; saved in {fetched.folder}", err=True)
    if not fetched.complete:
        if not allow_partial or not fetched.files:
            raise InputError([fetched.problem()])
        click.echo(f"Warning: {fetched.problem().reason}", err=True)
    return fetched.files, fmt or fetched.format


def _report_load(result) -> None:
    if result.quality is not None:
        click.echo(f"Feed: {result.quality.summary()}")
        unread = result.quality.read_problems
        if unread:
            click.echo(f"{len(unread)} part(s) of the feed could not be read, so nothing was"
                       " retired:", err=True)
            for problem in unread[:20]:
                click.echo(f"  {problem}", err=True)
            if len(unread) > 20:
                click.echo(f"  ... and {len(unread) - 20} more", err=True)
        if result.retired:
            click.echo(f"{len(result.retired)} record(s) no longer in the feed were retired.")
    if result.unlinked:  # a newer feed's dropped terms and places, or the partnership's vetoes
        kinds = Counter(rel.value for _source, rel, _target in result.unlinked)
        click.echo(f"Removed {len(result.unlinked)} link(s) "
                   + ("the feed no longer gives" if result.quality is not None
                      else "to needs your DOES_NOT_ADDRESS rows veto")
                   + ": " + ", ".join(f"{rel} {n}" for rel, n in sorted(kinds.items())) + ".")
        if result.report:
            click.echo(f"Data-quality report: {result.report} and"
                       f" {result.report.with_suffix('.json')}", err=True)
    click.echo(f"Loaded: {result.summary}")
    if result.not_placed:  # Living Database activities with no locality and no place in their venue
        click.echo(f"Places: {len(result.not_placed)} activit"
                   f"{'y' if len(result.not_placed) == 1 else 'ies'} could not be placed in a"
                   " locality (no listed postcode or locality name in the venue): "
                   + "; ".join(f"{a} ({why})" for a, why in sorted(result.not_placed.items())[:5])
                   + ("; ..." if len(result.not_placed) > 5 else ""))
    if result.rejected and result.quality is None:
        click.echo(f"{len(result.rejected)} problem(s); rejected rows written to {result.report}",
                   err=True)
        refused = [p.file for p in result.rejected if p.reason == NOT_LOADED]
        if refused:
            click.echo(f"Not loaded at all (none of its rows): {', '.join(refused)}", err=True)


@click.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default=None,
              help="Input format [detected: Living Database CSV/XLSX, ORUK JSON, HSDS 3.0].")
@click.option("--allow-partial", is_flag=True,
              help="Living Database: load the valid rows even if some are invalid. Web"
                   " addresses: load the pages fetched even if the fetch did not finish.")
@click.option("--report", type=click.Path(path_type=Path), default=None,
              help="Living Database: where --allow-partial writes rejected rows [pathways-"
                   "rejected-rows.csv]. Feeds: the data-quality report (CSV, and JSON beside it).")
@click.option("--remove-missing", is_flag=True,
              help="Feeds: delete records the feed no longer has (default: mark them).")
@click.option("--full", is_flag=True,
              help="Web addresses: also fetch /services/{id} for each listed service that"
                   " lacks its detail (locations, schedules, taxonomy).")
@click.option("--rate", type=click.FloatRange(min=0.1, max=50), default=2.0, show_default=True,
              help="Web addresses: at most this many requests a second.")
@click.option("--save-to", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Web addresses: the folder to save the pages in (an unfinished fetch there"
                   " is continued) [PATHWAYS_HOME/feeds/<api>].")
@click.option("--import", "bulk", is_flag=True,
              help="A first load of a large Living Database into a new local Neo4j with its"
                   " offline importer: every row is checked and the importer's files written"
                   " in one pass, then the server starts (as `pathways neo4j start --import`).")
@pass_ctx
def load(ctx: Context, paths, fmt, allow_partial, report, remove_missing, full, rate, save_to,
         bulk):
    """Load Living Database files (CSV, folder, XLSX) or an ORUK / HSDS directory feed: its
    files, a live API's /services address (https://...), or a folder such a fetch saved."""
    if bulk:
        if allow_partial or fmt not in (None, "living-db"):
            raise click.UsageError("--import loads a whole Living Database: no --allow-partial,"
                                   " no feeds")
        _bulk_import(ctx, [Path(p) for p in paths])
        return
    fetch = {"full": full, "rate": rate, "save_to": save_to}
    _report_load(_progress_load(ctx.store(), paths, allow_partial, report, fmt, remove_missing,
                                fetch))


def _bulk_import(ctx: Context, paths: list[Path]) -> None:
    """``load --import``: as ``neo4j start --import`` (check and write the importer's files in
    one pass; nothing imported, and no server started, if any row is wrong)."""
    from pathways import neo4j_runtime as rt
    from pathways.cli.local_neo4j import start_with_import

    config = ctx.settings
    if rt.running_state(config) or rt.recoverable_state(config):
        raise click.ClickException(
            "--import needs a new local Neo4j, and one already exists: load into it with"
            " `pathways load --store neo4j`, or delete it first with `pathways neo4j stop`")
    info = start_with_import(config, None, paths)
    info.save(rt.state_file(config))
    click.echo(f"Imported {info.imported_rows:,} rows in {info.import_seconds:.1f}s. Neo4j"
               f" {info.version} is running at {info.uri} (pid {info.pid}); `--store neo4j`"
               f" finds it (its random password is in {rt.state_file(config)}).")


@click.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("--fresh", is_flag=True,
              help="Check as a first load into an empty store (as `load --import` does),"
                   " without opening the store.")
@pass_ctx
def validate(ctx: Context, paths, fresh):
    """Check Living Database files (CSV, folder, XLSX) as `pathways load` would, writing
    nothing: every problem with its file, row, column and reason.

    Large CSV files are read a chunk at a time, keeping only ids and relationship digests,
    so a million-node directory is checked in well under 2 GiB.
    """
    from loaders.files import files_of
    from loaders.living_stream import check_paths
    from pathways.loading import plan_for_store
    from pathways.store.embedded import EmbeddedStore

    given = [Path(p) for p in paths]
    store: GraphStore = EmbeddedStore(None) if fresh else ctx.store()
    files, _problems = files_of(given, (".csv", ".xlsx"))
    if any(file.suffix.lower() == ".xlsx" for file, _label in files):
        # workbooks are small (20 MB at most) and may be update requests, whose scope is
        # checked against the store: the load's own check
        plan = plan_for_store(store, given)
        problems, nodes, rels = plan.problems, len(plan.nodes), len(plan.rels)
        not_placed = plan.not_placed
    else:
        checked = check_paths(given, store.existing_kinds, store.list_nodes(NodeKind.LOCALITY),
                              keep_rejected=False)
        problems, nodes, rels = checked.problems, checked.nodes, checked.rels
        not_placed = checked.not_placed
    if problems:
        raise InputError(problems)
    click.echo(f"Valid: {nodes:,} nodes and {rels:,} relationships would be loaded.")
    if not_placed:
        click.echo(f"Places: {len(not_placed):,} activit{'y' if len(not_placed) == 1 else 'ies'}"
                   " could not be placed in a locality (no listed postcode or locality name in"
                   " the venue).")


def _separate_store_hint(store: GraphStore) -> str:
    from pathways.store.embedded import EmbeddedStore

    if isinstance(store, EmbeddedStore):
        return ("To try the demo, give it a store of its own, e.g. PATHWAYS_HOME=~/pathways-demo "
                "pathways demo (and the same PATHWAYS_HOME for pathways serve).")
    return ("To try the demo, give it a store of its own: another Neo4j database "
            "(NEO4J_DATABASE=...), or the embedded store with its own folder "
            "(PATHWAYS_HOME=~/pathways-demo pathways --store embedded demo).")


@click.command()
@pass_ctx
def demo(ctx: Context):
    """Load the illustrative Calderdale demo data into an empty store (safe to run twice).

    A store that already holds other data (a partnership's own) is left alone: the demo's
    illustrative records are never mixed with real ones.  Running it again on a store that
    holds only the demo refreshes the demo.
    """
    store = ctx.store()
    total, others = data_besides_demo(store)
    if others:
        click.echo(f"The store already holds your data ({total:,} nodes); the demo is only loaded "
                   f"into an empty store, so nothing was changed. {_separate_store_hint(store)}")
        return
    _report_load(_progress_load(store, [demo_data_dir()], False, None))
    click.echo("This is illustrative demo data: the people, contacts and timetables are "
               "not real.")


@click.command()
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
def template(folder: Path):
    """Write empty Living Database templates (a CSV per file and one XLSX) to FOLDER."""
    from loaders.files import write_templates

    for path in write_templates(folder):
        click.echo(f"wrote {path}")


@click.command()
@output_options(["table", "json"], with_output=False)
@pass_ctx
def stats(ctx: Context, fmt):
    """Count nodes by kind and relationships by type, and what services and activities lack."""
    from pathways.analysis.gaps import data_gap_totals

    store = ctx.store()
    counts = store.consistent(lambda: {**store.stats(), "data_gaps": data_gap_totals(store)})
    if fmt == "json":
        click.echo(json.dumps(counts, indent=2))
        return
    rows = [{"what": "node", "kind": k, "count": v} for k, v in counts["nodes"].items()]
    rows += [{"what": "relationship", "kind": k, "count": v}
             for k, v in counts["relationships"].items()]
    rows += [{"what": "data gap", "kind": k.replace("_", " "), "count": v}
             for k, v in counts["data_gaps"].items()]
    write_rows(rows, "table", ["what", "kind", "count"])


@click.command(name="list")
@click.argument("kind")
@click.option("--role", type=click.Choice([r.value for r in PersonRole]), default=None,
              help="Only people with this role.")
@click.option("--contacts", is_flag=True, help="Include phone and e-mail (personal data).")
@output_options(["table", "json", "csv"])
@pass_ctx
def list_(ctx: Context, kind, role, contacts, fmt, output):
    """List the nodes of one KIND (people, organisations, services, activities, ...)."""
    try:
        node_kind = NodeKind.parse(kind)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="KIND") from None
    if role and node_kind != NodeKind.PERSON:
        raise click.BadParameter("--role only applies to people")
    hidden = set(HIDDEN_FIELDS) | (set() if contacts else set(CONTACT_FIELDS))
    store = ctx.store()
    with_needs = node_kind in (NodeKind.ACTIVITY, NodeKind.SERVICE)

    def read():  # the nodes and their needs from one version of the graph
        nodes = store.list_nodes(node_kind, role)
        return nodes, (_needs_of(store, [n["id"] for n in nodes]) if with_needs else {})

    nodes, needs = store.consistent(read)
    rows = [{k: v for k, v in n.items() if k not in hidden} for n in nodes]
    for row in rows if with_needs else ():
        found = needs.get(row["id"], {})
        row["needs"] = sorted(found)
        row["need_evidence"] = {n: e for n, e in sorted(found.items()) if e is not None}
        if fmt != "json":  # one readable cell: "loneliness (inferred from 'befriending')"
            row["needs"] = [f"{n} (inferred from {found[n]!r})" if found[n] else n
                            for n in row.pop("needs")]
    columns = ["id", "name"] + {NodeKind.PERSON: ["role", "job_title"],
                                NodeKind.ORGANISATION: ["kind"],
                                NodeKind.SERVICE: ["needs"],
                                NodeKind.ACTIVITY: ["schedule", "free", "needs"]}.get(node_kind, [])
    if contacts:
        columns += list(CONTACT_FIELDS)
    write_rows(rows, fmt, columns, output=output)


def _needs_of(store: GraphStore, ids: list[str]) -> dict[str, dict[str, str | None]]:
    """Activity (or service) id → need id → the evidence of an inferred need, ``None`` for a
    need a person or a taxonomy gave (which wins). A service has its own needs and those of
    the activities it OFFERS.  Reads only the relationships out of the listed nodes (and of
    the activities the listed services offer), not the whole graph."""
    links = store.relationships_from(ids)
    offered = sorted({t for _s, rel, t, _p in links if rel == RelType.OFFERS})
    own: dict[str, dict[str, str | None]] = {}
    for source, rel, target, props in links + store.relationships_from(offered):
        if rel == RelType.ADDRESSES:
            own.setdefault(source, {})[target] = (
                props.get("evidence") if props.get("inferred") else None)
    if not offered:
        return own
    merged: dict[str, dict[str, str | None]] = {}

    def add(service: str, needs: dict[str, str | None]) -> None:
        into = merged.setdefault(service, {})
        for need, evidence in needs.items():
            given = evidence is None or (need in into and into[need] is None)
            into[need] = None if given else into.get(need) or evidence

    listed = set(ids)
    for node, needs in own.items():
        if node in listed:
            add(node, needs)
    for source, rel, target, _props in links:
        if rel == RelType.OFFERS:
            add(source, own.get(target, {}))
    return merged


@click.command()
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@pass_ctx
def reset(ctx: Context, yes):
    """Empty the chosen store (recorded in `pathways history`, so `pathways undo` can bring
    the data back)."""
    from pathways.history import reset_store

    store = ctx.store()
    if not yes:
        click.confirm(f"Delete everything in the {store.describe()}?", abort=True)
    done = reset_store(store)
    click.echo(f"The store is empty. Recorded as load {done['id']}: `pathways undo"
               f" {done['id']}` brings the data back.")


COMMANDS = (load, validate, demo, template, stats, list_, reset)
