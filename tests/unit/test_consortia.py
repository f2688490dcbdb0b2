"""Consortia on the embedded store: the demo opportunity, each rule of the module docstring on
small hand-made graphs, claimed coverage against an independent recomputation on seeded
random graphs, and the ``pathways consortia`` command."""

from __future__ import annotations

import csv
import io
import json
import random
from collections import defaultdict
from itertools import combinations

import pytest
from click.testing import CliRunner

from pathways.analysis.consortia import (
    Cell,
    Opportunity,
    chain_between,
    consortia,
    landscape,
    suggest,
    tie_count,
    tie_graph,
)
from pathways.cli import cli, main
from pathways.errors import PathwaysError, UnknownIdError
from pathways.loading import demo_data_dir, load_paths
from pathways.store.embedded import EmbeddedStore
from tests.conftest import load_data

DEMO_NEEDS = ("loneliness", "mental_health")
DEMO_PLACES = ("loc-north-halifax", "loc-central-halifax", "loc-todmorden")
GAP = ["loneliness", "loc-todmorden"]
NAMES = {"a": "Alpha", "b": "Bravo", "c": "Charlie", "d": "Delta", "e": "Echo"}


# ------------------------------------------------------------------ independent recomputation


def rows(data: dict, rel: str) -> dict[str, set[str]]:
    out: dict[str, set[str]] = defaultdict(set)
    for r in (r for r in data.get("relationships", []) if r["type"] == rel):
        out[r["source_id"]].add(r["target_id"])
    return out


def fits(act: dict, opp: Opportunity) -> bool:
    if opp.free_only and act.get("free") != "yes":
        return False
    if not set(opp.access) <= set(filter(None, act.get("accessibility", "").split(";"))):
        return False
    low, high = (int(act[k]) if act.get(k) else None for k in ("age_min", "age_max"))
    too_old = opp.age_max is not None and low is not None and low > opp.age_max
    return not too_old and not (opp.age_min is not None and high is not None and high < opp.age_min)


def providers_from_tables(data: dict, opp: Opportunity) -> dict[tuple, dict[str, set[str]]]:
    """{(need, locality): {organisation: activities}} by walking Organisation -PROVIDES->
    Service -OFFERS-> Activity -ADDRESSES-> Need, with LOCATED_IN or serves_whole_area."""
    provides, offers = rows(data, "PROVIDES"), rows(data, "OFFERS")
    addresses, located = rows(data, "ADDRESSES"), rows(data, "LOCATED_IN")
    acts = {a["id"]: a for a in data["activities"]}
    cells: dict[Cell, defaultdict[str, set[str]]] = {
        (n, p): defaultdict(set) for n in opp.needs for p in opp.localities}
    for org in (o["id"] for o in data["organisations"]):
        for act in {a for s in provides[org] for a in offers[s]}:
            if fits(acts[act], opp):
                whole = acts[act].get("serves_whole_area") == "yes"
                for need in addresses[act] & set(opp.needs):
                    for place in opp.localities if whole else located[act] & set(opp.localities):
                        cells[(need, place)][org].add(act)
    return {cell: dict(orgs) for cell, orgs in cells.items()}


def ties_from_tables(data: dict, a: str, b: str) -> int:
    partners, nets, refers = rows(data, "PARTNERS_WITH"), rows(data, "MEMBER_OF"), rows(data, "REFERS_TO")
    side = {o: {o} | rows(data, "PROVIDES")[o] for o in (a, b)}
    routes = sum(len(refers[s] & side[y]) for x, y in ((a, b), (b, a)) for s in side[x])
    return (b in partners[a]) + (a in partners[b]) + len(nets[a] & nets[b]) + routes


def cellset(pairs) -> set[tuple]:
    return {tuple(p) for p in pairs}


def members(suggestion) -> list[str]:
    return [m["id"] for m in suggestion["members"]]


def cells_of(report) -> dict[tuple, dict[str, set[str]]]:
    return {(c["need"], c["locality"]): {o["id"]: set(o["activities"]) for o in c["organisations"]}
            for c in report["cells"]}


def covers_of(cells: dict) -> dict[str, set[tuple]]:
    """{organisation: its cells} from {(need, locality): {organisation: activities}}."""
    covers = defaultdict(set)
    for cell, orgs in cells.items():
        for org in orgs:
            covers[org].add(cell)
    return covers


# ------------------------------------------------------------------ the demo


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory):
    store = EmbeddedStore(tmp_path_factory.mktemp("demo") / "graph.json")
    load_paths(store, [demo_data_dir()])
    return store


def test_demo_top_suggestion_covers_every_coverable_cell_and_names_todmorden_loneliness(demo_store):
    report = consortia(demo_store, Opportunity(DEMO_NEEDS, DEMO_PLACES))
    assert report["uncoverable"] == [GAP]
    top = report["suggestions"][0]
    assert cellset(top["covered"]) == {(n, p) for n in DEMO_NEEDS for p in DEMO_PLACES} - {tuple(GAP)}
    assert top["reasons"][0] == "covers 5 of 5 coverable cells (1 cell no organisation covers)"
    assert len(report["suggestions"]) > 1
    assert all(GAP in s["uncovered"] for s in report["suggestions"])


def test_demo_cells_list_the_organisations_the_csv_files_say(demo_store):
    data = {}
    for path in demo_data_dir().glob("*.csv"):
        with path.open(encoding="utf-8-sig", newline="") as handle:
            data[path.stem] = list(csv.DictReader(handle))
    opp = Opportunity(DEMO_NEEDS, DEMO_PLACES)
    got = cells_of(consortia(demo_store, opp))
    assert got == providers_from_tables(data, opp)
    assert got[tuple(GAP)] == {} and len(got[("mental_health", "loc-todmorden")]) == 5


# ------------------------------------------------------------------ hand-made graphs


def act(org: str, needs: str, places: str = "", **props) -> dict:
    return {"org": org, "needs": needs.split(), "places": places.split(), **props}


def world(*acts: dict, rels=(), workers=()) -> dict:
    """Organisations a..e (each with one service svc-<org>), needs n1 n2, localities l1..l3."""
    orgs = sorted({a["org"] for a in acts} | {x for r in rels for x in r if x in NAMES})
    data = {
        "needs": [{"id": n, "name": f"Need {n}"} for n in ("n1", "n2")],
        "localities": [{"id": p, "name": f"Place {p}"} for p in ("l1", "l2", "l3")],
        "organisations": [{"id": o, "name": NAMES[o], "kind": "other"} for o in orgs],
        "services": [{"id": f"svc-{o}", "name": f"{NAMES[o]} service"} for o in orgs],
        "people": [{"id": w, "name": "Worker", "role": "link_worker"} for w in workers],
        "networks": [{"id": n, "name": n} for n in sorted({r[2] for r in rels if r[1] == "MEMBER_OF"})],
        "activities": [{"id": f"act{i}", "name": f"Activity {i}",
                        **{k: v for k, v in a.items() if k not in ("org", "needs", "places")}}
                       for i, a in enumerate(acts)],
    }
    links = [(o, "PROVIDES", f"svc-{o}") for o in orgs] + list(rels)
    for i, a in enumerate(acts):
        links += [(f"svc-{a['org']}", "OFFERS", f"act{i}")] + [(f"act{i}", "ADDRESSES", n) for n in a["needs"]]
        links += [(f"act{i}", "LOCATED_IN", p) for p in a["places"]]
    data["relationships"] = [{"source_id": s, "type": t, "target_id": d} for s, t, d in links]
    return {table: content for table, content in data.items() if content}


def snapshot(data: dict):
    store = EmbeddedStore()
    load_data(store, data)
    return store.snapshot()


def run_suggest(data, needs=("n1",), places=("l1", "l2", "l3"), **kw):
    filters = {k: kw.pop(k) for k in ("free_only", "access", "age_min", "age_max") if k in kw}
    return suggest(snapshot(data), Opportunity(tuple(needs), tuple(places), **filters), **kw)


def test_an_activity_serving_the_whole_area_covers_every_locality():
    report = run_suggest(world(act("a", "n1", "l1", serves_whole_area="yes"), act("b", "n1", "l2")))
    assert report["uncoverable"] == [] and members(report["suggestions"][0]) == ["a"]
    assert {c[1]: set(orgs) for c, orgs in cells_of(report).items()} == {"l1": {"a"}, "l2": {"a", "b"}, "l3": {"a"}}


@pytest.mark.parametrize("filters, kept", [
    ({}, {"a", "b", "c"}), ({"free_only": True}, {"a"}), ({"access": ("step_free",)}, {"b"}),
    ({"access": ("step_free", "hearing_loop")}, {"b"}), ({"access": ("step_free", "bsl")}, set()),
    ({"free_only": True, "access": ("step_free",)}, set()),
])
def test_free_only_and_access_filters_decide_who_covers_a_cell(filters, kept):
    data = world(act("a", "n1", "l1", free="yes", accessibility="quiet_space"),
                 act("b", "n1", "l1", free="no", accessibility="step_free;hearing_loop"),
                 act("c", "n1", "l1"))  # cost and access unknown: fits no filter
    report = run_suggest(data, places=("l1",), **filters)
    assert set(cells_of(report)[("n1", "l1")]) == kept
    assert report["uncoverable"] == ([] if kept else [["n1", "l1"]])


@pytest.mark.parametrize("ages, wanted, covers", [
    (("18", "64"), (65, None), False),  # the opportunity starts after the activity's oldest age
    (("18", "64"), (None, 17), False),  # ... or ends before its youngest
    (("18", "64"), (60, 80), True), (("18", "64"), (5, 18), True),  # overlapping, or touching
    (("18", ""), (70, 90), True), (("", "12"), (13, None), False), (("", ""), (0, 5), True),
])
def test_age_ranges_count_only_when_they_overlap(ages, wanted, covers):
    data = world(act("a", "n1", "l1", age_min=ages[0], age_max=ages[1]))
    report = run_suggest(data, places=("l1",), age_min=wanted[0], age_max=wanted[1])
    assert bool(report["suggestions"]) is covers and (report["uncoverable"] == []) is covers


def test_greedy_takes_the_organisation_covering_most_cells_first():
    # Alpha covers 2 of the 4 cells, Echo 3: Echo comes first, then Alpha adds (n2, l1).
    data = world(act("a", "n1 n2", "l1"), act("e", "n1", "l1 l2"), act("e", "n2", "l2"))
    top = run_suggest(data, needs=("n1", "n2"), places=("l1", "l2"))["suggestions"][0]
    assert members(top) == ["e", "a"]
    assert top["reasons"][1] == "Echo brings 3 cells, 2 that no other member covers"


def test_a_member_the_others_make_redundant_is_dropped():
    # Alpha covers four of six cells and is taken first; Bravo and Charlie then add one
    # each, and between them they also cover all of Alpha's cells: Alpha is dropped.
    data = world(act("a", "n1 n2", "l1 l2"), act("b", "n1 n2", "l1"), act("b", "n1", "l3"),
                 act("c", "n1 n2", "l2"), act("c", "n2", "l3"))
    report = run_suggest(data, needs=("n1", "n2"))
    assert members(report["suggestions"][0]) == ["b", "c"] and len(report["suggestions"][0]["covered"]) == 6
    brings = covers_of(cells_of(report))
    for s in report["suggestions"]:
        for m in members(s):
            assert brings[m] - set().union(*(brings[o] for o in members(s) if o != m)), (m, members(s))


def test_alternatives_differ_from_the_first_suggestion_and_from_each_other():
    data = world(act("a", "n1", "l1 l2"), act("b", "n1", "l1"), act("c", "n1", "l2"),
                 act("d", "n1", "l1 l2"), act("e", "n1", "l3"))
    sets = [frozenset(members(s)) for s in run_suggest(data)["suggestions"]]
    assert len(sets) == len(set(sets)) == 3
    assert sets[0] == {"a", "e"} and {"d", "e"} in sets  # without Alpha, Delta takes its place


def test_max_size_limits_members_and_leaves_the_rest_uncovered():
    data = world(act("a", "n1", "l1"), act("b", "n1", "l2"), act("c", "n1", "l3"))
    report = run_suggest(data, max_size=2)
    assert all(len(s["members"]) <= 2 for s in report["suggestions"]) and report["uncoverable"] == []
    assert next((len(s["covered"]), len(s["uncovered"])) for s in report["suggestions"]) == (2, 1)
    assert len(run_suggest(data, max_size=3)["suggestions"][0]["covered"]) == 3


@pytest.mark.parametrize("acts, rels, places, ranked", [
    # Alpha l1+l2, Bravo l1 and Charlie l2 (partners), Echo alone in l3: cells first, then size.
    ([act("a", "n1", "l1 l2"), act("b", "n1", "l1"), act("c", "n1", "l2"), act("e", "n1", "l3")],
     [("b", "PARTNERS_WITH", "c")], ("l1", "l2", "l3"), [(["a", "e"], 3, 0), (["b", "c", "e"], 3, 1), (["a"], 2, 0)]),
    # Equal cells and size: the pair with an existing tie first.
    ([act("a", "n1", "l1"), act("b", "n1", "l2"), act("c", "n1", "l1"), act("d", "n1", "l2")],
     [("a", "PARTNERS_WITH", "d")], ("l1", "l2"), [(["a", "d"], 2, 1), (["a", "b"], 2, 0), (["b", "c"], 2, 0)]),
])
def test_suggestions_rank_by_cells_then_size_then_existing_ties(acts, rels, places, ranked):
    report = run_suggest(world(*acts, rels=rels), places=places)
    assert [(members(s), len(s["covered"]), s["existing_ties"]) for s in report["suggestions"]] == ranked


@pytest.mark.parametrize("rels, ties", [
    ([], 0), ([("a", "PARTNERS_WITH", "b")], 1), ([("b", "PARTNERS_WITH", "a")], 1),
    ([("a", "PARTNERS_WITH", "b"), ("b", "PARTNERS_WITH", "a")], 2),
    ([("a", "MEMBER_OF", "net1"), ("b", "MEMBER_OF", "net1")], 1),
    ([("a", "MEMBER_OF", "net1"), ("b", "MEMBER_OF", "net2")], 0),
    ([(o, "MEMBER_OF", n) for o in "ab" for n in ("net1", "net2")], 2),
    ([("a", "REFERS_TO", "b")], 1), ([("svc-b", "REFERS_TO", "svc-a")], 1),
    ([("svc-a", "REFERS_TO", "b"), ("b", "REFERS_TO", "svc-a")], 2),
    ([("a", "REFERS_TO", "c"), ("c", "REFERS_TO", "b"), ("c", "PARTNERS_WITH", "a")], 0),  # only via Charlie
    ([("lw", "REFERS_TO", "a"), ("lw", "REFERS_TO", "b")], 0),  # a link worker refers to both
])
def test_existing_ties_count_partnerships_shared_networks_and_referrals(rels, ties):
    graph = snapshot(world(act("a", "n1", "l1"), act("b", "n1", "l2"), rels=rels,
                           workers=["lw"] if any(r[0] == "lw" for r in rels) else []))
    assert tie_count(tie_graph(graph), "a", "b") == tie_count(tie_graph(graph), "b", "a") == ties
    top = suggest(graph, Opportunity(("n1",), ("l1", "l2")))["suggestions"][0]
    assert (members(top), top["existing_ties"]) == (["a", "b"], ties)


def test_a_service_two_organisations_provide_ties_both_to_whom_it_refers():
    graph = snapshot(world(act("a", "n1", "l1"), act("b", "n1", "l2"), act("c", "n1", "l3"),
                           rels=[("b", "PROVIDES", "svc-a"), ("svc-a", "REFERS_TO", "c")]))
    assert tie_count(tie_graph(graph), "a", "c") == tie_count(tie_graph(graph), "b", "c") == 1
    with_bravo = [s for s in suggest(graph, Opportunity(("n1",), ("l2", "l3")))["suggestions"]
                  if members(s) == ["b", "c"]]
    assert [s["existing_ties"] for s in with_bravo] == [1]


@pytest.mark.parametrize("rels, reached", [
    ([("lw", "REFERS_TO", "svc-a")], False),
    ([("lw", "REFERS_TO", "svc-a"), ("lw", "REFERS_TO", "b")], True),
    # Bravo's activity is 6 hops away (lw a c d b svc-b act), beyond the 4-hop limit.
    ([("lw", "REFERS_TO", "a"), ("a", "REFERS_TO", "c"), ("c", "REFERS_TO", "d"), ("d", "REFERS_TO", "b")], False),
])
def test_reachable_by_link_workers_needs_every_member_reached(rels, reached):
    report = run_suggest(world(act("a", "n1", "l1"), act("b", "n1", "l2"), rels=rels, workers=["lw"]),
                         places=("l1", "l2"))
    top = report["suggestions"][0]
    assert members(top) == ["a", "b"] and top["reachable_by_link_workers"] is reached
    assert ("no link worker reaches the activities of: Bravo" in top["reasons"]) is not reached


def test_landscape_groups_organisations_with_existing_ties():
    data = world(act("a", "n1", "l1"), act("b", "n2", "l1"), act("c", "n1", "l2"), act("d", "n2", "l2"),
                 act("e", "n2", "l3"), rels=[("a", "PARTNERS_WITH", "b"), ("c", "MEMBER_OF", "net1"),
                                             ("d", "MEMBER_OF", "net1"), ("svc-a", "REFERS_TO", "b")])
    groups = landscape(snapshot(data), Opportunity(("n1",), ("l1",)))
    assert [(members(g), g["needs"]) for g in groups] == [(["a", "b"], ["n1"]), (["c", "d"], ["n1"]), (["e"], [])]


def test_chain_between_gives_the_shortest_chain_with_relationship_types_or_none():
    rels = [("a", "PARTNERS_WITH", "b"), ("b", "REFERS_TO", "svc-c"),  # a - b - svc-c - c: 3 steps
            ("a", "REFERS_TO", "e"), ("e", "REFERS_TO", "d"), ("d", "REFERS_TO", "svc-c")]  # 4 steps
    chain = chain_between(snapshot(world(*(act(o, "n1", "l1") for o in "abcde"), rels=rels)), "a", "c")
    assert [(s["id"], s["via"]) for s in chain] == [
        ("a", None), ("b", "PARTNERS_WITH"), ("svc-c", "REFERS_TO"), ("c", "PROVIDES")]
    assert (chain[0]["name"], chain[-1]["name"]) == ("Alpha", "Charlie")
    joined = snapshot(world(act("a", "n1", "l1"), act("b", "n1", "l2")))  # only through the need
    assert [s["id"] for s in chain_between(joined, "a", "b")] == ["a", "svc-a", "act0", "n1", "act1", "svc-b", "b"]
    apart = snapshot(world(act("a", "n1", "l1"), act("b", "n2", "l2")))
    assert chain_between(apart, "a", "b") == []
    for other in ("nobody", "svc-b"):
        with pytest.raises(UnknownIdError):
            chain_between(apart, "a", other)


def test_naming_a_need_or_locality_twice_gives_the_same_report_as_once():
    data = world(act("a", "n1 n2", "l1 l2"), act("b", "n1", "l2"))
    twice = run_suggest(data, needs=("n1", "n2", "n1"), places=("l2", "l1", "l2"))
    assert twice == run_suggest(data, needs=("n1", "n2"), places=("l2", "l1"))
    assert cells_of(twice)[("n1", "l2")] == {"a": {"act0"}, "b": {"act1"}} and len(twice["cells"]) == 4


@pytest.mark.parametrize("needs, places, max_size, error, message", [
    (("nope",), ("l1",), 4, UnknownIdError, "need"), (("n1",), ("nowhere",), 4, UnknownIdError, "locality"),
    (("n1",), ("n2",), 4, UnknownIdError, "locality"), (("l1",), ("l1",), 4, UnknownIdError, "need"),
    ((), ("l1",), 4, PathwaysError, "at least one need"), (("n1",), (), 4, PathwaysError, "at least one need"),
    (("n1",), ("l1",), 0, PathwaysError, "at least one member"),
])
def test_unknown_or_missing_needs_localities_and_members_are_refused(needs, places, max_size, error, message):
    with pytest.raises(error, match=message):
        run_suggest(world(act("a", "n1", "l1")), needs=needs, places=places, max_size=max_size)


# ------------------------------------------------------------------ seeded random graphs

TAGS = ("step_free", "hearing_loop", "quiet_space")
POOL = ("Ash", "Birch", "Cedar")  # few names, so ties on name are common


def random_world(seed: int) -> dict:
    """Mostly one service per organisation and one place per activity, with some shared
    services and activities, activities in several places or none, whole-area activities,
    and distractors: services that ADDRESS needs and organisations LOCATED_IN places."""
    rng = random.Random(seed)
    def ids(prefix: str, low: int, high: int) -> list[str]:
        return [f"{prefix}{i}" for i in range(rng.randint(low, high))]

    def pick(pool: list[str], low: int, high: int) -> list[str]:
        return rng.sample(pool, min(len(pool), rng.randint(low, high)))

    def some(p: float, pool: list[str]) -> list[str]:
        return pick(pool, 1, 1) if rng.random() < p else []

    def named(pool: list[str], **kw: str) -> list[dict]:
        return [{"id": i, "name": rng.choice(POOL), **kw} for i in pool]

    orgs, needs, places = ids("org", 2, 8), ids("need", 1, 3), ids("loc", 2, 5)
    nets, workers = ids("net", 0, 2), ids("lw", 0, 2)
    svcs = {o: [f"svc-{o}-{k}" for k in range(rng.randint(1, 2))] for o in orgs}
    acts = {s: [f"act-{s}-{k}" for k in range(rng.randint(0, 2))] for ss in svcs.values() for s in ss}
    all_svcs = [s for ss in svcs.values() for s in ss]
    all_acts = [a for aa in acts.values() for a in aa]
    data = {"needs": named(needs), "localities": named(places), "organisations": named(orgs, kind="other"),
            "services": named(all_svcs), "networks": named(nets), "people": named(workers, role="link_worker"),
            "activities": [{"id": a, "name": rng.choice(POOL), "free": rng.choice(("yes", "yes", "no", "")),
                            "accessibility": ";".join(pick(list(TAGS), 0 if rng.random() < .2 else 1, 3)),
                            "serves_whole_area": rng.choice(("yes", "no") + ("",) * 6),
                            "age_min": rng.choice(["", str(rng.randint(0, 40))]),
                            "age_max": rng.choice(["", "", str(rng.randint(40, 99))])} for a in all_acts]}
    rels: list[dict] = []
    data["relationships"] = rels

    def add(src: str, rel: str, ends: list[str]) -> None:
        rels.extend({"source_id": src, "type": rel, "target_id": t} for t in ends)

    for o in orgs:
        add(o, "PROVIDES", svcs[o] + some(.15, [s for s in all_svcs if s not in svcs[o]]))
        add(o, "PARTNERS_WITH", pick([x for x in orgs if x != o], 0, 2))
        add(o, "MEMBER_OF", pick(nets, 0, 2))
        add(o, "REFERS_TO", pick([x for x in orgs + all_svcs if x != o], 0, 1))
        add(o, "LOCATED_IN", some(.3, places))
    for s in all_svcs:
        add(s, "OFFERS", acts[s] + some(.15, [a for a in all_acts if a not in acts[s]]))
        add(s, "ADDRESSES", some(.3, needs))
        add(s, "REFERS_TO", pick([x for x in orgs + all_svcs if x != s], 0, 1))
    for a in all_acts:
        add(a, "ADDRESSES", pick(needs, 0 if rng.random() < .1 else 1, 1 if rng.random() < .8 else 2))
        add(a, "LOCATED_IN", pick(places, 0 if rng.random() < .1 else 1, 1 if rng.random() < .8 else 2))
    for w in workers:
        add(w, "REFERS_TO", pick(orgs + all_svcs, 1, 2))
    return {table: content for table, content in data.items() if content}


def random_opportunities(data: dict, seed: int) -> list[tuple[Opportunity, int]]:
    """Three opportunities (most of the needs and places; no filter, or one) with a max size."""
    rng = random.Random(f"opp-{seed}")
    needs, places = [n["id"] for n in data["needs"]], [p["id"] for p in data["localities"]]
    cases = []
    for _ in range(3):
        kind = rng.choice(("none", "none", "free", "access", "age"))
        ages = rng.choice([(None, 17), (18, 64), (65, None), (30, 30)]) if kind == "age" else (None, None)
        access = tuple(rng.sample(TAGS, rng.randint(1, 2))) if kind == "access" else ()
        opp = Opportunity(tuple(rng.sample(needs, rng.randint((len(needs) + 1) // 2, len(needs)))),
                          tuple(rng.sample(places, rng.randint((len(places) + 1) // 2, len(places)))),
                          kind == "free", access, *ages)
        cases.append((opp, rng.choice((1, 2, 3, 4, 20))))
    return cases


def check_against_tables(report: dict, data: dict, opp: Opportunity, max_size: int) -> None:
    """Cells, coverage, pruning, size and ranking of a report, recomputed from the loaded rows."""
    providers = providers_from_tables(data, opp)
    assert cells_of(report) == providers
    coverable = {cell for cell, orgs in providers.items() if orgs}
    assert cellset(report["uncoverable"]) == set(providers) - coverable
    assert bool(report["suggestions"]) == bool(coverable)
    covers, keys = covers_of(providers), []
    for s in report["suggestions"]:
        team = members(s)
        covered = set().union(*(covers[m] for m in team))
        assert cellset(s["covered"]) == covered and len(s["covered"]) == len(covered)
        assert cellset(s["uncovered"]) == set(providers) - covered
        assert 1 <= len(team) == len(set(team)) <= max_size
        for m in team:
            assert covers[m] - set().union(*(covers[o] for o in team if o != m)), f"{m} is redundant"
        keys.append((-len(covered), len(team), -s["existing_ties"], not s["reachable_by_link_workers"]))
    assert keys == sorted(keys) and len({frozenset(k) for k in map(members, report["suggestions"])}) == len(keys)
    if coverable and max_size >= len(coverable):  # room enough: the greedy covers everything coverable
        assert cellset(report["suggestions"][0]["covered"]) == coverable


@pytest.mark.parametrize("seed", range(40))
def test_claimed_coverage_equals_coverage_recomputed_from_the_loaded_rows(seed):
    data = random_world(seed)
    graph = snapshot(data)
    for opp, max_size in random_opportunities(data, seed):
        check_against_tables(suggest(graph, opp, max_size=max_size), data, opp, max_size)


@pytest.mark.parametrize("seed", range(40))
def test_existing_ties_equal_ties_recounted_from_the_loaded_rows(seed):
    data = random_world(seed)
    graph = snapshot(data)
    for opp, max_size in random_opportunities(data, seed):
        for s in suggest(graph, opp, max_size=max_size)["suggestions"]:
            team = members(s)
            assert s["existing_ties"] == sum(ties_from_tables(data, a, b) for a, b in combinations(team, 2)), team


def test_random_graphs_exercise_uncoverable_cells_teams_ties_and_reach():
    seen = defaultdict(int)
    for seed in range(40):
        data = random_world(seed)
        for opp, max_size in random_opportunities(data, seed):
            report = suggest(snapshot(data), opp, max_size=max_size)
            s = report["suggestions"]
            seen["uncoverable"] += bool(report["uncoverable"])
            seen["alternatives"] += len(s) > 1
            seen["teams"] += any(len(x["members"]) > 1 for x in s)
            seen["ties"] += any(x["existing_ties"] for x in s)
            seen["reached"] += any(x["reachable_by_link_workers"] for x in s)
    assert len(seen) == 5 and min(seen.values()) >= 5, dict(seen)


# ------------------------------------------------------------------ the command line

DEMO_ARGS = [x for n in DEMO_NEEDS for x in ("--need", n)] + [x for p in DEMO_PLACES for x in ("--locality", p)]


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.fixture
def demo_report(tmp_path, monkeypatch) -> dict:
    """The demo loaded with ``pathways demo``; the JSON report of the demo opportunity."""
    monkeypatch.setenv("PATHWAYS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("PATHWAYS_STORE", "embedded")
    assert run("demo").exit_code == 0
    result = run("consortia", *DEMO_ARGS, "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_cli_json_has_cells_uncoverable_and_ranked_suggestions(demo_report):
    assert {"opportunity", "cells", "uncoverable", "suggestions"} <= demo_report.keys()
    assert demo_report["opportunity"] == {"needs": list(DEMO_NEEDS), "localities": list(DEMO_PLACES),
                                          "free_only": False, "access": [], "age_min": None, "age_max": None}
    assert [(c["need"], c["locality"]) for c in demo_report["cells"]] == [
        (n, p) for n in DEMO_NEEDS for p in DEMO_PLACES]
    assert all(o.keys() >= {"id", "name"} for c in demo_report["cells"] for o in c["organisations"])
    assert demo_report["uncoverable"] == [GAP] and len(demo_report["suggestions"][0]["covered"]) == 5
    for s in demo_report["suggestions"]:
        assert s.keys() >= {"members", "covered", "uncovered", "existing_ties", "reachable_by_link_workers", "reasons"}
        assert all(m.keys() == {"id", "name"} for m in s["members"]) and GAP in s["uncovered"]
        assert all(isinstance(c, list) and len(c) == 2 for c in s["covered"] + s["uncovered"])
        assert type(s["existing_ties"]) is int and type(s["reachable_by_link_workers"]) is bool
        assert s["reasons"] and all(isinstance(r, str) for r in s["reasons"])


def test_cli_opportunity_file_gives_the_same_report_as_options(demo_report, tmp_path):
    path = tmp_path / "opportunity.json"
    path.write_text(json.dumps({"needs": list(DEMO_NEEDS), "localities": list(DEMO_PLACES),
                                "free_only": True, "age_min": 18}), encoding="utf-8")
    from_file = json.loads(run("consortia", "--opportunity", path, "--format", "json").stdout)
    from_options = json.loads(run("consortia", *DEMO_ARGS, "--free", "--age-min", 18, "--format", "json").stdout)
    assert from_file == from_options != demo_report
    assert (from_file["opportunity"]["free_only"], from_file["opportunity"]["age_min"]) == (True, 18)


def test_cli_csv_has_a_bom_and_one_row_per_suggestion_member(demo_report, tmp_path):
    assert run("consortia", *DEMO_ARGS, "--format", "csv", "-o", tmp_path / "f.csv").exit_code == 0
    raw = (tmp_path / "f.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    table = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert [(r["suggestion"], r["member_id"]) for r in table] == [
        (str(rank), m["id"]) for rank, s in enumerate(demo_report["suggestions"], 1) for m in s["members"]]


def test_cli_html_summary_has_no_script_and_names_the_members(demo_report, tmp_path):
    assert run("consortia", *DEMO_ARGS, "--format", "html", "-o", tmp_path / "f.html").exit_code == 0
    page = (tmp_path / "f.html").read_text(encoding="utf-8")
    assert "<script" not in page.lower() and "Todmorden" in page and "not covered" in page
    assert all(m["name"] in page for m in demo_report["suggestions"][0]["members"])


def test_cli_between_prints_the_chain_of_relationships(demo_report):
    result = run("consortia", "--need", "loneliness", "--locality", "loc-north-halifax",
                 "--between", "org-artworks", "org-valley-makers-shed")
    assert result.exit_code == 0, result.output
    assert ("Chain: Artworks -[MEMBER_OF]- Creativity for Wellbeing Network -[MEMBER_OF]- Valley Makers Shed"
            in result.stdout)


def test_cli_unknown_locality_exits_1_naming_it(demo_report, capsys):
    with pytest.raises(SystemExit) as stop:
        main(["consortia", "--need", "loneliness", "--locality", "loc-nowhere"])
    err = capsys.readouterr().err
    assert stop.value.code == 1 and "Traceback" not in err
    assert "locality" in err and "'loc-nowhere'" in err and "loc-todmorden" in err  # and the known ones
