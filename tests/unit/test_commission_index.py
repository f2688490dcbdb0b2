"""A red cell's providers elsewhere read from the per-snapshot indexes (issue 18 item 5) gives
the same answers as the first version, which walked the graph through networkx's views: the
first version is kept here as the oracle and both run on random seeded graphs."""

from __future__ import annotations

import random

import pytest

from pathways.analysis.commission import distance_km, elsewhere, neighbours, red_cells
from pathways.analysis.snapshot import name_of, of_kind, sources, targets
from pathways.graphs import build_snapshot
from pathways.model import NodeKind, RelType, serves_whole_area


def _centre_before(graph, node):
    props = graph.nodes[node]["props"]
    lat, lon = props.get("latitude"), props.get("longitude")
    if isinstance(lat, bool) or isinstance(lon, bool):
        return None
    if isinstance(lat, int | float) and isinstance(lon, int | float) \
            and -90 <= lat <= 90 and -180 <= lon <= 180:
        return float(lat), float(lon)
    return None


def neighbours_before(graph, locality, radius_km):
    coverers = set(sources(graph, locality, RelType.COVERS))
    here = _centre_before(graph, locality)
    found = []
    for other in of_kind(graph, NodeKind.LOCALITY):
        if other == locality:
            continue
        shared = sorted({name_of(graph, c) for c in sources(graph, other, RelType.COVERS)
                         if c in coverers})
        there = _centre_before(graph, other)
        km = round(distance_km(here, there), 1) if here and there else None
        if shared or (km is not None and km <= radius_km):
            found.append({"id": other, "name": name_of(graph, other), "shared_by": shared,
                          "distance_km": km})
    found.sort(key=lambda n: (n["distance_km"] is None, n["distance_km"] or 0.0, n["name"],
                              n["id"]))
    return found


def elsewhere_before(graph, need, locality, radius_km):
    """The first version of :func:`pathways.analysis.commission.elsewhere`, unchanged."""
    near = neighbours_before(graph, locality, radius_km)
    near_ids = {n["id"] for n in near}
    here = _centre_before(graph, locality)
    provided_here = 0
    places_of: dict[str, set[str]] = {}
    acts_of: dict[str, set[str]] = {}
    for activity in sources(graph, need, RelType.ADDRESSES):
        if graph.nodes[activity]["kind"] != NodeKind.ACTIVITY:
            continue
        places = set(targets(graph, activity, RelType.LOCATED_IN))
        if serves_whole_area(graph.nodes[activity]["props"]) or locality in places:
            provided_here += 1
            continue
        places = {p for p in places if graph.nodes[p]["kind"] == NodeKind.LOCALITY}
        if not places:
            continue
        for service in sources(graph, activity, RelType.OFFERS):
            for org in sources(graph, service, RelType.PROVIDES):
                places_of.setdefault(org, set()).update(places)
                acts_of.setdefault(org, set()).add(activity)
    providers = []
    for org, places in places_of.items():
        kms = [distance_km(here, c) for p in places if here and (c := _centre_before(graph, p))]
        providers.append({
            "id": org, "name": name_of(graph, org),
            "localities": sorted(name_of(graph, p) for p in places),
            "activities": sorted(name_of(graph, a) for a in acts_of[org]),
            "neighbouring": bool(places & near_ids),
            "nearest_km": round(min(kms), 1) if kms else None,
        })
    providers.sort(key=lambda p: (not p["neighbouring"], p["nearest_km"] is None,
                                  p["nearest_km"] or 0.0, -len(p["activities"]), p["name"],
                                  p["id"]))
    with_providers = {p for org, places in places_of.items() for p in places}
    places_query = [locality] + [n["id"] for n in near if n["id"] in with_providers]
    return {
        "need": need, "need_name": name_of(graph, need),
        "locality": locality, "locality_name": name_of(graph, locality),
        "provided_here": provided_here, "neighbours": near, "providers": providers,
        "consortia_query": {"needs": [need], "places": places_query},
        "radius_km": radius_km,
    }


def random_graph(seed: int):
    """Localities with, without and with unusable coordinates; activities in several places,
    some serving the whole area, some LOCATED_IN a non-locality; organisations providing
    through one or more services; people and organisations covering localities; repeated
    names (so ties are broken by id)."""
    rng = random.Random(seed)
    nodes: list[tuple[str, NodeKind, dict]] = []
    rels: list[tuple[str, RelType, str, dict]] = []

    def coords():
        roll = rng.random()
        if roll < 0.6:
            return {"latitude": 53.7 + rng.uniform(-0.2, 0.2),
                    "longitude": -2.0 + rng.uniform(-0.3, 0.3)}
        if roll < 0.7:
            return {"latitude": True, "longitude": -2.0}
        if roll < 0.8:
            return {"latitude": 95.0, "longitude": -2.0}
        return {}

    locs = [f"loc-{i}" for i in range(rng.randint(2, 12))]
    nodes += [(p, NodeKind.LOCALITY, {"name": f"Place {rng.randint(0, 5)}", **coords()})
              for p in locs]
    needs = [f"need-{i}" for i in range(rng.randint(1, 4))]
    nodes += [(n, NodeKind.NEED, {"name": f"Need {n}"}) for n in needs]
    orgs = [f"org-{i}" for i in range(rng.randint(1, 15))]
    nodes += [(o, NodeKind.ORGANISATION, {"name": f"Org {rng.randint(0, 6)}"}) for o in orgs]
    people = [f"lw-{i}" for i in range(rng.randint(0, 5))]
    nodes += [(p, NodeKind.PERSON, {"name": f"Worker {i}", "role": "link_worker"})
              for i, p in enumerate(people)]
    services = [f"svc-{i}" for i in range(rng.randint(1, 20))]
    nodes += [(s, NodeKind.SERVICE, {"name": f"Service {s}"}) for s in services]
    for s in services:
        for o in rng.sample(orgs, rng.randint(0, min(2, len(orgs)))):
            rels.append((o, RelType.PROVIDES, s, {}))
    for coverer in people + orgs:
        for p in rng.sample(locs, rng.randint(0, min(3, len(locs)))):
            rels.append((coverer, RelType.COVERS, p, {}))
    for i in range(rng.randint(0, 60)):
        a = f"act-{i}"
        nodes.append((a, NodeKind.ACTIVITY, {"name": f"Activity {rng.randint(0, 20)}",
                                             "serves_whole_area": rng.random() < 0.1}))
        for n in rng.sample(needs, rng.randint(0, len(needs))):
            rels.append((a, RelType.ADDRESSES, n, {}))
        for p in rng.sample(locs, rng.randint(0, min(2, len(locs)))):
            rels.append((a, RelType.LOCATED_IN, p, {}))
        if rng.random() < 0.1:
            rels.append((a, RelType.LOCATED_IN, rng.choice(orgs), {}))  # not a locality
        for s in rng.sample(services, rng.randint(0, min(2, len(services)))):
            rels.append((s, RelType.OFFERS, a, {}))
    if services and needs:  # a non-activity addressing a need is not counted
        rels.append((services[0], RelType.ADDRESSES, needs[0], {}))
    return build_snapshot(nodes, rels), needs, locs


@pytest.mark.parametrize("seed", range(40))
def test_same_answers_as_the_first_version_on_random_graphs(seed):
    graph, needs, locs = random_graph(seed)
    radius = random.Random(seed).choice([3.0, 10.0, 25.0])
    for need in needs:
        for locality in locs:
            assert elsewhere(graph, need, locality, radius) == \
                elsewhere_before(graph, need, locality, radius)
        # the Gaps page's HTML export: every red cell, neighbours shared between cells
        assert neighbours(graph, locs[0], radius) == neighbours_before(graph, locs[0], radius)


def test_random_graphs_have_providers_both_near_and_far():
    """The equality above is not vacuous: the graphs hold red cells with providers elsewhere,
    neighbouring and not, with and without a distance."""
    seen = set()
    for seed in range(40):
        graph, needs, locs = random_graph(seed)
        for need in needs:
            for locality in locs:
                for p in elsewhere(graph, need, locality)["providers"]:
                    seen.add((p["neighbouring"], p["nearest_km"] is None))
    assert seen == {(True, True), (True, False), (False, True), (False, False)}


def test_red_cells_on_a_store_match_the_first_version(tmp_path):
    from pathways.store.embedded import EmbeddedStore
    graph, needs, locs = random_graph(7)
    store = EmbeddedStore(tmp_path / "graph.json")
    store._commit(graph)
    coverage = [{"need": n, "locality": p, "existing": 0} for n in needs for p in locs]
    assert red_cells(store, coverage) == [elsewhere_before(graph, n, p, 10.0)
                                          for n in needs for p in locs]
