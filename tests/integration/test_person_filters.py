"""Filters that fit a person (issue 14, item 5), each test run on both stores.

Whole-area activities (online, borough-wide) match every locality, exactly as the Gaps
heatmap counts them; the person's age, the days and times they can make, and
self-referral only narrow the list the same way in the embedded store and in Neo4j.
"""

from __future__ import annotations

import pytest

from pathways.analysis.gaps import GapQuery, gap_report
from pathways.analysis.pathways import Pathways, pathways_from
from pathways.analysis.places import locality_for_postcode
from pathways.loading import load_paths
from pathways.model import NodeKind, TimeSlot, serves_whole_area
from pathways.store.base import PathwayFilter
from tests.conftest import load_data


def names(result: Pathways) -> list[str]:
    return sorted(a["name"] for a in result["activities"])


# --------------------------------------------------------------------------- whole area


def test_whole_area_activity_shows_for_every_locality_on_the_demo(store, demo_dir):
    """'Chair Exercise Online' showed for Elland (its base) and vanished for Todmorden."""
    load_paths(store, [demo_dir])
    online = {a["id"]: a for a in store.list_nodes(NodeKind.ACTIVITY) if serves_whole_area(a)}
    chair = next(a["id"] for a in online.values() if a["name"] == "Chair Exercise Online")
    places = {loc["name"]: loc["id"] for loc in store.list_nodes(NodeKind.LOCALITY)}
    workers = [p["id"] for p in store.list_nodes(NodeKind.PERSON, role="link_worker")]
    reaching = [w for w in workers
                if chair in {a["id"] for a in pathways_from(store, w)["activities"]}]
    assert reaching
    for place in ("Elland", "Todmorden"):
        found = pathways_from(store, reaching[0], PathwayFilter(locality=places[place]))
        assert "Chair Exercise Online" in names(found), place
    checked = 0
    for worker in workers:  # and every whole-area activity, for every locality
        whole = {a["id"] for a in pathways_from(store, worker)["activities"]} & set(online)
        for place_id in places.values():
            local = pathways_from(store, worker, PathwayFilter(locality=place_id))
            missing = whole - {a["id"] for a in local["activities"]}
            assert not missing, (worker, place_id, sorted(missing))
            checked += len(whole)
    assert checked > len(places)


def test_locality_filter_agrees_with_the_gaps_heatmap(store, demo_dir):
    """For each link worker and locality, the activities (with a need) the locality filter
    keeps are exactly those the heatmap counts in that locality, among those the worker
    reaches: one rule for "serves the whole area" in both."""
    load_paths(store, [demo_dir])
    report = gap_report(store, GapQuery())
    counted = {(row["locality"], a) for row in report["coverage"] for a in row["activities"]}
    with_needs = {a for _, a in counted}
    compared = 0
    for worker in store.list_nodes(NodeKind.PERSON, role="link_worker"):
        reached = {a["id"] for a in pathways_from(store, worker["id"])["activities"]}
        for place in store.list_nodes(NodeKind.LOCALITY):
            found = pathways_from(store, worker["id"], PathwayFilter(locality=place["id"]))
            kept = {a["id"] for a in found["activities"]} & with_needs
            expected = {a for a in reached & with_needs if (place["id"], a) in counted}
            assert kept == expected, (worker["id"], place["id"])
            compared += len(kept)
    assert compared > 0


# --------------------------------------------------------------------------- a small town


def _rels(*lines: str) -> list[dict]:
    return [dict(zip(("source_id", "type", "target_id"), line.split(), strict=True))
            for line in lines]


TOWN = {
    "people": [{"id": "lw", "name": "Lee Worker", "role": "link_worker"}],
    "organisations": [{"id": "org-arts", "name": "Arts Trust", "kind": "cultural"},
                      {"id": "org-gp", "name": "Health Centre", "kind": "gp_practice"}],
    "services": [{"id": "svc-arts", "name": "Arts on Referral"},
                 {"id": "svc-walk", "name": "Walking Groups"},
                 {"id": "svc-clinic", "name": "Clinic Groups"}],
    "activities": [
        {"id": "act-youth", "name": "Youth Art", "age_min": "11", "age_max": "18",
         "schedule": "Saturdays 10:00–12:00"},
        {"id": "act-adult", "name": "Adult Art", "age_min": "18",
         "schedule": "Tuesdays 10am–12 noon"},
        {"id": "act-walk", "name": "Town Walk", "schedule": "Mon-Fri 9-5"},
        {"id": "act-online", "name": "Online Choir", "serves_whole_area": "yes",
         "age_max": "64", "schedule": "every other Thursday"},
        {"id": "act-clinic", "name": "Clinic Group", "schedule": "By appointment"},
    ],
    "localities": [{"id": "north", "name": "North"}, {"id": "south", "name": "South"}],
    "relationships": [
        *_rels("org-arts PROVIDES svc-arts", "org-gp PROVIDES svc-clinic",
               "svc-arts OFFERS act-youth", "svc-arts OFFERS act-adult",
               "svc-walk OFFERS act-walk", "svc-walk OFFERS act-online",
               "svc-clinic OFFERS act-clinic",
               "act-youth LOCATED_IN north", "act-adult LOCATED_IN north",
               "act-walk LOCATED_IN south", "act-online LOCATED_IN south",
               "act-clinic LOCATED_IN north"),
        # self-referral: to the arts organisation (so its services' activities), and to
        # the walking groups only from the clinic; the link worker's route there is "no".
        {"source_id": "lw", "type": "REFERS_TO", "target_id": "org-arts", "self_referral": "yes"},
        {"source_id": "lw", "type": "REFERS_TO", "target_id": "org-gp", "self_referral": "no"},
        {"source_id": "lw", "type": "REFERS_TO", "target_id": "svc-walk", "self_referral": "no"},
        {"source_id": "svc-clinic", "type": "REFERS_TO", "target_id": "svc-walk",
         "self_referral": "yes"},
    ],
}


@pytest.fixture
def town(store):
    load_data(store, TOWN)
    return store


def found(store, **where) -> list[str]:
    return names(pathways_from(store, "lw", PathwayFilter(**where)))


def test_whole_area_activity_matches_a_locality_it_is_not_in(town):
    assert found(town, locality="north") == ["Adult Art", "Clinic Group", "Online Choir",
                                             "Youth Art"]
    assert found(town, locality="south") == ["Online Choir", "Town Walk"]


@pytest.mark.parametrize("age, expected", [
    (10, ["Clinic Group", "Online Choir", "Town Walk"]),  # no range, or only a maximum
    (11, ["Clinic Group", "Online Choir", "Town Walk", "Youth Art"]),  # ends are inclusive
    (18, ["Adult Art", "Clinic Group", "Online Choir", "Town Walk", "Youth Art"]),
    (64, ["Adult Art", "Clinic Group", "Online Choir", "Town Walk"]),
    (65, ["Adult Art", "Clinic Group", "Town Walk"]),
])
def test_age_keeps_activities_whose_range_admits_it(town, age, expected):
    assert found(town, age=age) == expected


def test_self_referral_only_keeps_activities_a_person_can_refer_themselves_to(town):
    # Arts: a self-referral route to its organisation; walks: one from the clinic, even
    # though the link worker's own route is not self-referral; the clinic: none.
    assert found(town, self_referral_only=True) == ["Adult Art", "Online Choir",
                                                    "Town Walk", "Youth Art"]
    assert "Clinic Group" in found(town)


def test_age_and_unknown_age_are_checked(town):
    from pathways.errors import PathwaysError

    with pytest.raises(PathwaysError, match="age"):
        pathways_from(town, "lw", PathwayFilter(age=-1))


@pytest.mark.parametrize("slots, expected", [
    # Tuesday late morning: the adult class (10am-12 noon) and the weekday walk (Mon-Fri
    # 9-5); "By appointment" gives no sessions, so the clinic stays, flagged.
    (["TU 11:00-13:00"], ["Adult Art", "Clinic Group", "Town Walk"]),
    # Saturday from noon: the youth class ends at 12:00, so it does not fit.
    (["SA 12:00-14:00"], ["Clinic Group"]),
    (["SA 11:00-11:30"], ["Clinic Group", "Youth Art"]),
    # Thursday evening: "every other Thursday" (no times) fits any Thursday time.
    (["TH 18:00-20:00"], ["Clinic Group", "Online Choir"]),
    # any of several slots
    (["SU", "SA 09:00-10:30"], ["Clinic Group", "Youth Art"]),
])
def test_times_keep_activities_with_an_overlapping_session(town, slots, expected):
    times = tuple(TimeSlot.parse(s) for s in slots)
    result = pathways_from(town, "lw", PathwayFilter(times=times))
    assert names(result) == expected
    unknown = sorted(a["name"] for a in result["activities"] if a["schedule_unknown"])
    assert unknown == ["Clinic Group"]


def test_filters_combine(town):
    times = (TimeSlot("TU", "09:00", "10:30"),)
    assert found(town, times=times, age=30, self_referral_only=True,
                 locality="north") == ["Adult Art"]
    assert found(town, times=times, age=30, locality="south") == ["Town Walk"]


# --------------------------------------------------------------------------- postcodes


def test_postcode_finds_the_same_locality_in_both_stores(store, demo_dir):
    load_paths(store, [demo_dir])
    todmorden = locality_for_postcode(store, "ol14 5ab")
    assert todmorden.locality == {"id": "loc-todmorden", "name": "Todmorden"}
    north = locality_for_postcode(store, "HX2 8AB")  # a sector beats Central Halifax's HX2
    assert (north.locality["name"], north.matched) == ("North Halifax", "HX2 8")
    assert not locality_for_postcode(store, "LS1 4AP").found
