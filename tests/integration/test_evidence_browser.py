"""The Pathways page shows why an imported activity has its needs and locality: "Loneliness
and isolation (inferred from 'befriending')", "Calder Central (placed by postcode HX1 1QG)";
on both stores, in the browser (activity details) and in the network's node details."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pages._network import _details
from pathways.loading import load_feed, load_paths
from pathways.webstore import set_store
from tests.conftest import write_folder
from tests.integration.a11y import axe_violations, describe

ACTIVITY = "oruk:service_at_location:sal-1"
LONELY = "Loneliness and isolation (inferred from 'befriending')"
PLACED = "Calder Central (placed by postcode HX1 1QG)"
GIVEN_NEED = "Support for carers"


def _load(store, tmp_path: Path) -> None:
    ours = write_folder(tmp_path / "ours", {
        "people": [["id", "name", "role"], ["lw-sam", "Sam Link", "link_worker"]],
        "localities": [["id", "name", "postcodes"], ["calder-central", "Calder Central", "HX1"]],
        "needs": [["id", "name"], ["carers", GIVEN_NEED]],
    })
    load_paths(store, [ours])
    feed = tmp_path / "feed" / "services.json"
    feed.parent.mkdir()
    feed.write_text(json.dumps([{
        "id": "1", "name": "Calder Friends", "description": "A befriending service.",
        "organization": {"id": "org-1", "name": "Calder Trust"},
        "service_at_locations": [{"id": "sal-1", "location": {
            "id": "loc-1", "name": "Square Chapel",
            "physical_addresses": [{"address_1": "10 Square Road", "city": "Halifax",
                                    "postal_code": "HX1 1QG"}]}}],
    }]), encoding="utf-8")
    load_feed(store, [feed], "oruk")
    routes = write_folder(tmp_path / "routes", {"relationships": [
        ["source_id", "type", "target_id"], ["lw-sam", "REFERS_TO", "oruk:service:1"],
        [ACTIVITY, "ADDRESSES", "carers"]]})
    load_paths(store, [routes])


def test_node_details_show_each_need_and_locality_with_its_evidence(store, tmp_path):
    _load(store, tmp_path)
    network = {"nodes": [{"id": ACTIVITY, "name": "Calder Friends", "kind": "Activity"}],
               "edges": []}
    _props, kind, facts = _details(store, network, ACTIVITY, contacts=False)
    shown = dict(facts)
    assert kind == "Activity"
    assert shown["Needs"] == f"{LONELY}; {GIVEN_NEED}"  # a given need: just its name
    assert shown["Locality"] == PLACED


@pytest.mark.browser
def test_the_activity_details_say_why_it_has_its_needs_and_locality(dash_duo, store, tmp_path,
                                                                    browser_available):
    _load(store, tmp_path)
    set_store(store)
    from app import app

    try:
        dash_duo.start_server(app)
        dash_duo.wait_for_element("#pw-table .ag-center-cols-container .ag-row[row-index='0']"
                                  " .ag-cell", timeout=20).click()
        dash_duo.wait_for_contains_text("#pw-details", "inferred from", timeout=20)
        details = dash_duo.find_element("#pw-details").text
        assert LONELY in details and GIVEN_NEED in details
        assert PLACED in details
        assert describe(axe_violations(dash_duo.driver)) == ""
    finally:
        set_store(None)
