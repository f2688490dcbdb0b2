"""Both stores give identical pathways, and both agree with an independent oracle.

(a) The demo data: every link worker, every need, every locality, free only, 1..6 hops.
(b) Seeded random graphs (reproducible: the seed is in the test id) with deliberately
    duplicated names so that tie-breaking matters.

The oracle reads the same rows the loader reads and answers with networkx's
``all_shortest_paths`` on the REFERS_TO/PROVIDES/OFFERS subgraph, taking the path whose
sequence of (name, id) pairs sorts first.  It shares no code with either store: it applies
the person's filters (whole-area activities in every locality, age, times, self-referral)
from the rows, reading schedules with its own small reader of the demo's regular wording.
"""

from __future__ import annotations

import csv
import random
import re
from collections import defaultdict
from pathlib import Path

import networkx as nx
import pytest

from pathways.analysis.pathways import pathways_from
from pathways.loading import load_paths
from pathways.model import ALLOWED_ENDPOINTS, NodeKind, RelType, TimeSlot
from pathways.store.base import PathwayFilter
from tests.conftest import load_data

FOLLOWED = {"REFERS_TO", "PROVIDES", "OFFERS"}
KIND_OF = {"people": "Person", "organisations": "Organisation", "services": "Service",
           "activities": "Activity", "localities": "Locality", "needs": "Need",
           "networks": "Network", "funders": "Funder"}
YES = {"yes", "y", "true", "t", "1"}
TAGS = ("step_free", "hearing_loop", "quiet_space")
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


def oracle_sessions(text: str) -> list[tuple[str, str, str]]:
    """(day, start, end) from schedules worded as the demo's are: "Mondays, Wednesdays and
    Fridays 09:00–12:00", "Monday to Friday 09:00–17:00"; no day named: none."""
    days = [CODES[DAYS.index(d)] for d in re.findall(r"(Monday|Tuesday|Wednesday|Thursday|"
                                                       r"Friday|Saturday|Sunday)s?", text)]
    if re.search(r"(day)s? to [A-Z]", text) and len(days) == 2:
        days = list(CODES[CODES.index(days[0]):CODES.index(days[1]) + 1])
    hours = re.search(r"(\d\d:\d\d)\s*[–-]\s*(\d\d:\d\d)", text)
    start, end = hours.groups() if hours else ("00:00", "24:00")
    return [(d, start, end) for d in days]


class Oracle:
    """Pathways worked out from the raw table rows, independently of both stores."""

    def __init__(self, data: dict[str, list[dict]]):
        self.name, self.kind, self.free, self.access, self.role = {}, {}, {}, {}, {}
        self.whole: dict[str, bool] = {}
        self.ages: dict[str, tuple[int | None, int | None]] = {}
        self.sessions: dict[str, list[tuple[str, str, str]]] = {}
        for table, rows in data.items():
            for row in rows if table in KIND_OF else ():
                node = row["id"].strip()
                self.name[node], self.kind[node] = row["name"].strip(), KIND_OF[table]
                self.free[node] = row.get("free", "").strip().lower() in YES
                self.whole[node] = row.get("serves_whole_area", "").strip().lower() in YES
                self.ages[node] = tuple(int(row[k]) if row.get(k, "").strip() else None
                                        for k in ("age_min", "age_max"))  # type: ignore[assignment]
                self.sessions[node] = oracle_sessions(row.get("schedule", ""))
                tags = row.get("accessibility", "").split(";")
                self.access[node] = {t.strip().lower().replace(" ", "_") for t in tags} - {""}
                self.role[node] = row.get("role", "").strip()
        self.follow: nx.DiGraph[str] = nx.DiGraph()
        self.follow.add_nodes_from(self.name)
        self.targets: dict[tuple[str, str], set[str]] = defaultdict(set)
        self.rel_counts = {t.value: 0 for t in RelType}
        self.self_referral: set[str] = set()  # targets of a self_referral = yes REFERS_TO
        for row in data.get("relationships", []):
            source, rel, target = (row[k].strip() for k in ("source_id", "type", "target_id"))
            self.rel_counts[rel] += 1
            if rel == "REFERS_TO" and str(row.get("self_referral", "")).strip().lower() in YES:
                self.self_referral.add(target)
            self.targets[source, rel].add(target)
            if rel in FOLLOWED:
                self.follow.add_edge(source, target)

    def workers(self) -> list[str]:
        found = [n for n, role in self.role.items() if role == "link_worker"]
        return sorted(found, key=lambda n: (self.name[n], n))

    def stats(self) -> dict:
        nodes = {k.value: 0 for k in NodeKind}
        for kind in self.kind.values():
            nodes[kind] += 1
        return {"nodes": nodes, "relationships": self.rel_counts}

    def keeps(self, activity: str, where: PathwayFilter) -> bool:
        low, high = self.ages[activity]
        services = [s for s, t in self.follow.in_edges(activity)
                    if activity in self.targets[s, "OFFERS"]]
        entries = set(services) | {o for s in services for o in self.follow.predecessors(s)
                                   if s in self.targets[o, "PROVIDES"]}
        sessions = self.sessions[activity]
        return (
            (not where.needs or bool(set(where.needs) & self.targets[activity, "ADDRESSES"]))
            and (where.locality is None or self.whole[activity]
                 or where.locality in self.targets[activity, "LOCATED_IN"])
            and (not where.free_only or self.free[activity])
            and set(where.access) <= self.access[activity]
            and (where.age is None or ((low is None or low <= where.age)
                                       and (high is None or where.age <= high)))
            and (not where.times or not sessions or any(
                day == t.day and start < t.end and t.start < end
                for day, start, end in sessions for t in where.times))
            and (not where.self_referral_only or bool(entries & self.self_referral))
        )

    def pathways(self, worker: str, where: PathwayFilter, max_hops: int) -> dict:
        rows = []
        hops_to = nx.single_source_shortest_path_length(self.follow, worker, cutoff=max_hops)
        for node, hops in hops_to.items():
            if self.kind[node] != "Activity" or not self.keeps(node, where):
                continue
            paths = nx.all_shortest_paths(self.follow, worker, node)
            best = min(paths, key=lambda p: ([self.name[n] for n in p], list(p)))
            rows.append({"id": node, "name": self.name[node], "hops": hops, "path": [
                {"id": n, "name": self.name[n], "kind": self.kind[n]} for n in best]})
            if where.times:
                rows[-1]["schedule_unknown"] = not self.sessions[node]
        rows.sort(key=lambda r: (r["hops"], r["name"], r["id"]))
        return {"from": {"id": worker, "name": self.name[worker]}, "activities": rows}


def without_load_time(row: dict) -> dict:
    return {k: v for k, v in row.items() if k != "loaded_at"}  # each store stamps its own load


def agree(stores, oracle: Oracle, worker: str, where: PathwayFilter, max_hops: int) -> dict:
    """Assert both stores and the oracle give the same dict; return it."""
    expected = oracle.pathways(worker, where, max_hops)
    for store in stores:
        got = pathways_from(store, worker, where, max_hops)
        assert got == expected, f"{store.name}: {worker} {where} max_hops={max_hops}"
    return expected


# ---------------------------------------------------------------- (a) the demo data


def read_tables(folder: Path) -> dict[str, list[dict]]:
    data = {}
    for path in sorted(folder.glob("*.csv")):
        with path.open(encoding="utf-8-sig", newline="") as handle:
            data[path.stem] = [row for row in csv.DictReader(handle) if any(row.values())]
    return data


needs_neo4j = pytest.mark.neo4j


@pytest.fixture
def demo_stores(embedded_store, neo4j_store, demo_dir):
    for store in (embedded_store, neo4j_store):
        load_paths(store, [demo_dir])
    return embedded_store, neo4j_store


@needs_neo4j
def test_demo_stats_lists_and_details_agree(demo_stores, demo_dir):
    embedded, neo4j = demo_stores
    assert embedded.stats() == neo4j.stats() == Oracle(read_tables(demo_dir)).stats()
    for kind in NodeKind:
        listed = [[without_load_time(n) for n in s.list_nodes(kind)] for s in demo_stores]
        assert listed[0] == listed[1], kind
    activities = [a["id"] for a in embedded.list_nodes(NodeKind.ACTIVITY)]
    details = [store.activity_details(activities) for store in demo_stores]
    assert set(details[0]) == set(details[1]) == set(activities)
    for activity in activities:
        assert without_load_time(details[0][activity]) == without_load_time(details[1][activity])
    assert any(details[0][a]["providers"] for a in activities)


@needs_neo4j
def test_demo_pathways_agree_for_every_link_worker_and_filter(demo_stores, demo_dir):
    oracle = Oracle(read_tables(demo_dir))
    workers = oracle.workers()
    for store in demo_stores:
        assert [p["id"] for p in store.list_nodes(NodeKind.PERSON, role="link_worker")] == workers
    needs = [n["id"] for n in demo_stores[0].list_nodes(NodeKind.NEED)]
    localities = [n["id"] for n in demo_stores[0].list_nodes(NodeKind.LOCALITY)]
    cases = [(PathwayFilter(), hops) for hops in range(1, 7)]
    cases += [(PathwayFilter(needs=(need,)), 4) for need in needs]
    cases += [(PathwayFilter(locality=place), 4) for place in localities]
    cases += [(PathwayFilter(free_only=True), 4), (PathwayFilter(access=("step_free",)), 5),
              (PathwayFilter(needs=tuple(needs[:2]), locality=localities[0], free_only=True), 6)]
    cases += [(PathwayFilter(age=age), 4) for age in (10, 16, 17, 40, 80)]
    cases += [(PathwayFilter(times=tuple(TimeSlot.parse(t) for t in slots)), 4) for slots in (
        ("TU 09:00-12:00",), ("MO 13:00-17:00", "TH"), ("SA", "SU"), ("WE 18:00-22:00",))]
    cases += [(PathwayFilter(self_referral_only=True), 4),
              (PathwayFilter(self_referral_only=True, age=70, locality=localities[-1],
                             times=(TimeSlot("TU"), TimeSlot("TH", "09:00", "13:00"))), 6)]
    found = {}
    for worker in workers:
        for where, hops in cases:
            found[worker, where, hops] = len(agree(demo_stores, oracle, worker, where, hops)
                                             ["activities"])
    # the demo is no empty graph: filters and hops both change what is found
    assert max(found.values()) > 20
    assert len({found[workers[0], where, hops] for where, hops in cases}) > 5


# ---------------------------------------------------------------- (b) random graphs

NAMES = ("Alpha", "alpha", "Café", "Cafe", "Same", "Same", "Same", "Ωmega")  # "Same" often
FILLERS = (NodeKind.ORGANISATION, NodeKind.SERVICE, NodeKind.ACTIVITY, NodeKind.NEED,
           NodeKind.LOCALITY, NodeKind.PERSON, NodeKind.NETWORK)
FILLER_WEIGHTS = (4, 5, 6, 2, 2, 1, 1)
OTHER_ROLES = ("practitioner", "volunteer", "commissioner")


SCHEDULES = ("", "Library opening hours", "Tuesdays 10:00–12:00", "Thursdays 18:00–20:00",
             "Mondays, Wednesdays and Fridays 09:00–12:00", "Monday to Friday 13:00–17:00",
             "Saturdays 10:30–12:30", "Sundays")
SLOTS = ("TU 11:00-11:30", "TH 17:00-18:00", "WE 08:00-09:30", "FR 16:00-18:00", "SU", "SA")


def random_graph(seed: int) -> dict[str, list[dict]]:
    """5 to 40 nodes, random valid edges of every kind, names drawn from a tiny pool."""
    rng = random.Random(seed)
    extra = random.Random(f"person-filters-{seed}")  # its own draws: the graphs stay the same
    size = rng.randint(5, 40)
    kinds = [NodeKind.PERSON, NodeKind.ACTIVITY]
    kinds += rng.choices(FILLERS, FILLER_WEIGHTS, k=size - 2)
    ids = [f"n{number}" for number in rng.sample(range(100, 1000), size)]  # unrelated to names
    data: dict[str, list[dict]] = defaultdict(list)
    for index, (node, kind) in enumerate(zip(ids, kinds, strict=True)):
        row = {"id": node, "name": rng.choice(NAMES)}
        if kind == NodeKind.PERSON:
            worker = index == 0 or rng.random() < 0.6
            row["role"] = "link_worker" if worker else rng.choice(OTHER_ROLES)
        elif kind == NodeKind.ORGANISATION:
            row["kind"] = rng.choice(("other", "cultural", "council"))
        elif kind == NodeKind.ACTIVITY:
            row["free"] = rng.choice(("yes", "no", ""))
            row["accessibility"] = ";".join(rng.sample(TAGS, rng.randint(0, len(TAGS))))
            row["serves_whole_area"] = extra.choice(("yes", "no", "", ""))
            low = extra.choice(("", "", "16", "18", "50"))
            high = extra.choice(("", "", "25", "64"))
            row["age_min"], row["age_max"] = (low, high) if not (low and high and
                                                                int(low) > int(high)) else ("", high)
            row["schedule"] = extra.choice(SCHEDULES)
        data[kind.table].append(row)

    def of_kind(wanted):
        return [n for n, k in zip(ids, kinds, strict=True) if k in wanted]

    for rel, (sources, targets) in ALLOWED_ENDPOINTS.items():
        out_degree = rng.uniform(0.6, 2.2) if rel.value in FOLLOWED else rng.uniform(0.2, 1.5)
        ends = of_kind(targets)
        for source in of_kind(sources):
            chosen = {t for t in ends if t != source and rng.random() < out_degree / len(ends)}
            if not chosen and rel == RelType.REFERS_TO and source == ids[0] and ends:
                chosen = {rng.choice(ends)}  # the first link worker always refers somewhere
            data["relationships"] += [
                {"source_id": source, "type": rel.value, "target_id": t} for t in sorted(chosen)]
    for row in data["relationships"]:
        if row["type"] == "REFERS_TO":
            row["self_referral"] = extra.choice(("yes", "no", ""))
    return dict(data)


def random_cases(rng: random.Random, oracle: Oracle) -> list[tuple[PathwayFilter, int]]:
    needs = [n for n, k in oracle.kind.items() if k == "Need"] or ["no-need"]
    places = [n for n, k in oracle.kind.items() if k == "Locality"]
    def pick_needs() -> tuple[str, ...]:
        return tuple(rng.sample(needs, rng.randint(1, min(2, len(needs)))))

    cases = [(PathwayFilter(), hops) for hops in (1, 2, 3, 4, 5, 7, 10)]
    if needs != ["no-need"]:
        cases += [(PathwayFilter(needs=pick_needs()), rng.randint(2, 6))]
    if places:
        cases += [(PathwayFilter(locality=rng.choice(places)), rng.randint(2, 6))]
    cases += [(PathwayFilter(age=rng.choice((12, 17, 30, 70))), rng.randint(2, 6)),
              (PathwayFilter(times=(TimeSlot.parse(rng.choice(SLOTS)),)), rng.randint(2, 6)),
              (PathwayFilter(self_referral_only=True), rng.randint(2, 6))]
    cases += [(PathwayFilter(free_only=True), rng.randint(2, 6)),
              (PathwayFilter(access=tuple(rng.sample(TAGS, rng.randint(1, 2)))), 4),
              (PathwayFilter(free_only=rng.random() < 0.5,
                             needs=pick_needs() if needs != ["no-need"] else (),
                             locality=rng.choice(places) if places and rng.random() < 0.5 else None,
                             access=tuple(rng.sample(TAGS, rng.randint(0, 2)))), 10)]
    return cases


SEEDS = range(40)


@needs_neo4j
@pytest.mark.parametrize("seed", SEEDS)
def test_random_graph_pathways_agree_across_stores_and_oracle(seed, embedded_store, neo4j_store):
    data = random_graph(seed)
    stores = (embedded_store, neo4j_store)
    for store in stores:
        load_data(store, data)
    oracle = Oracle(data)
    assert embedded_store.stats() == neo4j_store.stats() == oracle.stats()
    rng = random.Random(f"cases-{seed}")
    for worker in oracle.workers():
        for where, hops in random_cases(rng, oracle):
            agree(stores, oracle, worker, where, hops)


def test_random_graphs_exercise_ties_duplicates_and_long_paths():
    """Guards the test above: the generated graphs must make tie-breaking matter."""
    ties = long_paths = shared_names = 0
    for seed in SEEDS:
        oracle = Oracle(random_graph(seed))
        for worker in oracle.workers():
            for row in oracle.pathways(worker, PathwayFilter(), 10)["activities"]:
                paths = list(nx.all_shortest_paths(oracle.follow, worker, row["id"]))
                ties += len(paths) > 1
                shared_names += len({tuple(oracle.name[n] for n in p) for p in paths}) < len(paths)
                long_paths += row["hops"] >= 5
    assert ties >= 30 and shared_names >= 5 and long_paths >= 5, (ties, shared_names, long_paths)


# ---------------------------------------------------------------- known differences


@needs_neo4j
def test_activity_details_agree_when_two_providers_share_a_name(embedded_store, neo4j_store):
    data = {
        "organisations": [{"id": f"org-{i}", "name": "Age Concern", "kind": "other"}
                          for i in (1, 2)],
        "services": [{"id": "svc-1", "name": "Lunch club"}, {"id": "svc-2", "name": "Lunches"}],
        "activities": [{"id": "act", "name": "Friday lunch"}],
        "relationships": [{"source_id": s, "type": t, "target_id": d} for s, t, d in (
            ("org-1", "PROVIDES", "svc-1"), ("org-2", "PROVIDES", "svc-2"),
            ("svc-1", "OFFERS", "act"), ("svc-2", "OFFERS", "act"))],
    }
    found = []
    for store in (embedded_store, neo4j_store):
        load_data(store, data)
        found.append(store.activity_details(["act"])["act"]["providers"])
    assert found[0] == found[1]


@needs_neo4j
def test_activity_details_agree_for_an_id_that_is_not_an_activity(embedded_store, neo4j_store):
    data = {"services": [{"id": "svc", "name": "Lunch club"}]}
    found = []
    for store in (embedded_store, neo4j_store):
        load_data(store, data)
        found.append(store.activity_details(["svc"]))
    assert found[0] == found[1]


def test_random_graphs_exercise_the_persons_filters():
    """Guards the random parity test: each of the person's filters changes some answer."""
    changed = defaultdict(int)
    for seed in SEEDS:
        data = random_graph(seed)
        oracle = Oracle(data)
        places = [n for n, k in oracle.kind.items() if k == "Locality"]
        for worker in oracle.workers():
            everything = {r["id"] for r in oracle.pathways(worker, PathwayFilter(), 10)["activities"]}
            for name, where in (("age", PathwayFilter(age=70)),
                                ("times", PathwayFilter(times=(TimeSlot("TU", "10:00", "11:00"),))),
                                ("self", PathwayFilter(self_referral_only=True))):
                found = oracle.pathways(worker, where, 10)["activities"]
                changed[name] += len(found) < len(everything)
                if name == "times":
                    changed["unknown"] += any(r["schedule_unknown"] for r in found)
            for place in places:
                local = oracle.pathways(worker, PathwayFilter(locality=place), 10)["activities"]
                changed["whole"] += any(oracle.whole[r["id"]] and
                                        place not in oracle.targets[r["id"], "LOCATED_IN"]
                                        for r in local)
    assert min(changed.values()) >= 5 and len(changed) == 5, dict(changed)
