"""The gap report computed faster (issue 18 item 5: per-snapshot neighbour lists, a failure
pass that skips what cannot change an answer, one pass per part) is the same report, to the
byte, as the first version (tests/unit/gaps_before.py, kept as the oracle): on random
snapshots where any node may refer to any other (self-loops, parallel relationships,
activities referring onward), on the loader's random partnerships,
on deep referral chains and on the benchmark's generated directory, for hop limits 1-8."""

from __future__ import annotations

import datetime as dt
import json
import random

import pytest

from benchmarks.generate import generate, write
from pathways.analysis import gap_index
from pathways.analysis.gaps import GapQuery, GapReport, compute_gaps
from pathways.graphs import build_snapshot
from pathways.loading import load_paths
from pathways.model import NodeKind, RelType
from pathways.store.embedded import EmbeddedStore
from tests.conftest import first_difference, load_data
from tests.unit.gaps_before import compute_gaps_before
from tests.unit.test_gaps import AS_OF, random_tables
from tests.unit.test_gaps_scale import deep_tables

PATHWAY = (RelType.REFERS_TO, RelType.PROVIDES, RelType.OFFERS)
DATES = ("", "2024-01-01", "2025-11-29", "2026-06-30")


def random_snapshot(seed: int):
    """Any node may point at any other (pathway relationships both ways, to itself, twice),
    so every branch of the searches is taken; data quality at random."""
    rng = random.Random(seed)
    kinds = {NodeKind.PERSON: rng.randint(1, 6), NodeKind.ORGANISATION: rng.randint(1, 8),
             NodeKind.SERVICE: rng.randint(1, 12), NodeKind.ACTIVITY: rng.randint(1, 20),
             NodeKind.LOCALITY: rng.randint(1, 4), NodeKind.NEED: rng.randint(1, 4)}
    nodes = []
    ids: dict[NodeKind, list[str]] = {}
    for kind, count in kinds.items():
        ids[kind] = [f"{kind.value[:3].lower()}{i}" for i in range(count)]
        for node in ids[kind]:
            props: dict = {"name": rng.choice(("A", "B", "Same", "Same", "Ça"))}
            if kind == NodeKind.PERSON:
                props["role"] = rng.choice(("link_worker", "link_worker", "volunteer"))
            if kind in (NodeKind.SERVICE, NodeKind.ACTIVITY):
                props.update(phone=rng.choice(("", "", "01422 000000")),
                             reviewed_at=rng.choice(DATES),
                             schedule=rng.choice(("", "Mondays")),
                             accessibility=rng.choice(("", "step_free")),
                             serves_whole_area=rng.choice((True, False, False)))
            nodes.append((node, kind, props))
    routed = ids[NodeKind.PERSON] + ids[NodeKind.ORGANISATION] + ids[NodeKind.SERVICE] \
        + ids[NodeKind.ACTIVITY]
    # by any type between any two, except that only services offer and organisations provide
    # (an activity offering itself would send the contact rule round a loop)
    from_kind = {RelType.REFERS_TO: routed, RelType.PROVIDES: ids[NodeKind.ORGANISATION],
                 RelType.OFFERS: ids[NodeKind.SERVICE]}
    rels: list[tuple[str, RelType, str, dict]] = []
    for _ in range(rng.randint(0, 4 * len(routed))):
        rel = rng.choice(PATHWAY)
        rels.append((rng.choice(from_kind[rel]), rel, rng.choice(routed), {}))
    for person in ids[NodeKind.PERSON]:
        for place in rng.sample(ids[NodeKind.LOCALITY], min(2, rng.randint(0, kinds[NodeKind.LOCALITY]))):
            rels.append((person, RelType.COVERS, place, {}))
    for activity in ids[NodeKind.ACTIVITY]:
        for place in rng.sample(ids[NodeKind.LOCALITY], min(2, rng.randint(0, kinds[NodeKind.LOCALITY]))):
            rels.append((activity, RelType.LOCATED_IN, place, {}))
        for need in rng.sample(ids[NodeKind.NEED], min(2, rng.randint(0, kinds[NodeKind.NEED]))):
            rels.append((activity, RelType.ADDRESSES, need, {}))
    rng.shuffle(rels)
    return build_snapshot(nodes, rels)


def assert_same_report(graph, query: GapQuery) -> GapReport:
    before = compute_gaps_before(graph, query)
    now = compute_gaps(graph, query)
    assert now == before, first_difference(now, before)
    assert json.dumps(now) == json.dumps(before)  # the same order everywhere, to the byte
    return now


@pytest.mark.parametrize("seed", range(60))
def test_same_report_as_the_first_version_on_random_snapshots(seed):
    graph = random_snapshot(seed)
    for hops in (1, 2, 3, 4, 6):
        assert_same_report(graph, GapQuery(max_hops=hops, as_of=AS_OF))
    # some localities and needs asked for, one of each twice (the report lists it twice)
    rng = random.Random(seed)
    places = sorted(n for n, k in graph.nodes(data="kind") if k == NodeKind.LOCALITY)
    needs = sorted(n for n, k in graph.nodes(data="kind") if k == NodeKind.NEED)
    asked_places = rng.sample(places, rng.randint(1, len(places)))
    asked_needs = rng.sample(needs, rng.randint(1, len(needs)))
    assert_same_report(graph, GapQuery(localities=(*asked_places, asked_places[0]),
                                       needs=(asked_needs[-1], *asked_needs), as_of=AS_OF))


def test_random_snapshots_exercise_failure_points_and_side_entries(monkeypatch):
    """The oracle test above compares something: failure points, among them some with a side
    entry into their dominator subtree (a search without them decides), unreached activities
    and red cells."""
    searches_without = []
    plain = gap_index.reach_from

    def counted(out, start, max_hops, without=None):
        if without is not None:
            searches_without.append(without)
        return plain(out, start, max_hops, without)

    monkeypatch.setattr(gap_index, "reach_from", counted)
    failure_points = unreached = red = 0
    for seed in range(60):
        report = compute_gaps(random_snapshot(seed), GapQuery(max_hops=4, as_of=AS_OF))
        failure_points += len(report["single_points_of_failure"])
        unreached += len(report["unreached"])
        red += sum(1 for c in report["coverage"] if c["existing"] == 0)
    assert failure_points >= 50 and unreached >= 100 and red >= 20, (failure_points, unreached,
                                                                      red)
    assert len(searches_without) >= 20, searches_without


@pytest.mark.parametrize("seed", range(12))
def test_same_report_as_the_first_version_on_loaded_partnerships(tmp_path, seed):
    store = EmbeddedStore(tmp_path / "graph.json")
    load_data(store, random_tables(seed) if seed % 2 else deep_tables(seed))
    for hops in (2, 4, 8):
        assert_same_report(store.snapshot(), GapQuery(max_hops=hops, as_of=AS_OF))


def test_same_report_as_the_first_version_on_the_generated_directory(tmp_path):
    write(generate(1500, seed=3), tmp_path / "data")
    store = EmbeddedStore(tmp_path / "graph.json")
    load_paths(store, [tmp_path / "data"])
    report = assert_same_report(store.snapshot(), GapQuery(as_of=dt.date(2026, 11, 29)))
    assert report["single_points_of_failure"] and report["unreached"]
