"""``pathways keep-open``: hold the embedded graph in memory for the other commands.

The client side is :mod:`pathways.kept_open` (the console script's front door).  Here, one
process opens the store once, listens on ``graph.json.sock`` beside the graph (mode 0600;
a peer of another user is refused), and runs each forwarded command line exactly as the
CLI would, one at a time: the client's working folder (so ``-o report.csv`` lands where the
user is) and ``PATHWAYS_*`` variables for the command's duration, its stdout, stderr and
exit status sent back.  Every command reads through the one store, so a store's analyses
cached per data version (gap totals, indexes) serve the next command too.

The graph stays current: every read checks the file's signature as the store always does,
and a thread re-reads it within a second or two of a save by another process, so a
command after a load rarely waits.  Writes never come here (see :mod:`pathways.kept_open`).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import socket
import struct
import sys
import threading
import time
import traceback
from collections.abc import Iterator
from pathlib import Path

import click

from pathways import kept_open
from pathways.cli import context as cli_context
from pathways.cli.context import Context, pass_ctx
from pathways.config import Neo4jSettings, Settings
from pathways.errors import PathwaysError
from pathways.store import GraphStore

REFRESH_SECONDS = 1.0


@click.command("keep-open")
@pass_ctx
def keep_open(ctx: Context) -> None:
    """Keep the embedded graph open, so read-only commands (stats, list, show, paths,
    search, postcode, gaps, consortia) answer from memory: at 100k nodes well under a
    second instead of many.  Runs until stopped (Ctrl-C); other commands still work
    without it."""
    if ctx.settings.store_choice() != "embedded":
        raise PathwaysError("keep-open keeps the embedded store open; the Neo4j store is a"
                            " server already")
    graph_path = ctx.settings.embedded_path
    where = kept_open.socket_path(graph_path)
    if len(os.fsencode(where)) > kept_open.MAX_SOCKET_PATH:
        raise PathwaysError(f"the path {where} is too long for a local socket; set"
                            " PATHWAYS_HOME to a shorter folder")
    began = time.perf_counter()
    store = ctx.store()
    stats = store.stats()
    click.echo(f"Opened {sum(stats['nodes'].values()):,} nodes in"
               f" {time.perf_counter() - began:.1f} s", err=True)
    with _listening(where) as server, _serving_store(store, graph_path):
        threading.Thread(target=_keep_fresh, args=(store,), daemon=True).start()
        threading.Thread(target=_keep_warm, args=(store, sys.stderr), daemon=True).start()
        click.echo(f"Keeping {graph_path} open for other pathways commands"
                   f" (listening on {where}); Ctrl-C stops", err=True)
        with contextlib.suppress(KeyboardInterrupt):
            serve_forever(server)


@contextlib.contextmanager
def _listening(where: Path) -> Iterator[socket.socket]:
    where.parent.mkdir(parents=True, exist_ok=True)
    if where.exists() or where.is_symlink():
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            probe.connect(os.fspath(where))
        except OSError:
            where.unlink()  # left by a process that was killed
        else:
            raise PathwaysError(f"another keep-open is already serving this store ({where})")
        finally:
            probe.close()
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old_mask = os.umask(0o177)  # the socket is born 0600: only this user may connect
    try:
        server.bind(os.fspath(where))
    finally:
        os.umask(old_mask)
    server.listen(16)
    previous = signal.signal(signal.SIGTERM, _stop)
    try:
        yield server
    finally:
        signal.signal(signal.SIGTERM, previous)
        server.close()
        with contextlib.suppress(FileNotFoundError):
            where.unlink()


def _stop(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


@contextlib.contextmanager
def _serving_store(store: GraphStore, graph_path: Path) -> Iterator[None]:
    """Commands run here open this store, not a fresh copy (the point of keeping it open)."""
    opener = cli_context.open_store

    def open_kept(choice: str | None = None, neo4j_settings: Neo4jSettings | None = None,
                  settings: Settings | None = None) -> GraphStore:
        if (choice is None and neo4j_settings is None and settings is not None
                and settings.store_choice() == "embedded" and settings.embedded_path == graph_path):
            return store
        return opener(choice, neo4j_settings, settings)

    cli_context.open_store = open_kept
    try:
        yield
    finally:
        cli_context.open_store = opener


def _keep_fresh(store: GraphStore) -> None:
    refresh = getattr(store, "refresh", None)
    while refresh is not None:
        time.sleep(REFRESH_SECONDS)
        with contextlib.suppress(PathwaysError, OSError):
            refresh()  # a save by another process is read now, not by the next command


def _keep_warm(store: GraphStore, terminal) -> None:
    """Compute what the web server's Warmer does (the default gap report, the consortium
    groupings, the search index, the map, the pathway search's index) and what ``pathways
    stats`` counts, for each new version of the graph, in the
    background, so the first ``pathways gaps`` or ``consortia`` after a load is answered from
    memory too; each time, one line on keep-open's own terminal says so (``terminal``: never
    the output of a command it is answering meanwhile)."""
    from pathways.analysis.gaps import data_gap_totals  # here: the CLI's start-up stays light
    from pathways.analysis.warm import Warmer

    warmer = Warmer(lambda: store)
    while True:
        began = time.perf_counter()
        try:
            if warmer.warm_once():
                # and what `pathways stats` adds (the counts, what services lack: 1.9 s at 100k)
                store.consistent(lambda: (store.stats(), data_gap_totals(store)))
                print(f"Prepared the gap report and consortium groupings for this version"
                      f" in {time.perf_counter() - began:.1f} s", file=terminal, flush=True)
        except PathwaysError as exc:  # the command that asks says it in full
            print(f"Could not prepare the gap report in advance: {exc}", file=terminal,
                  flush=True)
        time.sleep(REFRESH_SECONDS)


def serve_forever(server: socket.socket) -> None:
    while True:
        conn, _ = server.accept()
        with conn:
            if not _same_user(conn):
                continue
            try:
                request = json.loads(kept_open.read_frame(conn, limit=1 << 20))
                code, out, err = run_command(request["argv"], request["cwd"], request["env"])
                kept_open.send_frame(conn, json.dumps({"code": code}).encode())
                kept_open.send_frame(conn, out)
                kept_open.send_frame(conn, err)
            except (OSError, ValueError, KeyError, TypeError):
                continue  # the client went away or sent nonsense: it runs the command itself


def _same_user(conn: socket.socket) -> bool:
    option = getattr(socket, "SO_PEERCRED", None)
    if option is None:  # not Linux: the socket's 0600 mode is the check
        return True
    creds = conn.getsockopt(socket.SOL_SOCKET, option, struct.calcsize("3i"))
    _pid, uid, _gid = struct.unpack("3i", creds)
    return uid == os.getuid()


def run_command(argv: list[str], cwd: str, env: dict[str, str]) -> tuple[int, bytes, bytes]:
    """Run one command line as ``pathways`` would, in ``cwd`` with ``env``'s ``PATHWAYS_*``
    variables; ``(exit status, stdout, stderr)``."""
    if kept_open.command_of(argv, env) is None:
        return 1, b"", b"Error: keep-open runs read-only commands only\n"
    out, err = io.BytesIO(), io.BytesIO()
    out_text = io.TextIOWrapper(out, encoding="utf-8", write_through=True)
    err_text = io.TextIOWrapper(err, encoding="utf-8", write_through=True)
    run_here = sys.modules["pathways.cli"].main  # the package's main, loaded by now
    code = 0
    with _working_in(cwd, env), contextlib.redirect_stdout(out_text), \
            contextlib.redirect_stderr(err_text):
        try:
            run_here(list(argv))
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
            if isinstance(exc.code, str):
                print(exc.code, file=sys.stderr)
        except Exception:  # reported to the user as the CLI would report a crash
            traceback.print_exc()
            code = 1
        finally:
            out_text.flush()
            err_text.flush()
    return code, out.getvalue(), err.getvalue()


@contextlib.contextmanager
def _working_in(cwd: str, env: dict[str, str]) -> Iterator[None]:
    """The client's folder and ``PATHWAYS_*`` variables for one command (commands run one
    at a time, so changing the process's own is safe)."""
    saved_cwd = os.getcwd()
    saved = {k: v for k, v in os.environ.items() if k.startswith("PATHWAYS_")}
    os.chdir(cwd)
    for name in saved:
        os.environ.pop(name)
    os.environ.update({k: v for k, v in env.items() if k.startswith("PATHWAYS_")})
    try:
        yield
    finally:
        for name in [k for k in os.environ if k.startswith("PATHWAYS_")]:
            os.environ.pop(name)
        os.environ.update(saved)
        os.chdir(saved_cwd)
