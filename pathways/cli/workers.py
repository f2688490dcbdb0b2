"""``pathways serve --workers N``: the web app in N processes sharing one warmed copy of the data.

gunicorn runs the app (``app:server``) in N worker processes of a few threads each.  The
master process opens the store, reads the data and computes what the pages need first (the
graph itself, the Gaps page's report, the referral network, the search index, the Map page's
first view, the consortia's communities, the pathway indexes) *before* it forks the workers,
then moves every object it made out of the cycle collector's sight (:func:`gc.freeze`), so the
workers share those memory pages with it instead of each holding a copy (copy-on-write pages
stay shared while nobody writes to them; the collector would otherwise write to every object
it scans).

Loads by ``pathways load`` (or the Data page) change the data version.  A worker answers
from the new version at once (each request asks the store for its version, so nobody sees old
data), and the master, which checks the version every few seconds, reads and warms the new
version itself and then replaces the workers by fresh ones forked from it: the old ones finish
the requests they hold and exit, so after a load the workers share one copy again.

The master is single-threaded when it forks (gunicorn's control socket is turned off), and it
closes its database connections before forking: each worker opens its own
(:meth:`GraphStore.reopen`), since a connection shared across processes would mix their
messages.  Sessions, CSRF tokens and share links work whichever worker a request reaches: they
are signed with the server's secret under ``PATHWAYS_HOME``, made once here before the
workers start and read by every worker at every request.  Failed sign-ins are counted in one
SQLite file there too (:class:`pathways.accounts.LoginThrottle`), made here before the
workers start: five wrong passwords lock an account or address whichever workers they reach,
and a restart does not unlock it.
"""

from __future__ import annotations

import datetime as dt
import gc
import importlib
import sys
import time
from typing import Any

import click
from gunicorn.app.base import BaseApplication
from gunicorn.arbiter import Arbiter

from pathways.accounts import LoginThrottle, server_secret
from pathways.analysis.pathways import pathways_from
from pathways.analysis.snapshot import cached_snapshot, link_workers
from pathways.analysis.warm import Warmer
from pathways.cli.dash_setup import first_request
from pathways.config import Settings
from pathways.errors import PathwaysError
from pathways.store.base import GraphStore

CHECK_SECONDS = 5.0  # how often the master looks for a new data version (a stat, or one query)
THREADS = 4          # requests a worker handles at once (the database's answers overlap)
TIMEOUT = 120        # seconds a worker may go silent before gunicorn replaces it
KEEPALIVE = 20       # seconds an idle connection stays open for the browser's next request


def bind_address(host: str, port: int) -> str:
    """gunicorn's ``bind`` for a host and port (an IPv6 address in brackets).

    >>> bind_address("127.0.0.1", 8050), bind_address("::1", 80), bind_address("[::1]", 80)
    ('127.0.0.1:8050', '[::1]:80', '[::1]:80')
    """
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"{host}:{port}"


class SharedData:
    """What the master reads and computes before forking, per data version."""

    def __init__(self, store: GraphStore) -> None:
        self.store = store
        self.warmer = Warmer(lambda: store)
        self.connected = True  # the store the CLI opened is connected
        self.version: object = None

    def changed(self) -> bool:
        """True when the data version (or the date: the Gaps page's review ages count from
        today) differs from the one last warmed."""
        self._connect()
        try:
            return self._now() != self.version
        finally:
            self._disconnect()

    def _now(self) -> tuple[object, dt.date]:
        return self.store.version(), dt.date.today()

    def warm(self) -> float | None:
        """Read and compute the current version's data here, then freeze it for the workers
        to share; the seconds it took if it was a new version (the caller then replaces the
        workers), else None."""
        self._connect()
        gc.unfreeze()  # the previous version's objects can be freed again
        try:
            version = self._now()
            if version == self.version:
                return None
            began = time.monotonic()
            self.warmer.warm_once()  # gaps, referral network, search index, map, communities
            store = self.store
            store.consistent(lambda: [pathways_from(store, worker) for worker in  # the
                                      link_workers(cached_snapshot(store))[:1]])  # indexes, once
            # The pages' default answers (the Gaps page's tables: pages/_wire.py), built
            # here once for every worker rather than by each on its first visit.
            importlib.import_module("pages._wire").warm_pages(store)
            self.version = version
            return time.monotonic() - began
        finally:
            self._disconnect()
            gc.collect()
            gc.freeze()  # what the workers inherit stays out of the collector's scans

    def _connect(self) -> None:
        if not self.connected:
            self.store.reopen()
            self.connected = True

    def _disconnect(self) -> None:
        self.store.close()  # no connection may be inherited by a worker
        self.connected = False


class SharedDataArbiter(Arbiter):
    """gunicorn's master, which also warms each new data version and then replaces the
    workers by fresh ones forked from it (the old ones finish their requests first)."""

    def __init__(self, app: PathwaysServer) -> None:
        super().__init__(app)
        self.shared = app.shared
        self.next_check = time.monotonic() + CHECK_SECONDS

    def manage_workers(self) -> None:
        super().manage_workers()
        if time.monotonic() < self.next_check or self.shared.version is None:
            return
        try:
            seconds = self.shared.warm() if self.shared.changed() else None
            if seconds is not None:
                click.echo(f"New data read in {seconds:.1f} s: replacing the workers by ones"
                           " that share it.", err=True)
                for _ in range(self.num_workers):
                    self.spawn_worker()
                super().manage_workers()  # asks the oldest, surplus, workers to finish and exit
        except PathwaysError as exc:  # the workers read for themselves meanwhile
            click.echo(f"Could not read the new data in advance ({exc}); each worker reads"
                       " it when asked.", err=True)
        finally:
            self.next_check = time.monotonic() + CHECK_SECONDS


class PathwaysServer(BaseApplication):
    """The web app under gunicorn, with the master's store shared by its workers."""

    def __init__(self, store: GraphStore, settings: Settings, web_app: str,
                 options: dict[str, Any]) -> None:
        self.shared = SharedData(store)
        self.settings = settings
        self.web_app = web_app
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            if key in self.cfg.settings:  # (control_socket_disable: gunicorn 24 and later)
                self.cfg.set(key, value)
        # An operator's own gunicorn settings (access log, timeouts) in GUNICORN_CMD_ARGS.
        from_env = self.cfg.parser().parse_args(self.cfg.get_cmd_args_from_env())
        for key, value in vars(from_env).items():
            if value is not None and key in self.cfg.settings and key != "args":
                self.cfg.set(key.lower(), value)
        self.cfg.set("post_fork", _post_fork)

    def load(self):
        """Runs once, in the master, before any worker exists (``preload_app``)."""
        from pathways import webstore

        webstore.set_store(self.shared.store)
        module, _, name = self.web_app.partition(":")
        app = getattr(importlib.import_module(module), name)
        importlib.import_module("pages._access").configure(self.settings)
        server_secret(self.settings.secret_file)  # made here, not by two workers at once
        LoginThrottle(path=self.settings.throttle_file).prepare()  # the failed sign-ins' record
        first_request(app)
        seconds = self.shared.warm()
        click.echo(f"Read the data in {seconds or 0:.1f} s; the workers will share it.", err=True)
        return app.server

    def run(self) -> None:
        try:
            SharedDataArbiter(self).run()
        except RuntimeError as exc:
            print(f"\nError: {exc}\n", file=sys.stderr)
            sys.exit(1)


def _post_fork(_arbiter: Arbiter, _worker: Any) -> None:
    """In each new worker: its own connections to the database (none are inherited)."""
    from pathways import webstore

    webstore.get_store().reopen()


def serve_with_workers(store: GraphStore, settings: Settings, web_app: str, host: str,
                       port: int, workers: int, threads: int = THREADS) -> None:
    """Serve ``web_app`` ("module:Dash object") with gunicorn until stopped (Ctrl+C)."""
    PathwaysServer(store, settings, web_app, {
        "bind": bind_address(host, port),
        "workers": workers,
        "worker_class": "gthread",
        "threads": threads,
        "preload_app": True,
        "timeout": TIMEOUT,
        # Idle connections are kept this long: at gunicorn's 2 s a busy server closed some
        # just as the browser sent its next click on them (measured: connection resets).
        "keepalive": KEEPALIVE,
        "control_socket_disable": True,  # a thread in the master would make forking unsafe
        "errorlog": "-",
        "loglevel": "info",
        "proc_name": "pathways",
    }).run()
