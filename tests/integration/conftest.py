"""Browser set-up for dash's ``dash_duo``: Debian's Chromium, headless, closed network,
and each app served on a port outside the kernel's ephemeral range.

With ``CI=true`` a missing Chromium or chromedriver fails the run instead of skipping it.
"""

from __future__ import annotations

import os
import shutil

import pytest
from dash.testing.application_runners import ThreadedRunner
from dash.testing.errors import DashAppLoadingError
from selenium.webdriver.chrome.options import Options

from pathways.neo4j_runtime import free_port
from tests.conftest import IN_CI

CHROMIUM = os.environ.get("DASH_TEST_CHROMEPATH") or shutil.which("chromium") or "/usr/bin/chromium"
os.environ.setdefault("DASH_TEST_CHROMEPATH", CHROMIUM)


def pytest_setup_options():
    options = Options()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--window-size=1400,1000"):
        options.add_argument(flag)
    return options


class FreePortRunner(ThreadedRunner):
    """dash's threaded runner, serving each app on :func:`~pathways.neo4j_runtime.free_port`
    unless a test names a port.  dash's own choice (58050, 58051, ... in turn) lies in the
    kernel's ephemeral range, where any outgoing connection on the machine (a Bolt socket,
    Chromium) may hold the number as its local port, and the app cannot bind it."""

    def start(self, app, start_timeout=3, **kwargs):
        if "port" in kwargs:
            super().start(app, start_timeout=start_timeout, **kwargs)
            return
        try:
            super().start(app, start_timeout=start_timeout, port=free_port(), **kwargs)
        except DashAppLoadingError:
            # dash retries on the port it was given; if another process took that one
            # after free_port() found it free, one more try on another port.
            super().start(app, start_timeout=start_timeout, port=free_port(), **kwargs)


@pytest.fixture
def dash_thread_server():
    """Overrides dash's fixture of that name, which ``dash_duo`` serves its apps with."""
    with FreePortRunner() as starter:
        yield starter


@pytest.fixture
def browser_available():
    missing = [name for name in ("chromium", "chromedriver") if not shutil.which(name)]
    if missing:
        reason = f"{' and '.join(missing)} not installed (make setup installs them)"
        if IN_CI:
            pytest.fail(f"CI=true but {reason}", pytrace=False)
        pytest.skip(reason)


@pytest.fixture
def demo_app(tmp_path, demo_dir, browser_available):
    """The app on the demo data in an embedded store: ``(app, store)``."""
    from pathways.loading import load_paths
    from pathways.store.embedded import EmbeddedStore
    from pathways.webstore import set_store

    store = EmbeddedStore(tmp_path / "graph.json")
    load_paths(store, [demo_dir])
    set_store(store)
    from app import app

    yield app, store
    set_store(None)


@pytest.fixture
def demo_app_each_store(store, demo_dir, browser_available):
    """The app on the demo data, once in the embedded store and once in Neo4j: ``(app, store)``."""
    from pathways.loading import load_paths
    from pathways.webstore import set_store

    load_paths(store, [demo_dir])
    set_store(store)
    from app import app

    yield app, store
    set_store(None)


@pytest.fixture
def local_neo4j_home(tmp_path, monkeypatch):
    """For a test that runs ``pathways load --import`` (which starts the local server):
    Neo4j's jars and Java present (else the usual skip, or failure under ``CI=true``), a
    private ``PATHWAYS_HOME`` under ``tmp_path``, a small heap, and no ``NEO4J_*`` variables
    pointing the commands elsewhere.  Yields the home's path."""
    from pathways import neo4j_runtime as rt
    from pathways.errors import Neo4jRuntimeError
    from tests.conftest import _neo4j_unavailable

    try:
        rt.ensure_jars()
        rt.java_executable()
    except Neo4jRuntimeError as exc:
        _neo4j_unavailable(str(exc))
    home = tmp_path / "home"
    monkeypatch.setenv("PATHWAYS_HOME", str(home))
    monkeypatch.setenv("PATHWAYS_NEO4J_HEAP", "512m")
    for name in ("NEO4J_URI", "NEO4J_USER", "NEO4J_PASSWORD", "NEO4J_DATABASE"):
        monkeypatch.delenv(name, raising=False)
    return home
