"""`pathways demo` (run by `make run` every time) only seeds an empty store, or refreshes a
store that holds nothing but the demo: a partnership's own data is never mixed with the
demo's illustrative people and organisations.  Run on both stores through the real CLI."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from pathways.cli import cli
from pathways.loading import demo_node_ids
from pathways.model import NodeKind
from pathways.store.embedded import EmbeddedStore
from tests.conftest import load_data

PARTNER = {
    "organisations": [{"id": "org-real-trust", "name": "Real Partner Trust", "kind": "voluntary_community"}],
    "people": [{"id": "person-real-lw", "name": "Real Link Worker", "role": "link_worker"}],
}


@pytest.fixture
def run_demo(store, request, monkeypatch):
    """``pathways demo`` (and other commands) against the very store the test holds."""
    if isinstance(store, EmbeddedStore):
        monkeypatch.setenv("PATHWAYS_HOME", str(store.path.parent))
        args = ["--store", "embedded"]
    else:
        s = request.getfixturevalue("neo4j_settings")
        args = ["--store", "neo4j", "--neo4j-uri", s.uri, "--neo4j-user", s.user,
                "--neo4j-password", s.password, "--neo4j-database", s.database]

    def run():
        result = CliRunner().invoke(cli, [*args, "demo"])
        assert result.exit_code == 0, result.output  # `make run` goes on to serve the app
        return result

    return run


def node_ids(store) -> set[str]:
    return set(store.snapshot().nodes)


def test_demo_loads_into_an_empty_store(store, run_demo):
    result = run_demo()
    assert "Loaded:" in result.output
    assert "illustrative" in result.output
    assert node_ids(store) == demo_node_ids()


def test_demo_refreshes_a_store_holding_only_the_demo(store, run_demo):
    run_demo()
    before = node_ids(store)
    result = run_demo()
    assert "Loaded:" in result.output
    assert "already holds your data" not in result.output
    assert node_ids(store) == before == demo_node_ids()


def test_demo_leaves_a_partnerships_own_data_alone(store, run_demo):
    load_data(store, PARTNER)
    version = store.version()
    result = run_demo()
    assert "The store already holds your data (2 nodes)" in result.output
    assert "only loaded into an empty store" in result.output
    assert "store of its own" in result.output
    assert "Loaded:" not in result.output
    assert node_ids(store) == {"org-real-trust", "person-real-lw"}
    assert store.version() == version  # nothing written at all
    assert [p["name"] for p in store.list_nodes(NodeKind.PERSON)] == ["Real Link Worker"]


def test_demo_is_not_added_to_partner_data_loaded_on_top_of_the_demo(store, run_demo):
    run_demo()
    load_data(store, PARTNER)
    total = len(demo_node_ids()) + 2
    result = run_demo()
    assert f"already holds your data ({total:,} nodes)" in result.output
    assert "Loaded:" not in result.output
    assert len(node_ids(store)) == total
