"""The link worker's command line gives the same output on both stores (issue 14): ``show``,
``search``, ``postcode`` and ``paths`` with names and the person's filters, run through the
CLI against the store under test (embedded, or a real Neo4j) and against a second, embedded
store holding the same demo data."""

from __future__ import annotations

import csv
import io
import json

import pytest
from click.testing import CliRunner

from pathways.cli import cli
from pathways.loading import load_paths
from pathways.model import NodeKind, PersonRole
from pathways.store.embedded import EmbeddedStore

AS_OF = "2026-11-30"


def store_options(store, request, monkeypatch) -> list[str]:
    """Root options choosing this very store (as the other integration CLI tests do)."""
    if isinstance(store, EmbeddedStore):
        assert store.path is not None  # the fixture's store lives in a file
        monkeypatch.setenv("PATHWAYS_HOME", str(store.path.parent))
        return ["--store", "embedded"]
    s = request.getfixturevalue("neo4j_settings")
    return ["--store", "neo4j", "--neo4j-uri", s.uri, "--neo4j-user", s.user,
            "--neo4j-password", s.password, "--neo4j-database", s.database]


@pytest.fixture
def both(store, demo_dir, tmp_path, request, monkeypatch):
    """A function running ``pathways ARGS`` on the store under test and on an embedded
    reference holding the same demo data: (output there, output on the reference)."""
    reference = EmbeddedStore(tmp_path / "reference" / "graph.json")
    for each in (store, reference):
        load_paths(each, [demo_dir])
    chosen = store_options(store, request, monkeypatch)

    def run(*args) -> tuple[str, str]:
        outputs = []
        assert reference.path is not None
        for options, home in ((chosen, None), (["--store", "embedded"], reference.path.parent)):
            if home is not None:
                monkeypatch.setenv("PATHWAYS_HOME", str(home))
            result = CliRunner().invoke(cli, options + [str(a) for a in args])
            assert result.exit_code == 0, (args, result.output, result.exception)
            outputs.append(result.stdout)
        if isinstance(store, EmbeddedStore) and store.path is not None:  # back to it
            monkeypatch.setenv("PATHWAYS_HOME", str(store.path.parent))
        return outputs[0], outputs[1]

    run.store = reference  # what the names are worked out from
    return run


def test_paths_with_names_and_filters_match(both):
    ref = both.store
    worker = ref.list_nodes(NodeKind.PERSON, PersonRole.LINK_WORKER.value)[0]
    need = ref.list_nodes(NodeKind.NEED)[0]
    place = ref.list_nodes(NodeKind.LOCALITY)[0]
    tag = next(t for a in ref.list_nodes(NodeKind.ACTIVITY) for t in a.get("accessibility") or ()
               if "_" in t)
    here, there = both("paths", "--from", worker["name"].lower(), "--need", need["name"],
                       "--locality", place["name"], "--format", "json")
    assert json.loads(here) == json.loads(there)
    here, there = both("paths", "--from", worker["name"], "--access", tag.replace("_", " "),
                       "--age", 30, "--times", "weekdays afternoon", "--self-referral",
                       "--format", "json")
    assert json.loads(here) == json.loads(there)
    assert json.loads(here)["activities"], "the filters leave something to compare"


def test_paths_csv_with_referral_columns_matches(both):
    worker = both.store.list_nodes(NodeKind.PERSON, PersonRole.LINK_WORKER.value)[-1]
    here, there = both("paths", "--from", worker["name"], "--format", "csv", "--as-of", AS_OF)
    assert here == there
    rows = list(csv.DictReader(io.StringIO(here)))
    assert rows and all(r["first_contact"] and r["review_status"] for r in rows)


def test_show_matches_in_table_and_json(both):
    ref = both.store
    worker = ref.list_nodes(NodeKind.PERSON, PersonRole.LINK_WORKER.value)[0]
    reached = json.loads(both("paths", "--from", worker["id"], "--format", "json")[1])
    activity = reached["activities"][-1]
    for fmt in ("table", "json"):
        here, there = both("show", activity["name"], "--from", worker["name"],
                           "--as-of", AS_OF, "--format", fmt)
        assert here == there
    assert json.loads(here)["first_step"]["contact"]["id"] == activity["path"][1]["id"]
    here, there = both("show", activity["id"], "--as-of", AS_OF, "--format", "json")
    assert here == there and json.loads(here)["contacts"]


def test_search_and_postcode_match(both):
    for words in (["walk"], ["art", "group"], ["lonliness"]):
        here, there = both("search", *words, "--format", "json")
        assert here == there and json.loads(here)
    place = next(p for p in both.store.list_nodes(NodeKind.LOCALITY) if p.get("postcodes"))
    prefix = place["postcodes"][0]
    here, there = both("postcode", f"{prefix.split()[0]} 1AB", "--format", "json")
    assert here == there and json.loads(here)["locality"] is not None
