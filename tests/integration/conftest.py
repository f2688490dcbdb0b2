"""Browser set-up for dash's ``dash_duo``: Debian's Chromium, headless, closed network.

With ``CI=true`` a missing Chromium or chromedriver fails the run instead of skipping it.
"""

from __future__ import annotations

import os
import shutil

import pytest
from selenium.webdriver.chrome.options import Options

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
