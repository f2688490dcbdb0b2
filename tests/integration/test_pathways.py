"""Pathway behaviour on small hand-made graphs, each test run on both stores.

The ``store`` fixture runs every test once on the embedded store and once on a real Neo4j,
so the behaviour described in the pathway issue is proven for both.
"""

from __future__ import annotations

import copy

import pytest

from pathways.analysis.pathways import pathways_from
from pathways.errors import PathwaysError, UnknownIdError
from pathways.loading import load_paths
from pathways.model import NodeKind, RelType
from pathways.store.base import PathwayFilter, WriteSummary
from tests.conftest import load_data


def named(*specs: str, **extra: str) -> list[dict]:
    """``"id=Name"`` specs as node rows, each with ``extra`` columns."""
    return [dict(zip(("id", "name"), spec.split("=", 1), strict=True), **extra) for spec in specs]


def rels(*lines: str) -> list[dict]:
    """``"a REFERS_TO b"`` lines as relationship rows."""
    return [dict(zip(("source_id", "type", "target_id"), line.split(), strict=True))
            for line in lines]


def lw(node_id: str = "lw", name: str = "Lee Worker") -> dict:
    return {"id": node_id, "name": name, "role": "link_worker"}


def reached(result: dict) -> list[tuple[str, int]]:
    return [(a["id"], a["hops"]) for a in result["activities"]]


def names(result: dict) -> list[str]:
    return [a["name"] for a in result["activities"]]


def route(result: dict, activity_id: str) -> list[str]:
    (found,) = [a for a in result["activities"] if a["id"] == activity_id]
    return [node["id"] for node in found["path"]]


# A small town: three services, five activities, filters on every axis.
TOWN = {
    "people": [lw(), {"id": "pr", "name": "Pat Practitioner", "role": "practitioner"}],
    "organisations": named("org-arts=Arts Trust", "org-walk=Walk Well", kind="cultural"),
    "services": named("svc-arts=Arts on Referral", "svc-walk=Walking Groups",
                      "svc-calm=Calm Space"),
    "activities": [
        {"id": "act-choir", "name": "Choir", "free": "yes", "schedule": "Mondays 10:00",
         "accessibility": "step_free;hearing_loop"},
        {"id": "act-paint", "name": "Painting", "accessibility": "hearing_loop"},  # free unset
        {"id": "act-cafe", "name": "Cafe", "free": "yes"},
        {"id": "act-walk", "name": "Walk", "free": "no", "cost": "£2",
         "accessibility": "step_free"},
        {"id": "act-yoga", "name": "Yoga", "free": "yes",
         "accessibility": "step_free;hearing_loop;quiet_space"},
    ],
    "needs": named("loneliness=Loneliness", "creativity=Creativity", "physical=Being active",
                   "mental=Mental health", "housing=Housing"),
    "localities": named("north=North", "south=South", "east=East"),
    "relationships": rels(
        "lw REFERS_TO svc-arts", "lw REFERS_TO org-walk", "lw REFERS_TO svc-calm",
        "org-arts PROVIDES svc-arts", "org-walk PROVIDES svc-walk",
        "svc-arts OFFERS act-choir", "svc-arts OFFERS act-paint", "svc-arts OFFERS act-cafe",
        "svc-walk OFFERS act-walk", "svc-calm OFFERS act-yoga",
        "act-choir ADDRESSES loneliness", "act-choir ADDRESSES creativity",
        "act-paint ADDRESSES creativity", "act-cafe ADDRESSES loneliness",
        "act-walk ADDRESSES physical", "act-yoga ADDRESSES mental",
        "svc-walk ADDRESSES housing",  # only the service, not its activity
        "act-choir LOCATED_IN north", "act-paint LOCATED_IN north", "act-cafe LOCATED_IN north",
        "act-cafe LOCATED_IN south", "act-walk LOCATED_IN south",
        "org-walk LOCATED_IN east", "svc-calm LOCATED_IN east",  # only providers, not activities
        "pr WORKS_FOR org-arts",
    ),
}
TOWN_IDS = [row["id"] for table, rows in TOWN.items() if table != "relationships" for row in rows]


@pytest.fixture
def town(store):
    load_data(store, TOWN)
    return store


# ---------------------------------------------------------------- hops, direction, choice


def test_hops_count_every_relationship_from_worker_to_activity(store):
    load_data(store, {
        "people": [lw()], "organisations": named("org=Org", kind="other"),
        "services": named("svc=Direct", "svc2=Via Org"),
        "activities": named("a2=Two", "a3=Three"),
        "relationships": rels("lw REFERS_TO svc", "svc OFFERS a2", "lw REFERS_TO org",
                              "org PROVIDES svc2", "svc2 OFFERS a3"),
    })
    result = pathways_from(store, "lw")
    assert result == {
        "from": {"id": "lw", "name": "Lee Worker"},
        "activities": [
            {"id": "a2", "name": "Two", "hops": 2, "path": [
                {"id": "lw", "name": "Lee Worker", "kind": "Person"},
                {"id": "svc", "name": "Direct", "kind": "Service"},
                {"id": "a2", "name": "Two", "kind": "Activity"}]},
            {"id": "a3", "name": "Three", "hops": 3, "path": [
                {"id": "lw", "name": "Lee Worker", "kind": "Person"},
                {"id": "org", "name": "Org", "kind": "Organisation"},
                {"id": "svc2", "name": "Via Org", "kind": "Service"},
                {"id": "a3", "name": "Three", "kind": "Activity"}]},
        ],
    }


CHAIN = {
    "people": [lw()], "services": named(*(f"s{i}=Service {i}" for i in range(1, 6))),
    "activities": named(*(f"a{h}=Activity {h}" for h in range(2, 7))),
    # s1..s5 in a REFERS_TO chain; a<h> hangs off the chain so that it is h hops away.
    "relationships": rels(
        "lw REFERS_TO s1", "s1 REFERS_TO s2", "s2 REFERS_TO s3", "s3 REFERS_TO s4",
        "s4 REFERS_TO s5", "s1 OFFERS a2", "s2 OFFERS a3", "s3 OFFERS a4", "s4 OFFERS a5",
        "s5 OFFERS a6",
    ),
}


@pytest.mark.parametrize("max_hops", [1, 2, 3, 4, 5, 6, None])
def test_activity_reachable_at_exactly_max_hops_not_one_more(store, max_hops):
    load_data(store, CHAIN)
    given = {} if max_hops is None else {"max_hops": max_hops}
    result = pathways_from(store, "lw", **given)
    assert reached(result) == [(f"a{h}", h) for h in range(2, (max_hops or 4) + 1)]  # default 4


@pytest.mark.parametrize("max_hops", [0, 11, -1])
def test_max_hops_outside_one_to_ten_is_refused(store, max_hops):
    load_data(store, CHAIN)
    with pytest.raises(PathwaysError, match="max hops must be between 1 and 10"):
        pathways_from(store, "lw", max_hops=max_hops)


def test_pathways_follow_relationships_only_in_their_direction(store):
    load_data(store, {
        "people": [lw()], "organisations": named("org=Org", kind="other"),
        "services": named("s1=Mine", "s2=Sibling", "s3=Referrer"),
        "activities": named("a1=Reached", "a2=Via sibling", "a3=Via referrer"),
        "relationships": rels(
            "lw REFERS_TO s1", "s1 OFFERS a1",
            "org PROVIDES s1", "org PROVIDES s2", "s2 OFFERS a2",  # lw->s1<-org->s2: reverse
            "s3 REFERS_TO s1", "s3 OFFERS a3",  # lw->s1<-s3: reverse
        ),
    })
    assert reached(pathways_from(store, "lw", max_hops=10)) == [("a1", 2)]


def test_pathways_ignore_works_for_partners_with_and_member_of(store):
    load_data(store, {
        "people": [lw()],
        "organisations": named("o1=Org 1", "o2=Org 2", "o3=Org 3", "o4=Org 4", kind="other"),
        "networks": named("net=Network"),
        "services": named("s1=S 1", "s2=S 2", "s3=S 3", "s4=S 4"),
        "activities": named("a1=A 1", "a2=A 2", "a3=A 3", "a4=A 4"),
        "relationships": rels(
            "lw REFERS_TO o1", "o1 PROVIDES s1", "s1 OFFERS a1",  # followed: 3 hops
            "o1 PARTNERS_WITH o2", "o2 PROVIDES s2", "s2 OFFERS a2",
            "lw WORKS_FOR o3", "o3 PROVIDES s3", "s3 OFFERS a3",
            "lw MEMBER_OF net", "o4 MEMBER_OF net", "o4 PROVIDES s4", "s4 OFFERS a4",
        ),
    })
    assert reached(pathways_from(store, "lw", max_hops=10)) == [("a1", 3)]


def test_shortest_path_wins_over_a_longer_one_with_smaller_names(store):
    load_data(store, {
        "people": [lw()], "organisations": named("org=AAA First", kind="other"),
        "services": named("svc=Zulu Service"),
        "activities": named("act=Art"),
        "relationships": rels("lw REFERS_TO org", "org PROVIDES svc", "lw REFERS_TO svc",
                              "svc OFFERS act"),
    })
    result = pathways_from(store, "lw")
    assert reached(result) == [("act", 2)]
    assert route(result, "act") == ["lw", "svc", "act"]


@pytest.mark.parametrize("services, winner", [
    (("svc-a=Beta", "svc-z=Alpha"), "svc-z"),  # the smaller name wins despite its larger id
    (("svc-2=Same", "svc-1=Same"), "svc-1"),  # identical names: the smaller id wins
], ids=["smaller-name", "same-name-smaller-id"])
def test_tie_between_equal_length_routes(store, services, winner):
    ids = [spec.split("=")[0] for spec in services]
    load_data(store, {
        "people": [lw()], "services": named(*services), "activities": named("act=Art"),
        "relationships": rels(*(f"lw REFERS_TO {i}" for i in ids),
                              *(f"{i} OFFERS act" for i in ids)),
    })
    assert route(pathways_from(store, "lw"), "act") == ["lw", winner, "act"]


def test_tie_compares_every_name_on_the_path_before_any_id(store):
    load_data(store, {
        "people": [lw()], "organisations": named("org-1=Same", "org-2=Same", kind="other"),
        "services": named("svc-1=Zed", "svc-2=Able"),
        "activities": named("act=Art"),
        "relationships": rels("lw REFERS_TO org-1", "org-1 PROVIDES svc-1", "svc-1 OFFERS act",
                              "lw REFERS_TO org-2", "org-2 PROVIDES svc-2", "svc-2 OFFERS act"),
    })
    # names along the routes: Lee Worker, Same, Able, Art  <  Lee Worker, Same, Zed, Art
    assert route(pathways_from(store, "lw"), "act") == ["lw", "org-2", "svc-2", "act"]


def test_each_activity_appears_once_however_many_routes_reach_it(store):
    load_data(store, {
        "people": [lw()], "organisations": named("org=Org", kind="other"),
        "services": named("s1=S 1", "s2=S 2", "s3=S 3"),
        "activities": named("act=Art"),
        "relationships": rels("lw REFERS_TO s1", "lw REFERS_TO s2", "lw REFERS_TO org",
                              "org PROVIDES s3", "org REFERS_TO s1", "s1 REFERS_TO s2",
                              "s1 OFFERS act", "s2 OFFERS act", "s3 OFFERS act"),
    })
    result = pathways_from(store, "lw", max_hops=10)
    assert reached(result) == [("act", 2)]
    assert route(result, "act") == ["lw", "s1", "act"]


def test_results_sorted_by_hops_then_name(store):
    load_data(store, {
        "people": [lw()], "organisations": named("org=Org", kind="other"),
        "services": named("s1=Near", "s2=Far"),
        "activities": named("a-zumba=Zumba", "a-art=Art", "a-bowls=Bowls", "a-aqua=Aqua"),
        "relationships": rels("lw REFERS_TO s1", "lw REFERS_TO org", "org PROVIDES s2",
                              "s1 OFFERS a-zumba", "s1 OFFERS a-bowls", "s2 OFFERS a-art",
                              "s2 OFFERS a-aqua"),
    })
    assert names(pathways_from(store, "lw")) == ["Bowls", "Zumba", "Aqua", "Art"]


# ---------------------------------------------------------------- filters


FILTER_CASES = {
    "no-filter": (PathwayFilter(), ["Cafe", "Choir", "Painting", "Yoga", "Walk"]),
    "need": (PathwayFilter(needs=("loneliness",)), ["Cafe", "Choir"]),
    "needs-any-of": (PathwayFilter(needs=("loneliness", "physical")), ["Cafe", "Choir", "Walk"]),
    "need-of-service-only": (PathwayFilter(needs=("housing",)), []),
    "locality-north": (PathwayFilter(locality="north"), ["Cafe", "Choir", "Painting"]),
    "locality-south": (PathwayFilter(locality="south"), ["Cafe", "Walk"]),
    "locality-of-providers-only": (PathwayFilter(locality="east"), []),
    "free-only-excludes-unset": (PathwayFilter(free_only=True), ["Cafe", "Choir", "Yoga"]),
    "access-one": (PathwayFilter(access=("step_free",)), ["Choir", "Yoga", "Walk"]),
    "access-all-of-two": (PathwayFilter(access=("step_free", "hearing_loop")), ["Choir", "Yoga"]),
    "access-all-of-three": (PathwayFilter(access=("quiet_space", "hearing_loop", "step_free")),
                            ["Yoga"]),
    "need-and-locality": (PathwayFilter(needs=("creativity",), locality="north"),
                          ["Choir", "Painting"]),
    "need-locality-free": (PathwayFilter(needs=("creativity",), locality="north", free_only=True),
                           ["Choir"]),
    "needs-free-access": (PathwayFilter(needs=("loneliness", "mental"), free_only=True,
                                        access=("hearing_loop",)), ["Choir", "Yoga"]),
    "locality-free": (PathwayFilter(locality="south", free_only=True), ["Cafe"]),
    "need-access-none": (PathwayFilter(needs=("physical",), access=("hearing_loop",)), []),
}


@pytest.mark.parametrize("where, expected", FILTER_CASES.values(), ids=FILTER_CASES.keys())
def test_filters_keep_only_matching_activities(town, where, expected):
    assert names(pathways_from(town, "lw", where)) == expected


def test_filter_keeps_the_shortest_route_of_each_kept_activity(town):
    result = pathways_from(town, "lw", PathwayFilter(needs=("physical",)))
    assert reached(result) == [("act-walk", 3)]
    assert route(result, "act-walk") == ["lw", "org-walk", "svc-walk", "act-walk"]


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize("not_a_worker", ["pr", "org-arts", "act-choir"])
def test_someone_or_something_other_than_a_link_worker_is_refused(town, not_a_worker):
    with pytest.raises(PathwaysError, match="not a link worker") as info:
        pathways_from(town, not_a_worker)
    assert not isinstance(info.value, UnknownIdError)


@pytest.mark.parametrize("worker, where, bad_id", [
    ("nobody", PathwayFilter(), "nobody"),
    ("lw", PathwayFilter(needs=("loneliness", "no-such-need")), "no-such-need"),
    ("lw", PathwayFilter(needs=("north",)), "north"),  # a locality is not a need
    ("lw", PathwayFilter(locality="no-such-place"), "no-such-place"),
    ("lw", PathwayFilter(locality="loneliness"), "loneliness"),  # a need is not a locality
])
def test_unknown_worker_need_or_locality_is_an_unknown_id(town, worker, where, bad_id):
    with pytest.raises(UnknownIdError) as info:
        pathways_from(town, worker, where)
    assert info.value.node_id == bad_id


# ---------------------------------------------------------------- other reads


def test_stats_list_every_kind_and_type_with_zero_counts(store):
    zero = {"nodes": {k.value: 0 for k in NodeKind}, "relationships": {t.value: 0 for t in RelType}}
    assert store.stats() == zero
    load_data(store, TOWN)
    assert store.stats() == {
        "nodes": {"Person": 2, "Organisation": 2, "Service": 3, "Activity": 5, "Locality": 3,
                  "Need": 5, "Network": 0, "Funder": 0},
        "relationships": {"WORKS_FOR": 1, "PROVIDES": 2, "OFFERS": 5, "ADDRESSES": 7,
                          "DOES_NOT_ADDRESS": 0, "LOCATED_IN": 7, "COVERS": 0, "REFERS_TO": 3, "MEMBER_OF": 0,
                          "PARTNERS_WITH": 0, "FUNDED_BY": 0},
    }


def test_list_nodes_sorted_by_name_then_id_with_role_filter(store):
    load_data(store, {"people": [
        lw("p-3", "Sam"), {"id": "p-1", "name": "Sam", "role": "volunteer"}, lw("p-2", "Alex"),
        lw("p-0", "Sam"), {"id": "p-9", "name": "Ash", "role": "commissioner"}, lw("p-5", "Zoë"),
    ], "services": named("svc=Aardvark")})
    everyone = store.list_nodes(NodeKind.PERSON)
    assert [(p["name"], p["id"]) for p in everyone] == [
        ("Alex", "p-2"), ("Ash", "p-9"), ("Sam", "p-0"), ("Sam", "p-1"), ("Sam", "p-3"),
        ("Zoë", "p-5")]
    workers = store.list_nodes(NodeKind.PERSON, role="link_worker")
    assert [p["id"] for p in workers] == ["p-2", "p-0", "p-3", "p-5"]
    assert {p["role"] for p in workers} == {"link_worker"}
    assert store.list_nodes(NodeKind.FUNDER) == []


def test_activity_details_give_providers_localities_and_needs(town):
    details = town.activity_details(["act-cafe", "act-walk", "no-such-activity"])
    assert set(details) == {"act-cafe", "act-walk"}
    cafe, walk = details["act-cafe"], details["act-walk"]
    assert (cafe["name"], cafe["free"], cafe["providers"], cafe["localities"], cafe["needs"]) == (
        "Cafe", True, ["Arts Trust"], ["North", "South"], ["Loneliness"])
    assert (walk["free"], walk["cost"], walk["accessibility"]) == (False, "£2", ["step_free"])
    assert (walk["providers"], walk["localities"], walk["needs"]) == (
        ["Walk Well"], ["South"], ["Being active"])
    yoga = town.activity_details(["act-yoga"])["act-yoga"]
    assert yoga["providers"] == []  # its service has no organisation
    assert yoga["localities"] == []  # its service is located in east, the activity is not


def test_relationships_among_only_those_with_both_ends_given(town):
    found = town.relationships_among(["svc-arts", "act-choir", "lw", "org-arts", "no-such-id"])
    assert found == [("lw", RelType.REFERS_TO, "svc-arts"),
                     ("org-arts", RelType.PROVIDES, "svc-arts"),
                     ("svc-arts", RelType.OFFERS, "act-choir")]


# ---------------------------------------------------------------- loading again


LATER = "2099-01-01T00:00:00+00:00"


@pytest.fixture
def later_clock(monkeypatch):
    """Make the next load happen at LATER, so a refreshed ``loaded_at`` shows."""
    return lambda: [monkeypatch.setattr(f"pathways.store.{m}.now_iso", lambda: LATER)
                    for m in ("embedded", "neo4j_load")]


def snapshot(store) -> dict:
    return {node_id: store.get_node(node_id) for node_id in TOWN_IDS}


def test_loading_the_same_rows_twice_changes_nothing(store, later_clock):
    load_data(store, TOWN)
    before, stats, result = snapshot(store), store.stats(), pathways_from(store, "lw")
    later_clock()
    summary = load_data(store, TOWN)
    assert summary == WriteSummary(0, 0, len(TOWN_IDS), 0, 0, len(TOWN["relationships"]))
    assert store.stats() == stats
    assert snapshot(store) == before  # loaded_at kept too: nothing changed
    assert pathways_from(store, "lw") == result


def test_loading_a_changed_row_updates_its_node_only(store, later_clock):
    load_data(store, TOWN)
    before, stats = snapshot(store), store.stats()
    changed = copy.deepcopy(TOWN)
    changed["activities"][0] = {"id": "act-choir", "name": "Community Choir", "free": "no",
                                "accessibility": "step_free;hearing_loop"}  # schedule blanked
    later_clock()
    summary = load_data(store, changed)
    assert (summary.nodes_new, summary.nodes_changed, summary.rels_changed) == (0, 1, 0)
    assert store.stats() == stats
    kind, choir = store.get_node("act-choir")
    assert (kind, choir["name"], choir["free"], choir["loaded_at"]) == (
        NodeKind.ACTIVITY, "Community Choir", False, LATER)
    assert "schedule" not in choir
    after = snapshot(store)
    assert {i for i in TOWN_IDS if after[i] != before[i]} == {"act-choir"}
    assert "Community Choir" in names(pathways_from(store, "lw"))
    assert "Community Choir" not in names(pathways_from(store, "lw", PathwayFilter(free_only=True)))


def test_loading_the_demo_data_twice_leaves_stats_identical(store, demo_dir):
    first = load_paths(store, [demo_dir])
    stats = store.stats()
    assert stats["nodes"]["Activity"] > 0 and stats["relationships"]["OFFERS"] > 0
    second = load_paths(store, [demo_dir])
    assert store.stats() == stats
    assert (second.summary.nodes_new, second.summary.nodes_changed) == (0, 0)
    assert (second.summary.rels_new, second.summary.rels_changed) == (0, 0)
    assert second.summary.nodes_unchanged == first.summary.nodes_new
