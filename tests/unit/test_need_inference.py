"""Needs inferred from a service's text when its directory gives no taxonomy (issue 15, item 1)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from loaders.feeds import plan_feed
from loaders.need_rules import (
    LEAD_WORDS,
    RULES_FILE,
    infer_needs,
    load_rules,
    normalise,
    parse_rules,
)
from loaders.need_terms import NEED_NAMES
from pathways.model import RelType

COUNCIL = Path(__file__).parents[2].parent / "shared" / "fixtures" / "oruk-council-sample"


def inferred(description: str, name: str = "", org: str = "") -> dict[str, str]:
    found = infer_needs([("name", name), ("description", description),
                         ("organization.description", org)])
    return {f.need: f.evidence for f in found}


def list_shape(tmp_path: Path, services: list[dict]) -> Path:
    """An ORUK 1.0 /services list-shape file (no taxonomy, no locations), like real councils'."""
    records = [{"id": s["id"], "name": s["name"], "description": s.get("description", ""),
                "status": "active",
                "organization": {"id": "org-1", "name": "Village Hall Trust",
                                 "description": s.get("org", "")},
                **({"service_taxonomys": s["terms"]} if "terms" in s else {})}
               for s in services]
    path = tmp_path / "services.json"
    path.write_text(json.dumps(records), encoding="utf-8")
    return path


def addresses(plan) -> dict[tuple[str, str], dict]:
    return {(r.source_id, r.target_id): r.props for r in plan.rels
            if r.type == RelType.ADDRESSES}


def test_a_befriending_service_is_for_loneliness_with_the_phrase_as_evidence():
    assert inferred("Our befriending service matches volunteers with older people.") == {
        "loneliness": "befriending"}


@pytest.mark.parametrize("text", [
    "Come to our summer concert in the town hall.",              # a concert is not creativity
    "An evening of live music from a touring folk band.",
    "A wellbeing hub at the heart of the community.",           # wellbeing alone: not mental health
    "Health and wellbeing advice for families.",
    "A games afternoon; carers are welcome to attend free.",     # a carer welcome to attend
    "Stay and play for parents and carers with toddlers.",
    "A monthly craft fair with local makers' stalls.",           # selling crafts is not making them
    "We have been running for ten years in the village.",       # 'running' the verb
])
def test_conservative_rules_infer_nothing_from_passing_mentions(text):
    assert inferred(text) == {}


@pytest.mark.parametrize("text, need, evidence", [
    ("A peer group for people living with anxiety and depression.", "mental_health", "anxiety"),
    ("Support for carers: breaks, advice and a monthly carers' coffee morning.", "carers",
     "carers"),
    ("Weekly Knit & Natter at the library.", "creativity", "knit"),
    ("A free weekly 5k parkrun.", "physical_activity", "parkrun"),
    ("Food bank and debt advice.", "practical_financial", "food bank"),
    ("Emergency accommodation for people who are homeless.", "housing",
     "emergency accommodation"),
    ("A cafe for people living with dementia.", "long_term_conditions", "dementia"),
    ("Support for people with M.E./CFS.", "long_term_conditions", "m e cfs"),
])
def test_each_need_is_inferred_from_its_phrases(text, need, evidence):
    assert inferred(text)[need] == evidence


def test_the_organisation_description_gives_needs_its_services_share():
    found = inferred("Table tennis for anyone aged 60+.",
                     org="A community project for people aged 60+ to reduce loneliness.")
    assert found == {"physical_activity": "tennis", "loneliness": "loneliness"}


def test_only_the_lead_of_a_long_description_is_read():
    filler = " ".join(["The centre has rooms to hire for meetings."] * (LEAD_WORDS // 8 + 1))
    assert inferred(f"{filler} Groups include counselling and a walking group.") == {}
    assert "mental_health" in inferred(f"Counselling for adults. {filler}")


def test_a_phrase_never_spans_two_sentences():
    assert normalise("Parents and carers. Welcome!") == "parents and carers | welcome |"
    assert inferred("Open to all carers. Welcome to our new hall.") == {"carers": "carers"}


def test_every_rule_names_a_need_the_model_knows():
    rules = load_rules(RULES_FILE)
    assert {r.need for r in rules} == set(NEED_NAMES)
    assert len({(r.need, r.rule, r.phrase) for r in rules}) == len(rules)  # no duplicate rows


def test_a_bad_rule_row_is_refused_with_its_line_number():
    with pytest.raises(ValueError, match="line 3"):
        parse_rules([{"need": "carers", "rule": "counts", "phrase": "carers"},
                     {"need": "carers", "rule": "maybe", "phrase": "respite"}])


def test_inferred_needs_are_marked_inferred_with_evidence_on_addresses(tmp_path):
    path = list_shape(tmp_path, [
        {"id": "s1", "name": "Good Neighbours",
         "description": "A befriending service for older people."},
        {"id": "s2", "name": "Village Hall Hire", "description": "Rooms to hire."},
    ])
    plan, _ = plan_feed([path], "oruk", {})
    assert addresses(plan) == {("oruk:service:s1:activity", "loneliness"): {
        **addresses(plan)[("oruk:service:s1:activity", "loneliness")],
        "inferred": True, "evidence": "befriending"}}
    assert {n.id for n in plan.nodes if n.id in NEED_NAMES} == {"loneliness"}


def test_a_need_from_a_taxonomy_term_wins_and_nothing_is_inferred_beside_it(tmp_path):
    path = list_shape(tmp_path, [
        {"id": "s1", "name": "Befriending and Walks",
         "description": "A befriending service with health walks.",
         "terms": [{"id": "t1", "taxonomy": {"id": "x1", "name": "Loneliness"}}]},
    ])
    plan, _ = plan_feed([path], "oruk", {})
    found = addresses(plan)
    assert set(found) == {("oruk:service:s1:activity", "loneliness")}
    assert "inferred" not in found["oruk:service:s1:activity", "loneliness"]
    assert "evidence" not in found["oruk:service:s1:activity", "loneliness"]


def test_changing_the_evidence_changes_the_relationship_hash(tmp_path):
    def hashes(description):
        path = list_shape(tmp_path, [{"id": "s1", "name": "Group", "description": description}])
        plan, _ = plan_feed([path], "oruk", {})
        return {k: v["content_hash"] for k, v in addresses(plan).items()}

    assert hashes("A befriending group.") == hashes("A befriending group.")
    assert hashes("A befriending group.") != hashes("A group for lonely people.")


@pytest.mark.skipif(not COUNCIL.exists(), reason=f"council sample not found at {COUNCIL}")
def test_a_real_council_directory_gets_needs_it_had_none_of():
    plan, _ = plan_feed([COUNCIL / "north-lincolnshire-services-sample.json"], "oruk", {})
    found = addresses(plan)
    services = {src for src, _ in found}
    assert len(services) >= 50  # of 100 services, before inference: 0
    given = {src for (src, _), p in found.items() if "inferred" not in p}
    assert len(given) == 1  # the one service whose deliverable_type is "Physical activity"
    assert all(p["inferred"] is True and p["evidence"]
               for (src, _), p in found.items() if src not in given)
    concerts = [n.id for n in plan.nodes if n.props.get("name") == "The Carter Sampson Band"]
    assert concerts and not any(src.startswith(concerts[0]) for src in services)
