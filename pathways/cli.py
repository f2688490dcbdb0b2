"""``pathways``: the command line.  Thin: parse options, call the library, format output.

Every command says on stderr which store it used, so stdout stays clean for JSON and CSV.
Errors of the project's own kinds become a plain message and exit status 1.
"""

from __future__ import annotations

import json
import os
import sys
from importlib import resources
from pathlib import Path

import click

from pathways.analysis.pathways import pathways_from, with_details
from loaders.feeds import FORMATS
from pathways.config import STORE_CHOICES, Neo4jSettings, store_choice
from pathways.errors import InputError, PathwaysError
from pathways.formatting import emit
from pathways.model import DEFAULT_MAX_HOPS, MAX_MAX_HOPS, NodeKind, PersonRole, RelType
from pathways.store import GraphStore, PathwayFilter, open_store

CONTACT_FIELDS = ("phone", "email")
HIDDEN_FIELDS = ("content_hash",)


class Context:
    def __init__(self, store: str | None, uri, user, password, database):
        self.choice = store
        self.neo4j = dict(uri=uri, user=user, password=password, database=database)
        self._store: GraphStore | None = None

    def store(self) -> GraphStore:
        if self._store is None:
            settings = None
            if store_choice(self.choice) == "neo4j":
                settings = Neo4jSettings.from_env(**self.neo4j)
            self._store = open_store(self.choice, settings)
            click.echo(f"Using the {self._store.describe()}", err=True)
        return self._store

    def close(self) -> None:
        if self._store is not None:
            self._store.close()


pass_ctx = click.make_pass_decorator(Context)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--store", type=click.Choice(STORE_CHOICES), default=None,
              help="Where the graph lives [env PATHWAYS_STORE; default embedded].")
@click.option("--neo4j-uri", default=None, help="Bolt URI [env NEO4J_URI].")
@click.option("--neo4j-user", default=None, help="[env NEO4J_USER; default neo4j]")
@click.option("--neo4j-password", default=None, help="[env NEO4J_PASSWORD]")
@click.option("--neo4j-database", default=None, help="[env NEO4J_DATABASE; default neo4j]")
@click.version_option(package_name="thriving-pathways")
@click.pass_context
def cli(ctx, store, neo4j_uri, neo4j_user, neo4j_password, neo4j_database):
    """Thriving Pathways: who can refer whom to what, in a social prescribing partnership."""
    ctx.obj = Context(store, neo4j_uri, neo4j_user, neo4j_password, neo4j_database)
    ctx.call_on_close(ctx.obj.close)


def write_output(text: str, fmt: str, output: Path | None) -> None:
    """Print, or write a file (CSV with a byte-order mark so Excel reads it as UTF-8)."""
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8-sig" if fmt == "csv" else "utf-8", newline="")
        click.echo(f"wrote {output}", err=True)


def _progress_load(store: GraphStore, paths, allow_partial: bool, report: Path | None,
                   fmt: str | None = None, remove_missing: bool = False):
    from tqdm import tqdm

    from pathways.loading import detect, load_feed, load_paths

    bar = None

    def on_plan(plan):
        nonlocal bar
        total = len(plan.nodes) + len(plan.rels)
        bar = tqdm(total=total, unit="row", desc="Loading", delay=0.5, file=sys.stderr)

    def progress(n):
        bar.update(n)

    paths = [Path(p) for p in paths]
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
        if result.report:
            click.echo(f"Data-quality report: {result.report} and"
                       f" {result.report.with_suffix('.json')}", err=True)
    click.echo(f"Loaded: {result.summary}")
    if result.rejected and result.quality is None:
        click.echo(f"{len(result.rejected)} problem(s); rejected rows written to {result.report}",
                   err=True)


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(FORMATS), default=None,
              help="Input format [detected: Living Database CSV/XLSX, ORUK JSON, HSDS 3.0].")
@click.option("--allow-partial", is_flag=True,
              help="Living Database: load the valid rows even if some are invalid.")
@click.option("--report", type=click.Path(path_type=Path), default=None,
              help="Living Database: where --allow-partial writes rejected rows [pathways-"
                   "rejected-rows.csv]. Feeds: the data-quality report (CSV, and JSON beside it).")
@click.option("--remove-missing", is_flag=True,
              help="Feeds: delete records the feed no longer has (default: mark them).")
@pass_ctx
def load(ctx: Context, paths, fmt, allow_partial, report, remove_missing):
    """Load Living Database files (CSV, folder, XLSX) or an ORUK / HSDS directory feed."""
    _report_load(_progress_load(ctx.store(), paths, allow_partial, report, fmt, remove_missing))


def demo_data_dir() -> Path:
    return Path(str(resources.files("pathways") / "demo_data"))


def demo_node_ids() -> set[str]:
    """The ids of every node the demo data defines (its tables' ``id`` column)."""
    from loaders.files import read_sources

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


def _separate_store_hint(store: GraphStore) -> str:
    from pathways.store.embedded import EmbeddedStore

    if isinstance(store, EmbeddedStore):
        return ("To try the demo, give it a store of its own, e.g. PATHWAYS_HOME=~/pathways-demo "
                "pathways demo (and the same PATHWAYS_HOME for pathways serve).")
    return ("To try the demo, give it a store of its own: another Neo4j database "
            "(NEO4J_DATABASE=...), or the embedded store with its own folder "
            "(PATHWAYS_HOME=~/pathways-demo pathways --store embedded demo).")


@cli.command()
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


@cli.command()
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
def template(folder: Path):
    """Write empty Living Database templates (a CSV per file and one XLSX) to FOLDER."""
    from loaders.files import write_templates

    for path in write_templates(folder):
        click.echo(f"wrote {path}")


@cli.command()
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
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
    emit(rows, "table", ["what", "kind", "count"])


@cli.command(name="list")
@click.argument("kind")
@click.option("--role", type=click.Choice([r.value for r in PersonRole]), default=None,
              help="Only people with this role.")
@click.option("--contacts", is_flag=True, help="Include phone and e-mail (personal data).")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write to a file (CSV with a BOM, so Excel opens it right).")
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
        return nodes, (_needs_of(store.snapshot(), node_kind) if with_needs else {})

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
    emit(rows, fmt, columns, output=output)


def _needs_of(graph, kind: NodeKind) -> dict[str, dict[str, str | None]]:
    """Activity (or service) id → need id → the evidence of an inferred need, ``None`` for a
    need a person or a taxonomy gave (which wins). A service has its own needs and those of
    the activities it OFFERS."""
    own: dict[str, dict[str, str | None]] = {}
    for source, target, rel, data in graph.edges(keys=True, data=True):
        if rel == RelType.ADDRESSES:
            props = data.get("props", {})
            own.setdefault(source, {})[target] = (
                props.get("evidence") if props.get("inferred") else None)
    if kind != NodeKind.SERVICE:
        return own
    merged: dict[str, dict[str, str | None]] = {}

    def add(service: str, needs: dict[str, str | None]) -> None:
        into = merged.setdefault(service, {})
        for need, evidence in needs.items():
            given = evidence is None or (need in into and into[need] is None)
            into[need] = None if given else into.get(need) or evidence

    for node, needs in own.items():
        if graph.nodes[node]["kind"] == NodeKind.SERVICE:
            add(node, needs)
    for source, target, rel in graph.edges(keys=True):
        if rel == RelType.OFFERS:
            add(source, own.get(target, {}))
    return merged


@cli.command()
@click.option("--from", "worker", required=True, help="Id of the link worker.")
@click.option("--need", "needs", multiple=True, help="Need id (any of them); repeatable.")
@click.option("--locality", default=None, help="Locality id the activity is in.")
@click.option("--free", "free_only", is_flag=True, help="Only free activities.")
@click.option("--access", multiple=True, help="Accessibility tag (all of them); repeatable.")
@click.option("--max-hops", type=click.IntRange(1, MAX_MAX_HOPS), default=DEFAULT_MAX_HOPS,
              show_default=True)
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write to a file (CSV with a BOM, so Excel opens it right).")
@pass_ctx
def paths(ctx: Context, worker, needs, locality, free_only, access, max_hops, fmt, output):
    """Activities a link worker can reach along referral routes, shortest route first."""
    store = ctx.store()
    where = PathwayFilter(tuple(needs), locality, free_only, tuple(a.lower() for a in access))
    if fmt == "json":
        result = pathways_from(store, worker, where, max_hops)
        write_output(json.dumps(result, indent=2, ensure_ascii=False) + "\n", fmt, output)
        return

    def read():  # the paths and their details from one version of the graph
        found = pathways_from(store, worker, where, max_hops)
        return found, with_details(store, found)

    result, rows = store.consistent(read)
    if not rows:
        click.echo(f"{result['from']['name']} reaches no matching activity within {max_hops} hops.",
                   err=True)
    columns = ["activity", "provider", "locality", "cost", "schedule", "hops"]
    if fmt == "csv":
        columns = ["id", "activity", "provider", "locality", "needs", "cost", "schedule",
                   "access", "hops", "route"]
    emit(rows, fmt, columns, output=output)


@cli.command()
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@pass_ctx
def reset(ctx: Context, yes):
    """Empty the chosen store."""
    store = ctx.store()
    if not yes:
        click.confirm(f"Delete everything in the {store.describe()}?", abort=True)
    store.reset()
    click.echo("The store is empty.")


LOOPBACK_NAMES = ("127.0.0.1", "::1", "localhost")


def is_loopback(host: str) -> bool:
    """True for an address only this machine can reach (127.0.0.0/8, ::1, localhost).

    >>> [is_loopback(h) for h in ("127.0.0.1", "[::1]", "localhost", "0.0.0.0", "example.org")]
    [True, True, True, False, False]
    """
    import ipaddress

    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8050, show_default=True, type=int)
@click.option("--debug", is_flag=True,
              help="Reload on code changes and show the debugger (only with a loopback --host).")
@pass_ctx
def serve(ctx: Context, host, port, debug):
    """Run the web app."""
    if debug and not is_loopback(host):
        raise click.UsageError(
            f"--debug starts the Werkzeug debugger, which lets anyone who can open the page "
            f"run commands on this machine; it is refused with --host {host}. Use --debug only "
            f"with --host {', '.join(LOOPBACK_NAMES[:-1])} or {LOOPBACK_NAMES[-1]}.")
    if ctx.choice:
        os.environ["PATHWAYS_STORE"] = ctx.choice
    for key, value in ctx.neo4j.items():
        if value:
            os.environ[f"NEO4J_{key.upper()}"] = value
    ctx.store()  # fail early, and say which store, before the server starts
    from app import app
    from pathways.analysis.warm import Warmer
    from pathways.webstore import get_store

    # The Gaps page's report is computed as soon as the data changes, not on the first visit.
    Warmer(get_store).start()
    click.echo(f"Thriving Pathways on http://{host}:{port}/", err=True)
    app.run(host=host, port=port, debug=debug)


@cli.group()
def neo4j():
    """A local Neo4j for development (downloads Neo4j 5.26 with Maven once)."""


def _node_count(info) -> int:
    from pathways.store.neo4j import Neo4jStore

    with Neo4jStore(Neo4jSettings(info.uri, info.user, info.password, "neo4j")) as store:
        return sum(store.stats()["nodes"].values())


@neo4j.command()
@click.option("--port", type=int, default=None, help="Bolt port [default: a free one].")
@click.option("--import", "import_paths", multiple=True,
              type=click.Path(exists=True, path_type=Path),
              help="Bulk-import this Living Database (folder, CSV or XLSX) before starting:"
              " neo4j-admin's offline importer, for a first load of a large graph. Repeatable.")
@click.option("--fresh", is_flag=True,
              help="Start empty, deleting the database a previous server left (after a crash).")
def start(port, import_paths, fresh):
    """Start the local Neo4j on 127.0.0.1, or recover the last one's database after a crash.

    Memory: the heap grows up to $PATHWAYS_NEO4J_HEAP (default: half the machine's memory).
    """
    from pathways import neo4j_runtime as rt

    running = rt.running_state()
    if running:
        click.echo(f"Neo4j is already running at {running['uri']} (pid {running['pid']}).")
        if import_paths:
            raise click.ClickException(
                "--import needs a fresh server: stop this one first (`pathways neo4j stop`),"
                " or load into it with `pathways load --store neo4j`")
        return
    previous = rt.recoverable_state()
    if previous and fresh:
        rt.stop_server(previous, remove_home=True)
        click.echo(f"Deleted the previous server's database at {previous['home']}.", err=True)
    elif previous and import_paths:
        raise click.ClickException(
            f"the previous server's database is still at {previous['home']}: start without"
            " --import to recover it, or add --fresh to delete it and import")
    elif previous:
        click.echo("The last local Neo4j is not running; recovering its database...", err=True)
        info = rt.recover_server(previous, port=port)
        info.save(rt.state_file())
        click.echo(f"Recovered the database from the previous server at {info.home};"
                   f" {_node_count(info):,} nodes. Neo4j {info.version} is running at {info.uri}"
                   f" (pid {info.pid}).")
        return
    plan = None
    if import_paths:
        from pathways.loading import plan_for_store
        from pathways.store.embedded import EmbeddedStore

        click.echo("Checking every row before the import...", err=True)
        plan = plan_for_store(EmbeddedStore(None), import_paths)  # an empty store: all new
        if plan.problems:
            raise InputError(plan.problems)
        click.echo(f"{len(plan.nodes):,} nodes and {len(plan.rels):,} relationships are valid;"
                   " importing with neo4j-admin...", err=True)
    click.echo("Starting Neo4j (the first time downloads its jars with Maven)...", err=True)
    info = rt.start_server(port=port, import_plan=plan)
    info.save(rt.state_file())
    click.echo(f"Neo4j {info.version} is running at {info.uri} (pid {info.pid}),"
               f" started in {info.started_seconds:.1f}s.")
    if info.imported_rows:
        click.echo(f"Imported {info.imported_rows:,} rows in {info.import_seconds:.1f}s"
                   f" ({info.imported_rows / max(info.import_seconds, 0.001):,.0f} rows/s).")
    click.echo(f"User neo4j; its random password is in {rt.state_file()} (readable only by"
               " you). `--store neo4j` finds it by itself.")


@neo4j.command()
def restart():
    """Restart the local Neo4j keeping its data (e.g. with a larger $PATHWAYS_NEO4J_HEAP)."""
    from pathways import neo4j_runtime as rt

    recorded = rt.running_state() or rt.recoverable_state()
    if not recorded:
        raise click.ClickException("no local Neo4j to restart; start one with `pathways neo4j start`")
    rt.stop_server(recorded, remove_home=False)
    info = rt.recover_server(recorded)
    info.save(rt.state_file())
    click.echo(f"Restarted Neo4j at {info.uri} (pid {info.pid}, heap up to {info.heap});"
               f" {_node_count(info):,} nodes.")


@neo4j.command()
def stop():
    """Stop the local Neo4j and delete its data."""
    from pathways import neo4j_runtime as rt

    running = rt.running_state()
    if not running:
        previous = rt.recoverable_state()
        if previous:
            click.echo(f"No local Neo4j is running. The last one's database is still at"
                       f" {previous['home']}: `pathways neo4j start` recovers it,"
                       " `pathways neo4j start --fresh` deletes it.")
            return
        click.echo("No local Neo4j is running.")
        rt.state_file().unlink(missing_ok=True)
        return
    rt.stop_server(running)
    rt.state_file().unlink(missing_ok=True)
    click.echo(f"Stopped Neo4j (pid {running['pid']}).")


@neo4j.command()
def status():
    """Say whether the local Neo4j is running, and where."""
    from pathways import neo4j_runtime as rt

    running = rt.running_state()
    if running:
        click.echo(f"Running at {running['uri']} (pid {running['pid']}, data in {running['home']}).")
        return
    previous = rt.recoverable_state()
    if previous:
        click.echo(f"Not running; the last server's database is at {previous['home']}."
                   " `pathways neo4j start` recovers it.")
    else:
        click.echo("Not running. Start it with `pathways neo4j start`.")
    sys.exit(3)


# The analysis commands (gaps, consortia) live in their own module and register on `cli`.
import pathways.cli_reports  # noqa: E402,F401


def main(argv: list[str] | None = None) -> None:
    try:
        cli.main(args=argv, prog_name="pathways", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(1)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except InputError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(1)
    except PathwaysError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
