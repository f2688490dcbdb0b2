"""The consortium report is the same on the embedded store and on a real Neo4j server, and
what it claims about coverage holds for the data Neo4j actually holds.

Both stores hand :func:`pathways.analysis.consortia.consortia` a whole-graph snapshot; a
difference in either (a boolean stored as text, a tag list as a string, an age as a float,
a missing edge) would show as a different report.  The coverage is also recomputed with a
Cypher query straight against Neo4j, not through the snapshot.
"""

from __future__ import annotations

from collections import defaultdict
from itertools import combinations

import pytest

from pathways.analysis.consortia import Opportunity, chain_between, consortia
from pathways.analysis.snapshot import cached_snapshot
from pathways.loading import load_paths
from tests.conftest import first_difference, load_data
from tests.unit.test_consortia import (
    cells_of,
    cellset,
    covers_of,
    random_opportunities,
    random_world,
)

pytestmark = pytest.mark.neo4j

DEMO_OPPORTUNITIES = [
    Opportunity(("loneliness", "mental_health"), ("loc-north-halifax", "loc-central-halifax", "loc-todmorden")),
    Opportunity(("physical_activity", "creativity", "long_term_conditions"),
                ("loc-brighouse", "loc-elland", "loc-hebden-bridge", "loc-sowerby-bridge"), free_only=True),
    Opportunity(("carers", "practical_financial", "loneliness"), ("loc-central-halifax", "loc-todmorden", "loc-elland"),
                access=("step_free",), age_min=18, age_max=64),
]


@pytest.fixture
def both(embedded_store, neo4j_store):
    return embedded_store, neo4j_store


COVERING = """
MATCH (o:Organisation)-[:PROVIDES]->(:Service)-[:OFFERS]->(a:Activity)-[:ADDRESSES]->(n:Need)
WHERE n.id IN $needs
OPTIONAL MATCH (a)-[:LOCATED_IN]->(l:Locality)
RETURN o.id AS org, a.id AS activity, n.id AS need, collect(l.id) AS places, a.serves_whole_area AS whole,
       a.free AS free, a.accessibility AS access, a.age_min AS low, a.age_max AS high
"""


def providers_in_neo4j(store, opp: Opportunity) -> dict[tuple, dict[str, set[str]]]:
    """{(need, locality): {organisation: activities}} by a Cypher walk over the stored graph."""
    records, _, _ = store.driver.execute_query(COVERING, needs=list(opp.needs),
                                               database_=store.settings.database)
    cells: dict[tuple, defaultdict[str, set[str]]] = {
        (n, p): defaultdict(set) for n in opp.needs for p in opp.localities}
    for r in records:
        if (opp.free_only and r["free"] is not True) or not set(opp.access) <= set(r["access"] or []):
            continue
        if opp.age_max is not None and r["low"] is not None and r["low"] > opp.age_max:
            continue
        if opp.age_min is not None and r["high"] is not None and r["high"] < opp.age_min:
            continue
        for place in opp.localities if r["whole"] is True else set(r["places"]) & set(opp.localities):
            cells[(r["need"], place)][r["org"]].add(r["activity"])
    return {cell: dict(orgs) for cell, orgs in cells.items()}


def check_coverage_in_neo4j(report: dict, store, opp: Opportunity) -> None:
    providers = providers_in_neo4j(store, opp)
    assert cells_of(report) == providers
    assert cellset(report["uncoverable"]) == {cell for cell, orgs in providers.items() if not orgs}
    covers = covers_of(providers)
    for s in report["suggestions"]:
        covered = set().union(*(covers[m["id"]] for m in s["members"]))
        assert cellset(s["covered"]) == covered
        assert cellset(s["uncovered"]) == set(providers) - covered


def test_demo_reports_are_identical_on_both_stores_for_three_opportunities(both, demo_dir):
    embedded, neo4j = both
    for store in both:
        load_paths(store, [demo_dir])
    for opp in DEMO_OPPORTUNITIES:
        left, right = consortia(embedded, opp), consortia(neo4j, opp)
        assert left == right, first_difference(left, right)
        assert left["suggestions"] and left["landscape"]
        check_coverage_in_neo4j(right, neo4j, opp)
    assert consortia(neo4j, DEMO_OPPORTUNITIES[0])["uncoverable"] == [["loneliness", "loc-todmorden"]]


def test_demo_chains_between_organisations_are_identical_on_both_stores(both, demo_dir):
    for store in both:
        load_paths(store, [demo_dir])
    graphs = [cached_snapshot(store) for store in both]
    orgs = sorted(n for n, kind in graphs[0].nodes(data="kind") if kind.value == "Organisation")
    chains = {(a, b): [[(s["id"], s["via"]) for s in chain_between(g, a, b)] for g in graphs]
              for a, b in combinations(orgs, 2)}
    differ = {pair: both_chains for pair, both_chains in chains.items() if both_chains[0] != both_chains[1]}
    assert not differ, f"{len(differ)} of {len(chains)} chains differ, e.g. {next(iter(differ.items()))}"


@pytest.mark.parametrize("seed", range(10))
def test_random_graph_reports_are_identical_and_their_coverage_holds_in_neo4j(both, seed):
    embedded, neo4j = both
    data = random_world(seed)
    for store in both:
        load_data(store, data)
    for opp, max_size in random_opportunities(data, seed):
        left, right = consortia(embedded, opp, max_size=max_size), consortia(neo4j, opp, max_size=max_size)
        assert left == right, first_difference(left, right)
        check_coverage_in_neo4j(right, neo4j, opp)
