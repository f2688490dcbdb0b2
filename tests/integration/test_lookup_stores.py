"""Names, search, how to refer and the referral sheet on both stores (issue 14 items 1-3):
each test runs on the embedded store and on a real Neo4j, and compares every answer with
the same data in a second, embedded store, so both stores give the same answers."""

from __future__ import annotations

import datetime as dt

import pytest

from pathways.analysis.lookup import ACCESS, normalise, resolve, resolve_link_worker
from pathways.analysis.pathways import pathways_from
from pathways.analysis.referral import how_to_refer_many
from pathways.analysis.search import search
from pathways.analysis.shortlist import decode_shortlist, encode_shortlist, referral_sheet
from pathways.errors import AmbiguousNameError, PathwaysError, UnknownNameError
from pathways.loading import load_feed, load_paths
from pathways.model import NodeKind, PersonRole
from pathways.store.base import PathwayFilter
from pathways.store.embedded import EmbeddedStore
from tests.conftest import HSDS_EXAMPLES, SHARED, write_folder

COUNCILS = SHARED / "fixtures" / "oruk-council-sample"
TODAY = dt.date(2026, 11, 30)


def outcome(store, kind, text, role=None):
    """What resolving gives: the id, or the error's kind and the ids it names."""
    try:
        return resolve(store, kind, text, role)
    except AmbiguousNameError as error:
        return ("ambiguous", tuple(c.id for c in error.candidates))
    except UnknownNameError as error:
        return ("unknown", tuple(c.id for c in error.suggestions), str(error))


@pytest.fixture
def demo(store, demo_dir, tmp_path):
    """(the store under test, an embedded reference), both holding the demo data."""
    reference = EmbeddedStore(tmp_path / "reference.json")
    for each in (store, reference):
        load_paths(each, [demo_dir])
    return store, reference


@pytest.fixture
def directories(store, tmp_path):
    """Both stores holding two real council samples, the HSDS examples and a link worker
    who refers to the first three services of the Bristol sample."""
    reference = EmbeddedStore(tmp_path / "reference.json")
    files = sorted(COUNCILS.glob("*.json"))
    assert files, f"real council samples missing in {COUNCILS}"
    for each in (store, reference):
        load_feed(each, files, "oruk")
        load_feed(each, [HSDS_EXAMPLES / "csv"], "hsds")
    services = [n["id"] for n in reference.list_nodes(NodeKind.SERVICE)][:3]
    routes = write_folder(tmp_path / "routes", {
        "people": [["id", "name", "role"], ["lw-sam", "Sam Link", "link_worker"]],
        "relationships": [["source_id", "type", "target_id", "method", "self_referral",
                           "typical_wait_days"]]
        + [["lw-sam", "REFERS_TO", s, "email", "yes", "7"] for s in services],
    })
    for each in (store, reference):
        load_paths(each, [routes])
    return store, reference


def test_every_name_resolves_to_its_node_and_shared_words_list_the_candidates(demo):
    store, reference = demo
    for kind, role in ((NodeKind.LOCALITY, None), (NodeKind.NEED, None),
                       (NodeKind.PERSON, PersonRole.LINK_WORKER.value)):
        for node in reference.list_nodes(kind, role):
            assert resolve(store, kind, node["name"].upper(), role) == node["id"]
            assert resolve(store, kind, node["id"], role) == node["id"]
    workers = reference.list_nodes(NodeKind.PERSON, PersonRole.LINK_WORKER.value)
    assert resolve_link_worker(store, workers[0]["name"].lower()) == workers[0]["id"]
    # a word several localities share: every one of them is a candidate, nothing is guessed
    words: dict[str, set[str]] = {}
    for place in reference.list_nodes(NodeKind.LOCALITY):
        for word in normalise(place["name"]).split():
            words.setdefault(word, set()).add(place["id"])
    shared = [(w, ids) for w, ids in words.items() if len(ids) > 1]
    assert shared, "the demo has localities sharing a word"
    for word, ids in shared:
        result = outcome(store, NodeKind.LOCALITY, word)
        assert result[0] == "ambiguous" and set(result[1]) == ids
    for kind, text in ((NodeKind.NEED, "lonliness"), (ACCESS, "stepfree"), (ACCESS, "lift"),
                       (NodeKind.LOCALITY, "Nowhere Town"), (NodeKind.NEED, "money")):
        assert outcome(store, kind, text) == outcome(reference, kind, text)
    assert resolve(store, ACCESS, "stepfree") == "step_free"


def test_how_to_refer_follows_the_listed_route_and_agrees_on_both_stores(demo):
    store, reference = demo
    for worker in [w["id"] for w in reference.list_nodes(NodeKind.PERSON,
                                                          PersonRole.LINK_WORKER.value)][:4]:
        listed = pathways_from(store, worker, PathwayFilter())["activities"]
        ids = [a["id"] for a in listed]
        found = how_to_refer_many(store, worker, ids, as_of=TODAY)
        assert [f.to_dict() for f in found] == [
            f.to_dict() for f in how_to_refer_many(reference, worker, ids, as_of=TODAY)]
        for activity, referral in zip(listed, found, strict=True):
            assert [n.id for n in referral.route] == [n["id"] for n in activity["path"]]
            assert referral.first_step is not None
            assert referral.first_step.method_words != "not recorded"  # the demo records them


def test_a_shortlist_and_its_sheet_agree_on_both_stores(demo):
    store, reference = demo
    worker = reference.list_nodes(NodeKind.PERSON, PersonRole.LINK_WORKER.value)[0]["id"]
    reachable = [a["id"] for a in pathways_from(reference, worker, PathwayFilter())["activities"]]
    token = encode_shortlist([reachable[0], "act-removed", reachable[-1]], worker)
    opened = decode_shortlist(store, token)
    assert opened == decode_shortlist(reference, token)
    assert opened.activity_ids == (reachable[0], reachable[-1]) and opened.problems
    sheet = referral_sheet(store, worker, opened.activity_ids, as_of=TODAY)
    assert sheet.to_dict() == referral_sheet(reference, worker, opened.activity_ids,
                                             as_of=TODAY).to_dict()


def test_search_on_real_directory_records_forgives_typos_and_agrees_on_both_stores(directories):
    store, reference = directories
    for typed in ("walk", "art group", "lonliness", "mental helth", "dementia cafe",
                  "carers support", "youth club"):
        hits = search(store, typed)
        assert hits == search(reference, typed), typed
        assert hits, f"nothing found for {typed!r} in the real records"
        top = hits[0]
        text = normalise(f"{top.name} {store.get_node(top.id)[1].get('description', '')}")
        assert set(top.matched) <= set(text.split()), typed  # the words are really there
    lonely = search(store, "lonliness")
    assert all("loneliness" in h.matched for h in lonely)
    assert search(store, "walk", kinds=(NodeKind.ORGANISATION,)) == search(
        reference, "walk", kinds=(NodeKind.ORGANISATION,))


def test_how_to_refer_to_a_real_directory_activity(directories):
    store, reference = directories
    activities = sorted(a["id"] for a in pathways_from(store, "lw-sam", PathwayFilter())["activities"])
    assert activities, "the link worker reaches the services' activities"
    found = how_to_refer_many(store, "lw-sam", activities, as_of=TODAY)
    assert [f.to_dict() for f in found] == [
        f.to_dict() for f in how_to_refer_many(reference, "lw-sam", activities, as_of=TODAY)]
    for referral in found:
        first = referral.first_step
        assert first is not None and first.method_words == "e-mail" and first.self_referral
        assert first.contact.kind == "Service" and referral.freshness.status in {
            "current", "stale", "unknown"}
    with pytest.raises(PathwaysError):
        how_to_refer_many(store, "lw-sam", [activities[0], "oruk:nothing"])


def test_names_from_real_directories(directories):
    store, reference = directories
    services = reference.list_nodes(NodeKind.SERVICE)
    for node in services[:20]:
        expected = outcome(reference, NodeKind.SERVICE, node["name"])
        assert outcome(store, NodeKind.SERVICE, node["name"]) == expected
        assert expected == node["id"] or (expected[0] == "ambiguous" and node["id"] in expected[1])
    assert isinstance(outcome(store, NodeKind.SERVICE, "zzqx nothing"), tuple)
