"""``pathways neo4j``: a local Neo4j server for development (start, restart, stop, status)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from pathways.cli.context import Context, pass_ctx
from pathways.config import Neo4jSettings


@click.group()
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
@pass_ctx
def start(ctx: Context, port, import_paths, fresh):
    """Start the local Neo4j on 127.0.0.1, or recover the last one's database after a crash.

    Memory: the heap grows up to $PATHWAYS_NEO4J_HEAP (default: half the machine's memory,
    at least 1g).  Loads of any size fit: a load of more than 50,000 rows commits in batches
    sized from the server's transaction memory, unseen by readers until it is complete.
    """
    from pathways import neo4j_runtime as rt

    config = ctx.settings

    running = rt.running_state(config)
    if running:
        click.echo(f"Neo4j is already running at {running['uri']} (pid {running['pid']}).")
        if import_paths:
            raise click.ClickException(
                "--import needs a fresh server: stop this one first (`pathways neo4j stop`),"
                " or load into it with `pathways load --store neo4j`")
        return
    previous = rt.recoverable_state(config)
    if previous and fresh:
        rt.stop_server(previous, remove_home=True)
        click.echo(f"Deleted the previous server's database at {previous['home']}.", err=True)
    elif previous and import_paths:
        raise click.ClickException(
            f"the previous server's database is still at {previous['home']}: start without"
            " --import to recover it, or add --fresh to delete it and import")
    elif previous:
        click.echo("The last local Neo4j is not running; recovering its database...", err=True)
        info = rt.recover_server(previous, port=port, config=config)
        info.save(rt.state_file(config))
        click.echo(f"Recovered the database from the previous server at {info.home};"
                   f" {_node_count(info):,} nodes. Neo4j {info.version} is running at {info.uri}"
                   f" (pid {info.pid}).")
        return
    if import_paths:
        info = start_with_import(config, port, import_paths)
    else:
        click.echo("Starting Neo4j (the first time downloads its jars with Maven)...", err=True)
        info = rt.start_server(port=port, config=config)
    info.save(rt.state_file(config))
    click.echo(f"Neo4j {info.version} is running at {info.uri} (pid {info.pid}),"
               f" started in {info.started_seconds:.1f}s.")
    if info.imported_rows:
        click.echo(f"Imported {info.imported_rows:,} rows in {info.import_seconds:.1f}s"
                   f" ({info.imported_rows / max(info.import_seconds, 0.001):,.0f} rows/s).")
    click.echo(f"User neo4j; its random password is in {rt.state_file(config)} (readable only by"
               " you). `--store neo4j` finds it by itself.")


@neo4j.command()
@pass_ctx
def restart(ctx: Context):
    """Restart the local Neo4j keeping its data (e.g. with a larger $PATHWAYS_NEO4J_HEAP)."""
    from pathways import neo4j_runtime as rt

    config = ctx.settings

    recorded = rt.running_state(config) or rt.recoverable_state(config)
    if not recorded:
        raise click.ClickException("no local Neo4j to restart; start one with `pathways neo4j start`")
    rt.stop_server(recorded, remove_home=False)
    info = rt.recover_server(recorded, config=config)
    info.save(rt.state_file(config))
    click.echo(f"Restarted Neo4j at {info.uri} (pid {info.pid}, heap up to {info.heap});"
               f" {_node_count(info):,} nodes.")


@neo4j.command()
@pass_ctx
def stop(ctx: Context):
    """Stop the local Neo4j and delete its data."""
    from pathways import neo4j_runtime as rt

    config = ctx.settings

    running = rt.running_state(config)
    if not running:
        previous = rt.recoverable_state(config)
        if previous:
            click.echo(f"No local Neo4j is running. The last one's database is still at"
                       f" {previous['home']}: `pathways neo4j start` recovers it,"
                       " `pathways neo4j start --fresh` deletes it.")
            return
        click.echo("No local Neo4j is running.")
        rt.state_file(config).unlink(missing_ok=True)
        return
    rt.stop_server(running)
    rt.state_file(config).unlink(missing_ok=True)
    click.echo(f"Stopped Neo4j (pid {running['pid']}).")


@neo4j.command()
@pass_ctx
def status(ctx: Context):
    """Say whether the local Neo4j is running, and where."""
    from pathways import neo4j_runtime as rt

    config = ctx.settings

    running = rt.running_state(config)
    if running:
        click.echo(f"Running at {running['uri']} (pid {running['pid']}, data in {running['home']}).")
        return
    previous = rt.recoverable_state(config)
    if previous:
        click.echo(f"Not running; the last server's database is at {previous['home']}."
                   " `pathways neo4j start` recovers it.")
    else:
        click.echo("Not running. Start it with `pathways neo4j start`.")
    sys.exit(3)


def start_with_import(config, port, import_paths):
    """Start a new local Neo4j with ``import_paths`` bulk-imported (``neo4j start --import``
    and ``load --import``): every row checked and neo4j-admin's files written in one pass (the
    streaming check: only ids and relationship digests held; nothing imported if a row is
    wrong).  With a core idle, neo4j-admin's JVM starts while the check runs, waiting for
    its arguments (:func:`pathways.neo4j_runtime.early_admin.start_admin_early`); a refused row
    ends it, and the new server's folder is removed.  The files hold contact details, so
    they wait in a private folder under PATHWAYS_HOME and are removed afterwards."""
    import shutil
    import tempfile

    from loaders.living_stream import check_workers
    from pathways import neo4j_runtime as rt
    from pathways.config import pathways_home
    from pathways.history import file_sources
    from pathways.neo4j_runtime import bulk
    from pathways.neo4j_runtime.early_admin import admin_early_pays
    from pathways.processes import idle_cores
    from pathways.store.base import now_iso

    home = pathways_home()
    home.mkdir(parents=True, exist_ok=True)
    sources = file_sources(import_paths)  # what was imported, as the history names it
    staging = Path(tempfile.mkdtemp(prefix="import-", dir=home))  # 0700
    idle = idle_cores()  # measured before the JVM below takes a core to start
    workers = check_workers(idle)
    server_home, early, made = (_early_admin(config) if admin_early_pays(idle)
                                else (None, None, []))
    try:
        click.echo("Checking every row and writing the importer's files...", err=True)
        try:
            files = bulk.prepare_import(import_paths, staging, now_iso(), workers=workers)
        except BaseException:
            if early is not None:
                early.cancel()
            for folder in made:  # nothing left: the server's home (and its parent if new)
                shutil.rmtree(folder, ignore_errors=True)
            raise
        files.admin = early
        click.echo(f"{files.rows:,} rows are valid; importing with neo4j-admin, then starting"
                   " Neo4j (the first time downloads its jars with Maven)...", err=True)
        info = rt.start_server(port=port, import_plan=files, config=config, home=server_home)
    finally:
        if early is not None:
            early.cancel()  # if the server could not start before the import: idempotent
        shutil.rmtree(staging, ignore_errors=True)
    _record_import(info, sources)
    return info


def _early_admin(config):
    """A new server's home, neo4j-admin started for it (see
    :func:`pathways.neo4j_runtime.early_admin.start_admin_early`) and the folders made for it
    (innermost first); ``(None, None, [])`` when Neo4j's jars are not downloaded yet (the
    check comes first, as without it) or Java is missing."""
    import os
    import tempfile

    from pathways import neo4j_runtime as rt
    from pathways.errors import Neo4jRuntimeError
    from pathways.neo4j_runtime.early_admin import start_admin_early

    libs = rt.lib_dir(config=config)
    if not (libs / ".complete").exists():
        return None, None, []
    try:
        java = rt.java_executable(config)
    except Neo4jRuntimeError:
        return None, None, []
    base = rt.state_file(config).parent  # where start_server puts a new server's home
    made = [] if base.exists() else [base]
    base.mkdir(parents=True, exist_ok=True)
    os.chmod(base, 0o700)
    server_home = Path(tempfile.mkdtemp(prefix="server-", dir=base))
    made.insert(0, server_home)
    early = start_admin_early(java, rt.JVM_FLAGS, f"{libs}/*", server_home)
    if early is None:
        for folder in made:
            folder.rmdir()
        return None, None, []
    return server_home, early, made


def _record_import(info, sources: list[dict]) -> None:
    """Put the import in the load history (``pathways history``; ``pathways undo`` takes it
    back).  The graph is in Neo4j whatever happens here, so a failure is said, not raised."""
    from pathways.history import record_import
    from pathways.store.neo4j import Neo4jStore

    try:
        with Neo4jStore(Neo4jSettings(info.uri, info.user, info.password, "neo4j")) as store:
            record = record_import(store, sources)
    except Exception as exc:  # the data is in; only its record is missing
        click.echo(f"The import is in Neo4j, but it could not be added to the load history"
                   f" ({exc}); `pathways history` will not list it.", err=True)
        return
    click.echo(f"Recorded as load {record['id']} in the history (`pathways history`).", err=True)
