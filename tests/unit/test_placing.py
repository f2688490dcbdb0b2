"""Placing activities in the partnership's localities: postcode prefixes (longest wins),
then a town in the address, then a postcode or a locality's name in the text (inferred)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from loaders.feeds import plan_feed
from loaders.placing import Placer
from pathways.model import NodeKind, RelType

LOCALITIES: list[dict[str, Any]] = [
    {"id": "loc-upper-valley", "name": "Upper Valley", "postcodes": ["HX7"]},
    {"id": "loc-ripponden", "name": "Ripponden", "postcodes": ["HX6 4"]},
    {"id": "loc-sowerby", "name": "Sowerby Bridge", "postcodes": "HX6;HX6 1"},
    {"id": "loc-halifax", "name": "Halifax", "postcodes": []},
]


@pytest.fixture
def placer() -> Placer:
    return Placer(LOCALITIES)


@pytest.mark.parametrize(("postcode", "locality"), [
    ("HX7 8AB", "loc-upper-valley"),
    ("hx6 4ab", "loc-ripponden"),  # sector HX6 4 beats district HX6
    ("HX61AB", "loc-sowerby"),  # no space: still sector HX6 1
    ("HX6 9ZZ", "loc-sowerby"),  # only the district is listed
])
def test_a_postcode_in_the_address_places_by_the_longest_listed_prefix(placer, postcode, locality):
    placement = placer.place(postcode=postcode)
    assert placement.locality == locality
    assert not placement.inferred and placement.rel_props() == {}


def test_two_localities_listing_the_same_prefix_place_nothing_and_say_why():
    placer = Placer([{"id": "a", "name": "A", "postcodes": ["HX1"]},
                     {"id": "b", "name": "B", "postcodes": ["HX1"]}])
    placement = placer.place(postcode="HX1 1AA")
    assert placement.locality is None
    assert "2 localities list HX1" in placement.reason


def test_a_town_in_the_address_that_names_a_locality_places_it_as_inferred(placer):
    placement = placer.place(postcode="LS1 4AP", town="  halifax ")
    assert placement.locality == "loc-halifax"
    assert placement.rel_props() == {"inferred": True, "evidence": "town in the address: 'halifax'"}


def test_without_an_address_a_postcode_in_the_text_places_as_inferred_with_evidence(placer):
    placement = placer.place(texts=["Meet at the chapel", "Chapel Lane, Hebden, HX7 6AB."])
    assert placement.locality == "loc-upper-valley"
    assert placement.inferred and "HX7 6AB" in placement.evidence


def test_a_locality_name_in_the_text_places_as_inferred_with_the_phrase(placer):
    placement = placer.place(texts=["A walking group for people in Sowerby  Bridge and nearby."])
    assert placement.locality == "loc-sowerby"
    assert placement.evidence == "place name in the text: 'Sowerby  Bridge'"


def test_two_locality_names_in_the_text_leave_the_activity_unplaced_with_a_reason(placer):
    placement = placer.place(texts=["Walks from Halifax to Ripponden"])
    assert placement.locality is None and "several localities" in placement.reason


def test_words_that_look_like_a_postcode_in_lower_case_do_not_place():
    placer = Placer([{"id": "loc-b2", "name": "Digbeth", "postcodes": ["B2"]}])
    assert placer.place(texts=["Room B2 1st floor"]).locality is None
    assert placer.place(texts=["Room 4, B2 1TH"]).locality == "loc-b2"


def test_a_name_inside_another_word_does_not_place(placer):
    assert placer.place(texts=["Halifaxshire tours"]).locality is None
    assert "no postcode, town or locality name" in placer.place(texts=["Online only"]).reason


def _oruk_feed(tmp_path: Path, locations: list[dict]) -> Path:
    services = [{
        "id": f"s{i}", "name": f"Service {i}", "status": "active",
        "description": "A friendly befriending group.",
        "organization": {"id": "o1", "name": "Org"},
        "service_at_locations": [{"id": f"sal{i}", "location": loc}],
    } for i, loc in enumerate(locations)]
    path = tmp_path / "services.json"
    path.write_text(json.dumps({"totalElements": len(services), "content": services}))
    return path


def test_a_feed_places_activities_in_the_partnerships_localities_not_made_up_towns(tmp_path):
    path = _oruk_feed(tmp_path, [
        {"name": "Hall", "latitude": "53.74", "longitude": -2.01,
         "physical_addresses": [{"city": "Hebden Bridge", "postal_code": "HX7 8AB"}]},
        {"name": "Library", "physical_addresses": [{"city": "Halifax"}]},
        {"name": "Somewhere", "latitude": 100, "longitude": 0,
         "physical_addresses": [{"city": "Leeds", "postal_code": "LS1 4AP"}]},
    ])
    plan, report = plan_feed([path], "oruk", {"loc-upper-valley": NodeKind.LOCALITY,
                                              "loc-halifax": NodeKind.LOCALITY},
                             localities=LOCALITIES)
    located = {(r.source_id, r.target_id): r.props for r in plan.rels
               if r.type == RelType.LOCATED_IN}
    assert set(located) == {("oruk:service_at_location:sal0", "loc-upper-valley"),
                            ("oruk:service_at_location:sal1", "loc-halifax")}
    assert "inferred" not in located["oruk:service_at_location:sal0", "loc-upper-valley"]
    assert located["oruk:service_at_location:sal1", "loc-halifax"]["inferred"] is True
    # no made-up locality:hebden-bridge or locality:leeds once the partnership lists postcodes
    assert not [n for n in plan.nodes if n.kind == NodeKind.LOCALITY]
    hall = next(n for n in plan.nodes if n.id == "oruk:service_at_location:sal0")
    assert (hall.props["latitude"], hall.props["longitude"]) == (53.74, -2.01)
    elsewhere = next(n for n in plan.nodes if n.id == "oruk:service_at_location:sal2")
    assert "latitude" not in elsewhere.props  # 100° is off the map: dropped and reported
    assert ("oruk:service_at_location:sal2", "dropped", "bad-coordinates") in {
        (e.record_id, e.action, e.rule) for e in report.entries}
    unplaced = [e for e in report.entries if e.rule == "no-locality"]
    assert [e.record_id for e in unplaced] == ["oruk:service_at_location:sal2"]
    assert "LS1 4AP" in unplaced[0].reason
    assert report.not_placed == 1
    assert "2 activities placed" in report.summary() and "1 could not be placed" in report.summary()


def test_without_partnership_postcodes_a_feed_still_makes_town_localities(tmp_path):
    path = _oruk_feed(tmp_path, [{"physical_addresses": [{"city": "HEBDEN BRIDGE"}]}])
    plan, report = plan_feed([path], "oruk", {})
    located = [r.target_id for r in plan.rels if r.type == RelType.LOCATED_IN]
    assert located == ["locality:hebden-bridge"]
    assert report.not_placed == 0


def test_a_town_naming_a_partnership_locality_wins_over_a_made_up_one(tmp_path):
    path = _oruk_feed(tmp_path, [{"physical_addresses": [{"city": "HALIFAX"}]},
                                 {"name": "Ripponden Library",
                                  "physical_addresses": [{"address_1": "1 Mill Lane"}]}])
    named = [{"id": "loc-halifax", "name": "Halifax"}, {"id": "loc-rip", "name": "Ripponden"}]
    plan, report = plan_feed([path], "oruk", {}, localities=named)
    located = {r.source_id: (r.target_id, r.props.get("evidence")) for r in plan.rels
               if r.type == RelType.LOCATED_IN}
    assert located == {
        "oruk:service_at_location:sal0": ("loc-halifax", "town in the address: 'HALIFAX'"),
        "oruk:service_at_location:sal1": ("loc-rip", "place name in the text: 'Ripponden'")}
    assert not [n for n in plan.nodes if n.kind == NodeKind.LOCALITY]
    assert report.not_placed == 0


def test_the_organisations_description_places_only_when_the_activitys_own_text_does_not(
        tmp_path):
    path = _oruk_feed(tmp_path, [{"name": "Hall"}, {"name": "Hall in Ripponden"}])
    data = json.loads(path.read_text())
    for service in data["content"]:
        service["organization"]["description"] = "Our office: 2 High St, Hebden, HX7 8AB."
    path.write_text(json.dumps(data))
    plan, _ = plan_feed([path], "oruk", {}, localities=LOCALITIES)
    located = {r.source_id: (r.target_id, r.props.get("evidence")) for r in plan.rels
               if r.type == RelType.LOCATED_IN}
    assert located["oruk:service_at_location:sal0"] == (
        "loc-upper-valley", "postcode in the organisation's description: 'HX7 8AB'")
    assert located["oruk:service_at_location:sal1"][0] == "loc-ripponden"


def test_living_database_activities_are_placed_by_their_venue_unless_given_a_locality(
        tmp_path):
    from pathways.loading import load_paths
    from pathways.store.embedded import EmbeddedStore
    from tests.conftest import write_folder

    store = EmbeddedStore()
    load_paths(store, [write_folder(tmp_path / "places", {"localities": [
        ["id", "name", "postcodes"], ["loc-uv", "Upper Valley", "HX7"],
        ["loc-rip", "Ripponden", "HX6 4"]]})])
    result = load_paths(store, [write_folder(tmp_path / "acts", {
        "activities": [["id", "name", "venue", "serves_whole_area"],
                       ["a-hall", "Choir", "Town Hall, Hebden Bridge HX7 8AB", ""],
                       ["a-lib", "Reading group", "Library, Ripponden", ""],
                       ["a-told", "Walk", "Hebden HX7 8AB", ""],
                       ["a-leeds", "Tea", "Leeds LS1 4AP", ""],
                       ["a-web", "Online chat", "", "yes"]],
        "relationships": [["source_id", "type", "target_id"],
                          ["a-told", "LOCATED_IN", "loc-rip"]]})])
    graph = store.snapshot()
    located = {(s, t): d["props"] for s, t, k, d in graph.edges(keys=True, data=True)
               if k in (RelType.LOCATED_IN, "LOCATED_IN")}
    assert set(located) == {("a-hall", "loc-uv"), ("a-lib", "loc-rip"), ("a-told", "loc-rip")}
    assert "inferred" not in located["a-hall", "loc-uv"]  # a postcode: a fact
    assert located["a-lib", "loc-rip"]["inferred"] is True
    assert located["a-lib", "loc-rip"]["evidence"] == "place name in the text: 'Ripponden'"
    assert set(result.not_placed) == {"a-leeds"}  # the online one serves the whole area
    assert "LS1 4AP" in result.not_placed["a-leeds"]
