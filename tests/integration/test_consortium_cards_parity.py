"""Consortium cards on both stores (issue 19 item 4): the strategies, evidence and ties of every
suggestion, the members' contacts and the workbook's cells are the same on the embedded store
and on a real Neo4j server, for the demo and for seeded random graphs with people working for
the organisations; and each evidence row is a real chain in Neo4j, checked by Cypher."""

from __future__ import annotations

import io
import random

import pytest
from openpyxl import load_workbook

from pathways.analysis.consortia import ConsortiumReport, Opportunity, consortia, report_contacts
from pathways.loading import load_paths
from pathways.reports.consortium_workbook import workbook_bytes
from tests.conftest import first_difference, load_data
from tests.integration.test_consortia_parity import DEMO_OPPORTUNITIES
from tests.unit.test_consortia import random_opportunities, random_world

pytestmark = pytest.mark.neo4j

EVIDENCE_CHAIN = """
MATCH (o:Organisation {id: $member})-[:PROVIDES]->(s:Service {id: $service})
      -[:OFFERS]->(a:Activity {id: $activity})-[:ADDRESSES]->(n:Need {id: $need})
OPTIONAL MATCH (a)-[:LOCATED_IN]->(l:Locality {id: $locality})
WITH a, count(l) AS here
RETURN here > 0 OR a.serves_whole_area = true AS there
"""
ROLES = ("partnership_lead", "commissioner", "practitioner", "volunteer", "link_worker")


@pytest.fixture
def both(embedded_store, neo4j_store):
    return embedded_store, neo4j_store


def with_people(data: dict, seed: int) -> dict:
    """The random world with people of every role working for some organisations."""
    rng = random.Random(f"people-{seed}")
    orgs = [o["id"] for o in data["organisations"]]
    people = [{"id": f"p{i}", "name": rng.choice(("Ash Lee", "Bo Lee", "Cy Lee")),
               "role": rng.choice(ROLES), "job_title": rng.choice(("", "Lead", "Officer")),
               "phone": f"01422 {i:06d}", "email": f"p{i}@example.org"} for i in range(8)]
    works = [{"source_id": p["id"], "type": "WORKS_FOR", "target_id": rng.choice(orgs)}
             for p in people]
    return {**data, "people": data.get("people", []) + people,
            "relationships": data["relationships"] + works}


def cells(data: bytes) -> dict[str, list[list[object]]]:
    book = load_workbook(io.BytesIO(data))
    return {ws.title: [[c.value for c in row] for row in ws.iter_rows()] for ws in book}


def check(both, opp: Opportunity, max_size: int = 4) -> ConsortiumReport:
    embedded, neo4j = both
    left, right = consortia(embedded, opp, max_size=max_size), consortia(neo4j, opp, max_size=max_size)
    assert left == right, first_difference(left, right)
    people = report_contacts(embedded, left), report_contacts(neo4j, right)
    assert people[0] == people[1], first_difference(people[0], people[1])
    assert cells(workbook_bytes(left, people[0])) == cells(workbook_bytes(right, people[1]))
    for s in right["suggestions"]:
        for e in s["evidence"]:
            records, _, _ = neo4j.driver.execute_query(
                EVIDENCE_CHAIN, member=e["member"], service=e["service"], activity=e["activity"],
                need=e["need"], locality=e["locality"], database_=neo4j.settings.database)
            assert [r["there"] for r in records] == [True], e
    return right


def test_demo_cards_are_identical_on_both_stores(both, demo_dir):
    for store in both:
        load_paths(store, [demo_dir])
    seen = {"evidence": 0, "ties": 0, "strategies": set()}
    for opp in DEMO_OPPORTUNITIES:
        report = check(both, opp)
        for s in report["suggestions"]:
            seen["evidence"] += len(s["evidence"])
            seen["ties"] += len(s["ties"])
            seen["strategies"] |= {x["kind"] for x in s["strategies"]}
    assert seen["evidence"] and seen["ties"] and len(seen["strategies"]) == 3, seen


@pytest.mark.parametrize("seed", range(6))
def test_random_graph_cards_and_contacts_are_identical_on_both_stores(both, seed):
    data = with_people(random_world(seed), seed)
    for store in both:
        load_data(store, data)
    for opp, max_size in random_opportunities(data, seed):
        check(both, opp, max_size)
