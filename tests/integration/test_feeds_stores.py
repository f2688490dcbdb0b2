"""Directory feeds on both stores: same counts, routes added on top, newer feeds, privacy."""

from __future__ import annotations

import json
from pathlib import Path

from pathways.analysis.pathways import pathways_from
from pathways.loading import load_feed, load_paths
from pathways.store import PathwayFilter
from tests.conftest import HSDS_EXAMPLES, write_folder

ORUK = Path(__file__).parents[1] / "fixtures" / "oruk"
HSDS = HSDS_EXAMPLES


def test_oruk_and_hsds_feeds_give_the_same_stats_on_both_stores(embedded_store, neo4j_store):
    for store in (embedded_store, neo4j_store):
        load_feed(store, [ORUK / "service_full.json"], "oruk")
        load_feed(store, [HSDS / "csv"], "hsds")
    stats = embedded_store.stats()
    assert stats == neo4j_store.stats()
    assert stats["nodes"]["Service"] == 5  # 4 ORUK services kept (one has no name) + 1 HSDS
    assert embedded_store.snapshot().number_of_edges() == neo4j_store.snapshot().number_of_edges()


def test_routes_added_on_top_of_an_import_reach_its_activities(store, tmp_path):
    load_feed(store, [ORUK / "service_full.json"], "oruk")
    routes = write_folder(tmp_path / "ours", {
        "people": [["id", "name", "role"], ["lw-sam", "Sam Link", "link_worker"]],
        "relationships": [["source_id", "type", "target_id", "method"],
                          ["lw-sam", "REFERS_TO", "oruk:service:101", "phone"],
                          ["lw-sam", "COVERS", "locality:halifax", ""]],
    })
    load_paths(store, [routes])
    result = pathways_from(store, "lw-sam", PathwayFilter())
    assert {a["id"] for a in result["activities"]} == {
        "oruk:service_at_location:sal-101-a", "oruk:service_at_location:sal-101-b"}
    assert all(a["hops"] == 2 for a in result["activities"])
    halifax = pathways_from(store, "lw-sam", PathwayFilter(locality="locality:halifax"))
    assert [a["id"] for a in halifax["activities"]] == ["oruk:service_at_location:sal-101-a"]


def test_reimport_changes_nothing_and_a_newer_feed_retires_what_it_dropped(store):
    load_feed(store, [ORUK / "service_full.json"], "oruk")
    again = load_feed(store, [ORUK / "service_full.json"], "oruk")
    assert (again.summary.nodes_new, again.summary.nodes_changed) == (0, 0)
    assert again.retired == []
    newer = load_feed(store, [ORUK / "newer" / "service_full.json"], "oruk")
    assert newer.summary.nodes_changed >= 1
    assert "oruk:service:106" in newer.retired
    _kind, props = store.get_node("oruk:service:106")
    assert props["missing_from_feed"]
    removed = load_feed(store, [ORUK / "newer" / "service_full.json"], "oruk", remove_missing=True)
    assert "oruk:service:106" in removed.retired
    assert store.get_node("oruk:service:106") is None
    assert store.get_node("oruk:service:105") is not None  # still in the feed


def test_no_staff_email_reaches_either_store(store):
    load_feed(store, [ORUK / "service_full.json"], "oruk")
    load_feed(store, [HSDS / "csv"], "hsds")
    raw = (ORUK / "service_full.json").read_text(encoding="utf-8")
    staff = {line.split('"')[3] for line in raw.splitlines() if '"assured_by"' in line and "@" in line}
    assert staff, "the fixture should carry a reviewer e-mail to keep out"
    dumped = json.dumps([a["props"] for _, a in store.snapshot().nodes(data=True)])
    assert not any(email in dumped for email in staff)
