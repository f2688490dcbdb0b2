"""An exact id is resolved without building its kind's name index, on both stores, with the
same answer the index gives (issue 18 item 1: `pathways show act-0` spent 1.3 s of its
first call at 100k building the activities' name index it did not need)."""

from __future__ import annotations

import pytest

from pathways.analysis.lookup import match_in, name_index, resolve_match
from pathways.errors import PathwaysError
from pathways.loading import load_paths
from pathways.model import NodeKind, PersonRole
from pathways.store.embedded import EmbeddedStore


@pytest.fixture
def demo(store, demo_dir):
    load_paths(store, [demo_dir])
    return store


def counting_lists(monkeypatch, store) -> list:
    """Record each list_nodes call the store gets (the real method still answers)."""
    calls: list = []
    real = store.list_nodes

    def list_nodes(kind, role=None):
        calls.append((kind, role))
        return real(kind, role)

    monkeypatch.setattr(store, "list_nodes", list_nodes)
    return calls


def test_exact_id_resolves_without_listing_the_kind(demo, monkeypatch):
    activity = demo.list_nodes(NodeKind.ACTIVITY)[0]
    calls = counting_lists(monkeypatch, demo)
    found = demo.consistent(lambda: resolve_match(demo, NodeKind.ACTIVITY, f" {activity['id']} "))
    assert (found.id, found.name, found.how) == (activity["id"], activity["name"], "id")
    assert calls == []


def test_every_exact_id_gives_the_index_answer(demo):
    for kind in (NodeKind.ACTIVITY, NodeKind.SERVICE, NodeKind.ORGANISATION, NodeKind.NEED,
                 NodeKind.LOCALITY, NodeKind.PERSON):
        index = name_index(demo, kind)
        assert index.ids, kind
        for node_id in index.ids:
            assert resolve_match(demo, kind, node_id) == match_in(index, node_id)


def outcome(resolve):
    """What resolving gives: the match, or the error's kind and message."""
    try:
        return resolve()
    except PathwaysError as error:
        return (type(error).__name__, str(error))


def test_id_of_another_kind_or_role_goes_to_the_names(demo, demo_dir, tmp_path, monkeypatch):
    """An id of another kind or role is not taken as one of this kind: the names decide, as
    before (the kind is listed, and the answer is the index's)."""
    activity = demo.list_nodes(NodeKind.ACTIVITY)[0]["id"]
    lead = next(p for p in demo.list_nodes(NodeKind.PERSON)
                if p.get("role") != PersonRole.LINK_WORKER.value)
    worker = PersonRole.LINK_WORKER.value
    reference = EmbeddedStore(tmp_path / "reference.json")  # the index's own answers
    load_paths(reference, [demo_dir])
    expected = [
        outcome(lambda: match_in(name_index(reference, NodeKind.SERVICE), activity)),
        outcome(lambda: match_in(name_index(reference, NodeKind.PERSON, worker), lead["id"]))]
    calls = counting_lists(monkeypatch, demo)
    got = [outcome(lambda: resolve_match(demo, NodeKind.SERVICE, activity)),
           outcome(lambda: resolve_match(demo, NodeKind.PERSON, lead["id"], worker))]
    assert got == expected
    assert all(getattr(g, "id", None) not in (activity, lead["id"]) for g in got)
    assert calls == [(NodeKind.SERVICE, None), (NodeKind.PERSON, worker)]


def test_once_the_index_is_built_it_answers_alone(demo, monkeypatch):
    """No query per name typed once the kind's index is built (a page asks on every keystroke)."""
    activity = demo.list_nodes(NodeKind.ACTIVITY)[0]
    index = name_index(demo, NodeKind.ACTIVITY)
    asked: list[str] = []
    real = demo.get_node

    def get_node(node_id):
        asked.append(node_id)
        return real(node_id)

    monkeypatch.setattr(demo, "get_node", get_node)
    for text in (activity["id"], activity["name"]):
        assert resolve_match(demo, NodeKind.ACTIVITY, text) == match_in(index, text)
    assert asked == []
