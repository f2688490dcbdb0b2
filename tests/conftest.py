"""Shared fixtures: a real Neo4j for the session, and a store fixture run on both stores.

Neo4j: ``NEO4J_URI`` (with ``NEO4J_USER``/``NEO4J_PASSWORD``) when set, else a throwaway
server started with :mod:`pathways.neo4j_runtime` and stopped at the end.  With no way to
start one the Neo4j tests skip, saying why, except under ``CI=true`` where they fail.

The tests empty the Neo4j database they use.  An external database that already holds data
is refused unless ``PATHWAYS_TEST_ALLOW_WIPE=1``, so a test run never deletes your graph.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from loaders.files import RawRows
from loaders.living_db import plan_load
from pathways.config import Neo4jSettings
from pathways.errors import InputError
from pathways.store.base import GraphStore
from pathways.store.embedded import EmbeddedStore

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
# The team's shared reference data sits beside the checkout (CI lays it there too);
# PATHWAYS_SHARED points elsewhere.
SHARED = Path(os.environ.get("PATHWAYS_SHARED", Path(__file__).resolve().parents[2] / "shared"))
HSDS_EXAMPLES = SHARED / "fixtures" / "hsds3-spec-examples"


def pytest_collection_modifyitems(config, items):
    # The JUnit report names each test's markers, so .ci/check_junit.py can count what ran.
    for item in items:
        for name in ("neo4j", "browser"):
            if item.get_closest_marker(name) is not None:
                item.user_properties.append(("marker", name))


def pytest_sessionstart(session):
    # Never let a developer's own data directory leak into (or out of) a test run.
    if "PATHWAYS_HOME" not in os.environ:
        os.environ["PATHWAYS_HOME"] = str(Path(session.config.rootpath) / ".pytest_cache" / "home")


def _neo4j_unavailable(reason: str):
    if IN_CI:
        pytest.fail(f"CI=true but Neo4j is not available: {reason}", pytrace=False)
    pytest.skip(f"Neo4j not available: {reason}")


@pytest.fixture(scope="session")
def neo4j_settings(tmp_path_factory) -> Iterator[Neo4jSettings]:
    """Settings of a real Neo4j server for this test session."""
    from neo4j import GraphDatabase

    if os.environ.get("NEO4J_URI"):
        settings = Neo4jSettings(
            uri=os.environ["NEO4J_URI"],
            user=os.environ.get("NEO4J_USER", "neo4j"),
            password=os.environ.get("NEO4J_PASSWORD", ""),
            database=os.environ.get("NEO4J_DATABASE", "neo4j"),
        )
        with GraphDatabase.driver(settings.uri, auth=(settings.user, settings.password)) as d:
            try:
                records, _, _ = d.execute_query(
                    "MATCH (n) WHERE NOT (n:Pathways OR n:PathwaysMeta) RETURN count(n) AS c",
                    database_=settings.database,
                )
            except Exception as exc:  # any driver failure means: no usable server
                _neo4j_unavailable(f"{settings.uri}: {exc}")
            if records[0]["c"] and os.environ.get("PATHWAYS_TEST_ALLOW_WIPE") != "1":
                pytest.exit(
                    f"{settings.uri} holds data the tests would delete; use an empty database"
                    " or set PATHWAYS_TEST_ALLOW_WIPE=1",
                    returncode=4,
                )
        yield settings
        return

    from pathways import neo4j_runtime as rt
    from pathways.errors import Neo4jRuntimeError

    try:
        info = rt.start_server(home=tmp_path_factory.mktemp("neo4j-home"), dies_with_caller=True)
    except Neo4jRuntimeError as exc:
        _neo4j_unavailable(str(exc))
    print(f"\nstarted Neo4j {info.version} at {info.uri} in {info.started_seconds}s")
    try:
        yield Neo4jSettings(info.uri, info.user, info.password, "neo4j")
    finally:
        rt.stop_server(info, remove_home=True)


@pytest.fixture
def neo4j_store(neo4j_settings):
    from pathways.store.neo4j import Neo4jStore

    store = Neo4jStore(neo4j_settings)
    store.reset()
    yield store
    store.reset()
    store.close()


@pytest.fixture
def embedded_store(tmp_path) -> EmbeddedStore:
    return EmbeddedStore(tmp_path / "graph.json")


@pytest.fixture(params=["embedded", pytest.param("neo4j", marks=pytest.mark.neo4j)])
def store(request) -> GraphStore:
    """The same behaviour test, once on each store: parity proven, not promised."""
    return request.getfixturevalue(f"{request.param}_store")


def tables_from(data: dict[str, list[dict]], file_suffix: str = ".csv") -> list[RawRows]:
    """In-memory Living Database tables from ``{"people": [{"id": ..., ...}], ...}``."""
    tables = []
    for table, rows in data.items():
        header: list[str] = []
        for row in rows:
            header += [k for k in row if k not in header]
        numbered = [(n, [str(row.get(h, "")) for h in header]) for n, row in enumerate(rows, 2)]
        tables.append(RawRows(table, table + file_suffix, header, numbered))
    return tables


def load_data(store: GraphStore, data: dict[str, list[dict]]):
    """Validate and write in-memory tables; raise InputError on any problem."""
    tables = tables_from(data)
    ids = {v for t in tables for _, vals in t.rows for v in vals}
    plan = plan_load(tables, store.existing_kinds(ids))
    if plan.problems:
        raise InputError(plan.problems)
    return store.write(plan.nodes, plan.rels)


def first_difference(left, right, where="report"):
    """Where two reports first differ, for a failure message a person can act on."""
    if isinstance(left, dict) and isinstance(right, dict) and left.keys() == right.keys():
        for key in left:
            if left[key] != right[key]:
                return first_difference(left[key], right[key], f"{where}[{key!r}]")
    if isinstance(left, list) and isinstance(right, list) and len(left) == len(right):
        for index, (a, b) in enumerate(zip(left, right, strict=True)):
            if a != b:
                return first_difference(a, b, f"{where}[{index}]")
    return f"{where}: embedded {left!r} != neo4j {right!r}"


def write_folder(folder: Path, tables: dict[str, list[list]]) -> Path:
    """Write ``{"people": [[header...], [row...]], ...}`` as CSV files in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, rows in tables.items():
        with (folder / f"{name}.csv").open("w", encoding="utf-8", newline="") as handle:
            csv.writer(handle).writerows(rows)
    return folder


@pytest.fixture
def demo_dir() -> Path:
    from pathways.loading import demo_data_dir

    return demo_data_dir()


@pytest.fixture
def demo_store(embedded_store, demo_dir) -> EmbeddedStore:
    """An embedded store holding the demo data (a test file may define its own instead)."""
    from pathways.loading import load_paths

    load_paths(embedded_store, [demo_dir])
    return embedded_store
