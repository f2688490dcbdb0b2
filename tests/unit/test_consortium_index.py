"""A consortium's cells from the per-snapshot need index (issue 18 item 6: 0.5-0.9 s a call at
100k, most of 50 users' waiting) give the first version's providers for every cell, with the
opportunity's filters; and what link workers reach, kept per snapshot and hop limit, gives
the same suggestions as a fresh snapshot asked once."""

from __future__ import annotations

import random

import pytest

import pathways.analysis.consortia as consortia
from pathways.analysis.consortia import Opportunity, cell_providers, suggest
from pathways.analysis.snapshot import sources, targets
from pathways.model import NodeKind, RelType, serves_whole_area
from tests.unit.test_commission_index import random_graph

ACCESS = ("wheelchair", "hearing_loop", "quiet_space")


def cell_providers_before(graph, opp):
    """The first version: every activity of each need, checked against each locality."""
    cells = {(n, loc): {} for n in opp.needs for loc in opp.localities}
    for need in opp.needs:
        for activity in sources(graph, need, RelType.ADDRESSES):
            props = graph.nodes[activity]["props"]
            if graph.nodes[activity]["kind"] != NodeKind.ACTIVITY or not consortia._fits(props,
                                                                                         opp):
                continue
            places = set(targets(graph, activity, RelType.LOCATED_IN))
            whole = serves_whole_area(props)
            orgs = {o for s in sources(graph, activity, RelType.OFFERS)
                    for o in sources(graph, s, RelType.PROVIDES)}
            for loc in opp.localities:
                if whole or loc in places:
                    for org in orgs:
                        cells[(need, loc)].setdefault(org, []).append(activity)
    for providers in cells.values():
        for acts in providers.values():
            acts.sort()
    return cells


def graph_with_filters(seed: int):
    """:func:`random_graph` with activities that are free or not, have access tags and age
    ranges, so every filter of an opportunity takes some out, and link workers referring to
    organisations and services (so some members are reached within a hop limit, some not)."""
    graph, needs, locs = random_graph(seed)
    rng = random.Random(seed * 7 + 1)
    people = sorted(n for n, kind in graph.nodes(data="kind") if kind == NodeKind.PERSON)
    ends = sorted(n for n, kind in graph.nodes(data="kind")
                  if kind in (NodeKind.ORGANISATION, NodeKind.SERVICE))
    for person in people:
        for end in rng.sample(ends, min(len(ends), rng.randint(0, 3))):
            graph.add_edge(person, end, key=RelType.REFERS_TO, props={})
    for node, kind in graph.nodes(data="kind"):
        if kind == NodeKind.ACTIVITY:
            props = graph.nodes[node]["props"]
            props["free"] = rng.random() < 0.5
            props["accessibility"] = rng.sample(ACCESS, rng.randint(0, 2))
            if rng.random() < 0.5:
                props["age_min"] = rng.choice((0, 16, 18, 50))
                props["age_max"] = rng.choice((None, 25, 65, 99))
    return graph, needs, locs


def opportunities(seed: int, needs, locs):
    rng = random.Random(seed)
    for _ in range(8):
        yield Opportunity(
            needs=tuple(rng.sample(needs, rng.randint(1, len(needs)))),
            localities=tuple(rng.sample(locs, rng.randint(1, len(locs)))),
            free_only=rng.random() < 0.3,
            access=tuple(rng.sample(ACCESS, rng.randint(0, 1))),
            age_min=rng.choice((None, 18, 30)), age_max=rng.choice((None, 60)))


@pytest.mark.parametrize("seed", range(80, 120))
def test_cells_match_the_first_version(seed):
    graph, needs, locs = graph_with_filters(seed)
    for opp in opportunities(seed, needs, locs):
        assert cell_providers(graph, opp) == cell_providers_before(graph, opp)


def test_the_graphs_exercise_every_filter():
    """Not vacuous: filters take providers out, and whole-area activities reach cells."""
    filtered = whole = 0
    for seed in range(80, 120):
        graph, needs, locs = graph_with_filters(seed)
        everyone = Opportunity(needs=tuple(needs), localities=tuple(locs))
        full = cell_providers(graph, everyone)
        for opp in opportunities(seed, needs, locs):
            got = cell_providers(graph, opp)
            filtered += sum(got[c] != full[c] for c in got)
        whole += any(serves_whole_area(graph.nodes[a]["props"])
                     for a in graph if graph.nodes[a]["kind"] == NodeKind.ACTIVITY)
    assert filtered >= 50 and whole >= 20, (filtered, whole)


def test_hop_limits_change_which_members_are_reached():
    """Not vacuous: the hop limit changes some suggestions (what link workers reach)."""
    differ = 0
    for seed in range(80, 100):
        graph, needs, locs = graph_with_filters(seed)
        opp = next(opportunities(seed, needs, locs))
        differ += suggest(graph, opp, max_hops=1) != suggest(graph, opp, max_hops=4)
    assert differ >= 3, differ


@pytest.mark.parametrize("seed", range(80, 100))
def test_suggestions_at_any_hop_limit_match_a_fresh_snapshot(seed):
    """One snapshot asked at hop limits 4, 1, 2, 4 answers as fresh snapshots do (what link
    workers reach is kept per hop limit, never one limit's answer for another)."""
    graph, needs, locs = graph_with_filters(seed)
    opp = next(opportunities(seed, needs, locs))
    for hops in (4, 1, 2, 4):
        fresh, _needs, _locs = graph_with_filters(seed)
        assert suggest(graph, opp, max_hops=hops) == suggest(fresh, opp, max_hops=hops)
