"""The search index is built from the analyses' snapshot (issue 18 item 5): after a load the
Warmer reads the graph once, and the search index no longer lists the store's nodes again
(on Neo4j at 100k that second read cost more wall time than building the index).  Same
index, same answers as the index built from the store's own node lists, on both stores."""

from __future__ import annotations

import numpy as np
import pytest

from pathways.analysis.search import DEFAULT_KINDS, _build, search, search_index
from pathways.analysis.snapshot import cached_snapshot
from pathways.loading import load_feed, load_paths
from pathways.model import NodeKind
from tests.conftest import HSDS_EXAMPLES, SHARED, load_data

COUNCILS = SHARED / "fixtures" / "oruk-council-sample"
QUERIES = ["art group", "walk", "lonliness", "exersice", "the", "Café", "support", "zzz"]


def listed_index(store, kinds=DEFAULT_KINDS):
    """The index as it was built before: from ``store.list_nodes`` of each kind."""
    wanted = tuple(sorted(set(kinds), key=lambda k: k.value))
    return _build(wanted, [(kind, props) for kind in wanted for props in store.list_nodes(kind)])


def assert_same_index(one, other):
    assert (one.kinds, one.ids, one.node_kinds, one.names, one.descriptions, one.words) == (
        other.kinds, other.ids, other.node_kinds, other.names, other.descriptions, other.words)
    assert one.rarity == other.rarity
    assert np.array_equal(one.rank, other.rank)
    for mine, theirs in ((one.in_names, other.in_names),
                         (one.in_descriptions, other.in_descriptions)):
        assert mine.keys() == theirs.keys()
        assert all(np.array_equal(mine[w], theirs[w]) for w in mine)


@pytest.fixture
def directories(store, demo_dir):
    """The demo data, two real council samples and the HSDS examples, plus nodes whose
    names tie (sorted by id then), differ only in case or accents, or have no description."""
    load_paths(store, [demo_dir])
    load_feed(store, sorted(COUNCILS.glob("*.json")), "oruk")
    load_feed(store, [HSDS_EXAMPLES / "csv"], "hsds")
    kind = "voluntary_community"
    load_data(store, {"organisations": [
        {"id": "org-z", "name": "Same Name Trust", "kind": kind},
        {"id": "org-a", "name": "Same Name Trust", "kind": kind},
        {"id": "org-cafe", "name": "Café Zebra", "kind": kind, "description": "Art group for all"},
        {"id": "org-lower", "name": "café zebra", "kind": kind},
        {"id": "org-e", "name": "Éclair Walks", "kind": kind}]})
    return store


def test_search_index_from_the_snapshot_is_the_listed_one(directories):
    built = search_index(directories)
    assert len(built.ids) > 100
    assert_same_index(built, listed_index(directories))
    kinds = (NodeKind.ORGANISATION,)
    assert_same_index(search_index(directories, kinds), listed_index(directories, kinds))


def test_search_answers_unchanged(directories, monkeypatch):
    now = {q: search(directories, q, limit=50) for q in QUERIES}
    index = listed_index(directories)
    monkeypatch.setattr("pathways.analysis.search.search_index", lambda store, kinds: index)
    before = {q: search(directories, q, limit=50) for q in QUERIES}
    assert now == before
    assert now["art group"] and now["lonliness"] and not now["zzz"]


def test_search_index_lists_no_nodes_once_the_snapshot_is_read(directories, monkeypatch):
    cached_snapshot(directories)  # as the Warmer reads it, before the search index
    listed = []
    real = directories.list_nodes
    monkeypatch.setattr(directories, "list_nodes",
                        lambda kind, role=None: listed.append(kind) or real(kind, role))
    index = search_index(directories)
    assert "org-cafe" in index.ids
    assert listed == []
