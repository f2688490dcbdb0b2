"""Directory feeds: HSDS 3.0 spec examples and hand-written messy ORUK 1.0 feeds → load plans."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest

from loaders.feed_text import html_to_text
from loaders.feeds import QualityReport, detect_format, plan_feed
from loaders.need_terms import NEED_NAMES, TERM_TO_NEED, need_for_term
from pathways.analysis.pathways import pathways_from
from pathways.errors import InputError
from pathways.loading import load_paths
from pathways.model import (
    COMMON_NEEDS,
    CONTENT_HASH,
    DERIVED_PROPERTIES,
    NODE_COLUMNS,
    PROVENANCE_FIELDS,
    NodeKind,
    RelType,
)
from pathways.store.base import PathwayFilter
from pathways.store.embedded import EmbeddedStore
from tests.conftest import HSDS_EXAMPLES, write_folder

ORUK = Path(__file__).parent.parent / "fixtures" / "oruk"
HSDS = HSDS_EXAMPLES
STAFF_EMAILS = ("jo.reviewer@council.example.gov.uk", "sam.checker@council.example.gov.uk")

needs_hsds = pytest.mark.skipif(not HSDS.exists(), reason=f"HSDS examples not found at {HSDS}")


def ids(plan, kind: NodeKind) -> set[str]:
    return {n.id for n in plan.nodes if n.kind == kind}


def rels(plan, rel: RelType) -> set[tuple[str, str]]:
    return {(r.source_id, r.target_id) for r in plan.rels if r.type == rel}


def props(plan, node_id: str) -> dict:
    return next(n.props for n in plan.nodes if n.id == node_id)


def entries(report: QualityReport, record_id: str, action: str | None = None) -> list[tuple]:
    return [(e.field, e.action, e.rule) for e in report.entries
            if e.record_id == record_id and action in (None, e.action)]


@pytest.fixture(scope="module")
def oruk():
    return plan_feed([ORUK], "oruk", {})


# --------------------------------------------------------------------------- HSDS 3.0 examples


def read_csv(name: str) -> list[dict]:
    with (HSDS / "csv" / name).open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


@needs_hsds
def test_hsds_tabular_example_loads_with_the_counts_it_holds():
    orgs, services = read_csv("organizations.csv"), read_csv("services.csv")
    service_ids = {s["id"] for s in services}
    sals = [s for s in read_csv("service_at_location.csv") if s["service_id"] in service_ids]
    sal_locations = {s["location_id"] for s in sals}
    towns = {a["city"] for a in read_csv("addresses.csv") if a["location_id"] in sal_locations}

    plan, report = plan_feed([HSDS / "csv"], None, {})

    assert ids(plan, NodeKind.ORGANISATION) == {f"hsds:organization:{o['id']}" for o in orgs}
    assert ids(plan, NodeKind.SERVICE) == {f"hsds:service:{s['id']}" for s in services}
    assert ids(plan, NodeKind.ACTIVITY) == {f"hsds:service_at_location:{s['id']}" for s in sals}
    assert {props(plan, i)["name"] for i in ids(plan, NodeKind.LOCALITY)} == towns
    assert rels(plan, RelType.PROVIDES) == {
        (f"hsds:organization:{s['organization_id']}", f"hsds:service:{s['id']}") for s in services}
    assert len(rels(plan, RelType.OFFERS)) == len(sals)
    assert len(rels(plan, RelType.LOCATED_IN)) == len(sals)
    assert not plan.problems
    activity = props(plan, f"hsds:service_at_location:{sals[0]['id']}")
    assert activity["schedule"] == "Thursdays and Fridays 10:00–18:00"
    assert activity["free"] is False and activity["cost"].startswith("£35 per 1 hour session")
    assert activity["age_min"] == 12 and activity["age_max"] == 100
    assert {"hearing_loop", "wheelchair_accessible"} <= set(activity["accessibility"])
    # the example's one attribute links to no record in the example: reported, not loaded
    assert [(e.field, e.rule) for e in report.entries if e.action == "dropped"
            and e.record_id.startswith("hsds:attribute:")] == [("link_id", "dangling-link")]


def hsds_json_ids() -> dict[str, set[str]]:
    """Organisation, service and service_at_location ids, read file by file by name."""
    def load(name: str) -> Any:
        return json.loads((HSDS / "json" / name).read_text(encoding="utf-8"))

    found: dict[str, set[str]] = {"organization": set(), "service": set(),
                                  "service_at_location": set()}

    def service(s: dict) -> None:
        found["service"].add(s["id"])
        if s.get("organization"):
            found["organization"].add(s["organization"]["id"])
        found["service_at_location"].update(x["id"] for x in s.get("service_at_locations", []))

    service(load("service_full.json"))
    for s in load("service_list.json")["contents"]:
        service(s)
    org = load("organization_full.json")
    found["organization"].add(org["id"])
    for s in org["services"]:
        service(s)
    found["organization"].update(o["id"] for o in load("organization_list.json")["contents"])
    sals = [load("service_at_location_full.json")]
    sals += load("service_at_location_list.json")["contents"]
    for sal in sals:
        found["service_at_location"].add(sal["id"])
        service(sal["service"])
    return found


@needs_hsds
def test_hsds_json_examples_load_with_the_counts_they_hold():
    expected = hsds_json_ids()

    plan, report = plan_feed([HSDS / "json"], None, {})

    for kind, table in ((NodeKind.ORGANISATION, "organization"), (NodeKind.SERVICE, "service"),
                        (NodeKind.ACTIVITY, "service_at_location")):
        assert ids(plan, kind) == {f"hsds:{table}:{i}" for i in expected[table]}
    assert len(rels(plan, RelType.OFFERS)) == len(expected["service_at_location"])
    assert ids(plan, NodeKind.LOCALITY) == {"locality:mycity"}
    # the example's taxonomy term is literally "name": unmapped, listed, kept in the description
    service = props(plan, next(iter(ids(plan, NodeKind.SERVICE))))
    assert service["description"].endswith("Also listed under: name.")
    term = ("attributes.taxonomy_term.name", "unmapped", "unmapped-term")
    assert term in entries(report, service["id"])
    # the list examples are page 1 of 10: the report says pages may be missing
    assert {e.record_id for e in report.entries if e.action == "incomplete"} >= {"hsds:service"}


@needs_hsds
def test_hsds_assurer_email_is_withheld_but_the_services_public_email_is_kept():
    plan, report = plan_feed([HSDS / "json" / "service_full.json"], "hsds", {})
    service = props(plan, "hsds:service:ac148810-d857-441c-9679-408f346de14b")
    # assurer_email and the service's own public address are the same in the example
    assert service["email"] == "email@example.com"
    assert ("assurer_email", "dropped", "staff-metadata") in entries(report, service["id"])
    assert "Ann Persona" not in json.dumps([n.props for n in plan.nodes])  # metadata.updated_by


@needs_hsds
def test_hsds_tables_without_a_datapackage_load_the_same(tmp_path):
    folder = tmp_path / "hsds"
    folder.mkdir()
    for table in (HSDS / "csv").glob("*.csv"):
        (folder / table.name).write_bytes(table.read_bytes())
    assert detect_format(folder) == "hsds"
    with_package, _ = plan_feed([HSDS / "csv"], None, {})
    without, _ = plan_feed([folder], None, {})
    assert hashes(without) == hashes(with_package)


def test_hsds_virtual_location_is_online_and_serves_the_whole_area(tmp_path):
    zoom = {"id": "l1", "location_type": "virtual", "name": "Zoom", "addresses": []}
    service = {"id": "s1", "name": "Online Choir", "last_modified": "2024-01-01",
               "service_at_locations": [{"id": "sal1", "location": zoom}]}
    (tmp_path / "service_full.json").write_text(json.dumps(service), encoding="utf-8")
    plan, _report = plan_feed([tmp_path / "service_full.json"], None, {})
    choir = props(plan, "hsds:service_at_location:sal1")
    assert choir["accessibility"] == ["online"] and choir["serves_whole_area"] is True
    assert not rels(plan, RelType.LOCATED_IN)


def test_oruk_phone_service_serves_the_whole_area_but_is_not_tagged_online(tmp_path):
    service = {"id": "9", "name": "Helpline", "attending_type": "phone",
               "organization": {"id": "o", "name": "Org"}, "service_at_locations": []}
    (tmp_path / "helpline.json").write_text(json.dumps([service]), encoding="utf-8")
    plan, report = plan_feed([tmp_path], "oruk", {})
    helpline = props(plan, "oruk:service:9:activity")
    assert helpline["serves_whole_area"] is True and "accessibility" not in helpline
    assert entries(report, "oruk:service:9") == []


# --------------------------------------------------------------------------- detection


@pytest.mark.parametrize("name", ["services_list.json", "services_paged.json", "service_full.json",
                                  "newer/service_full.json", "."])
def test_detect_format_recognises_oruk_fixtures(name):
    assert detect_format(ORUK / name) == "oruk"


@needs_hsds
@pytest.mark.parametrize("name", [
    "csv", "csv/datapackage.json", "json", "json/service_full.json", "json/service_list.json",
    "json/organization_list.json", "json/service_at_location_list.json",
    "json/taxonomy_term_list.json",
])
def test_detect_format_recognises_hsds_examples(name):
    assert detect_format(HSDS / name) == "hsds"


def test_detect_format_recognises_living_database_files(demo_dir, tmp_path):
    assert detect_format(demo_dir) == "living-db"
    assert detect_format(demo_dir / "people.csv") == "living-db"
    with pytest.raises(InputError, match="no such file"):
        detect_format(tmp_path / "missing.json")


# --------------------------------------------------------------------------- ORUK mapping


def test_oruk_feed_maps_services_organisations_activities_and_localities(oruk):
    plan, _ = oruk
    assert ids(plan, NodeKind.SERVICE) == {f"oruk:service:{i}" for i in
                                           ("101", "102", "104", "105", "106", "107", "201", "202")}
    orgs = ("org-calder-arts", "org-valley-health", "org-kettle", "org-clear-path")
    assert ids(plan, NodeKind.ORGANISATION) == {f"oruk:organization:{i}" for i in orgs}
    assert rels(plan, RelType.OFFERS) >= {
        ("oruk:service:101", "oruk:service_at_location:sal-101-a"),
        ("oruk:service:101", "oruk:service_at_location:sal-101-b"),
        ("oruk:service:105", "oruk:service:105:activity"),
    }
    assert rels(plan, RelType.LOCATED_IN) == {
        ("oruk:service_at_location:sal-101-a", "locality:halifax"),  # town from the address
        ("oruk:service_at_location:sal-101-b", "locality:hx7"),  # no town: postcode district
    }
    assert props(plan, "locality:halifax")["name"] == "Halifax"
    assert props(plan, "locality:hx7")["area_type"] == "postcode district"
    assert rels(plan, RelType.ADDRESSES) >= {
        ("oruk:service_at_location:sal-101-a", "mental_health"),
        ("oruk:service_at_location:sal-101-a", "creativity"),
        ("oruk:service:105:activity", "long_term_conditions"),
        ("oruk:service:106:activity", "loneliness"),
        ("oruk:service:106:activity", "carers"),  # a target audience ("Carers" eligibility)
    }
    assert ids(plan, NodeKind.NEED) == {"mental_health", "creativity", "long_term_conditions",
                                        "loneliness", "carers",
                                        # inferred from the text of list-shape services with
                                        # no taxonomy: "Walk and Talk", "Debt Advice Drop-in"
                                        "physical_activity", "practical_financial"}
    assert props(plan, "carers")["name"] == NEED_NAMES["carers"]
    studio = props(plan, "oruk:service_at_location:sal-101-a")
    assert studio["name"] == "Open Art Studio at Square Chapel"
    assert studio["schedule"] == "Tuesdays 10:00–12:30"
    assert studio["free"] is True and studio["age_min"] == 18
    assert studio["accessibility"] == ["hearing_loop", "wheelchair_accessible"]
    town_hall = props(plan, "oruk:service_at_location:sal-101-b")
    assert town_hall["schedule"] == "last Thursday of the month 18:00–20:00"
    assert props(plan, "oruk:service:101")["referral_info"] == "Referral needed."
    assert props(plan, "oruk:service:101")["phone"] == "01422 000 111"


def test_oruk_nodes_carry_model_columns_and_provenance_only(oruk):
    plan, _ = oruk
    assert not plan.problems
    for node in plan.nodes:
        columns = {c.name for c in NODE_COLUMNS[node.kind]}
        allowed = columns | DERIVED_PROPERTIES[node.kind] | set(PROVENANCE_FIELDS) | {CONTENT_HASH}
        assert set(node.props) <= allowed, node.id
        assert node.props["id"] == node.id and node.props["name"]
        assert node.props["source"].startswith("oruk:") and node.props["source_id"]
    assert props(plan, "oruk:service:101")["source_id"] == "101"
    assert props(plan, "oruk:service:101")["source"] == "oruk:service_full.json"


def test_duplicate_ids_with_different_content_keep_the_newest_and_are_reported(oruk):
    plan, report = oruk
    assert props(plan, "oruk:service:102")["name"] == "Walk & Talk Group"  # assured 2024-06-01
    [(fields, _action, rule)] = entries(report, "oruk:service:102", "merged")
    assert rule == "duplicate-id" and "name" in fields
    assert entries(report, "oruk:organization:org-valley-health", "merged") == [
        ("name", "merged", "duplicate-id")]
    # the list entry and the full record of 101 agree: merged without a report
    assert entries(report, "oruk:service:101", "merged") == []


def test_records_without_a_name_id_or_object_are_dropped_and_reported(oruk):
    plan, report = oruk
    assert "oruk:service:103" not in ids(plan, NodeKind.SERVICE)
    assert entries(report, "oruk:service:103") == [("name", "dropped", "empty-name")]
    assert entries(report, "oruk:services_list.json#6") == [("", "dropped", "not-an-object")]
    assert entries(report, "oruk:services_list.json#7") == [("id", "dropped", "no-id")]
    assert entries(report, "oruk:service:203") == [("status", "dropped", "inactive-service")]
    # an organisation with an empty name is dropped; its service stays, without a provider
    assert entries(report, "oruk:organization:org-allotment") == [("name", "dropped", "empty-name")]
    assert "oruk:service:107" in ids(plan, NodeKind.SERVICE)
    assert not any(dst == "oruk:service:107" for _, dst in rels(plan, RelType.PROVIDES))


def test_service_without_organisation_is_loaded_without_provides(oruk):
    plan, report = oruk
    assert "oruk:service:104" in ids(plan, NodeKind.SERVICE)
    assert not any(dst == "oruk:service:104" for _, dst in rels(plan, RelType.PROVIDES))
    assert ("organization", "unmapped", "no-organisation") in entries(report, "oruk:service:104")


def test_trailing_spaces_in_terms_are_trimmed_and_still_mapped(oruk):
    plan, report = oruk
    assert ("oruk:service_at_location:sal-101-a", "creativity") in rels(plan, RelType.ADDRESSES)
    trimmed = ("service_taxonomys.taxonomy.name", "repaired", "whitespace")
    assert trimmed in entries(report, "oruk:service:101")


def test_unmapped_terms_are_reported_and_kept_in_the_service_description(oruk):
    plan, report = oruk
    assert props(plan, "oruk:service:107")["description"] == (
        "Grow food with neighbours.\n\nAlso listed under: Gardening.")
    unmapped = {(e.record_id, e.reason) for e in report.entries if e.rule == "unmapped-term"}
    reason = "no need for the term 'Gardening'; kept in the service description"
    assert ("oruk:service:107", reason) in unmapped
    # an unmapped deliverable_type ("Information") is ignored, not listed
    assert "Information" not in json.dumps([n.props for n in plan.nodes])


def test_html_entities_are_decoded_even_when_double_encoded(oruk):
    plan, report = oruk
    assert props(plan, "oruk:service:104")["name"] == "Men's Shed & Repair Café"
    assert props(plan, "oruk:service:201")["name"] == "Tea & Chat"
    assert props(plan, "oruk:service:106")["description"] == (
        "Weekly befriending calls – no referral needed.")
    assert ("name", "repaired", "html-entities") in entries(report, "oruk:service:104")


def test_html_descriptions_become_plain_text_with_links_kept(oruk):
    plan, report = oruk
    assert props(plan, "oruk:service:101")["description"] == (
        "Relaxed art sessions for adults.\n\n"
        "Book via our booking page (https://calderarts.example.org/book) & bring a friend.\n\n"
        "Also listed under: adult; Gardening.")
    assert ("description", "repaired", "html-to-text") in entries(report, "oruk:service:101")
    for node in plan.nodes:
        for value in node.props.values():
            if isinstance(value, str):
                assert "<" not in value and "&amp;" not in value, node.id


def test_html_to_text_drops_scripts_and_keeps_mail_links():
    assert html_to_text('<ul><li>One</li><li><a href="mailto:a@b.org">E-mail us</a></li></ul>'
                        '<script>steal()</script>') == "- One\n- E-mail us (a@b.org)"


def test_missing_locations_give_one_activity_for_the_whole_service(oruk):
    plan, report = oruk
    no_location = ("service_at_locations", "repaired", "no-location")
    assert no_location in entries(report, "oruk:service:105")
    assert not any(src == "oruk:service:105:activity" for src, _ in rels(plan, RelType.LOCATED_IN))
    assert props(plan, "oruk:service:105:activity")["schedule"] == "Wednesdays 14:00–15:30"
    # a location with no address is kept, in no locality
    assert entries(report, "oruk:service_at_location:sal-107") == [
        ("address", "unmapped", "no-locality")]
    assert props(plan, "oruk:service_at_location:sal-107")["venue"] == "The Old Mill"


def test_online_service_is_tagged_online_and_serves_the_whole_area(oruk):
    plan, report = oruk
    phone_friends = props(plan, "oruk:service:106:activity")
    assert phone_friends["accessibility"] == ["online"]
    assert phone_friends["serves_whole_area"] is True and phone_friends["free"] is True
    assert entries(report, "oruk:service:106", "repaired") == [
        ("description", "repaired", "html-entities")]  # online: no "no-location" repair


def test_costs_and_ages_map_to_free_cost_and_age_range(oruk):
    plan, report = oruk
    breathe = props(plan, "oruk:service:105:activity")
    assert breathe["free"] is False and breathe["cost"] == "£3.50 per session"
    assert "age_min" not in breathe and "age_max" not in breathe  # 65 to 40: left out
    assert ("maximum_age", "repaired", "age-range") in entries(report, "oruk:service:105")


# --------------------------------------------------------------------------- privacy


def test_no_staff_email_appears_anywhere_in_the_plan_or_the_report(oruk, tmp_path):
    plan, report = oruk
    all_props = [n.props for n in plan.nodes] + [r.props for r in plan.rels]
    everything = json.dumps(all_props, ensure_ascii=False)
    report_text = "\n".join([
        report.write_csv(tmp_path / "q.csv").read_text(encoding="utf-8-sig"),
        report.write_json(tmp_path / "q.json").read_text(encoding="utf-8"),
        report.summary(),
    ])
    for email in STAFF_EMAILS:
        assert email not in everything
        assert email not in report_text
    assert "Jo Reviewer" not in everything and "Phoned the provider" not in everything
    assert props(plan, "oruk:service:105")["description"].startswith(
        "Support for people living with COPD and other lung conditions."
        " Details confirmed by [address removed] in May.")
    assert ("pc_metadata", "dropped", "staff-metadata") in entries(report, "oruk:service:101")
    assert ("pc_metadata", "dropped", "staff-metadata") in entries(report, "oruk:service:202")
    # the service's own public contact details are kept
    assert props(plan, "oruk:service:101")["email"] == "studio@calderarts.example.org"


# --------------------------------------------------------------------------- re-import


def hashes(plan) -> dict[str, str]:
    found = {n.id: n.props[CONTENT_HASH] for n in plan.nodes}
    found.update({r.props["source_id"]: r.props[CONTENT_HASH] for r in plan.rels})
    return found


def test_planning_the_same_feed_twice_gives_identical_content_hashes(oruk):
    plan, _ = oruk
    again, _ = plan_feed([ORUK], "oruk", {})
    assert hashes(again) == hashes(plan)


def test_newer_feed_changes_changed_records_and_reports_disappeared_ones():
    old, _ = plan_feed([ORUK / "service_full.json"], "oruk", {})
    new, report = plan_feed([ORUK / "newer" / "service_full.json"], "oruk", {},
                            previous_ids={n.id for n in old.nodes})
    before, after = hashes(old), hashes(new)
    changed = {i for i in before.keys() & after.keys() if before[i] != after[i]}
    assert changed == {"oruk:service:105", "oruk:service:105:activity"}
    assert props(new, "oruk:service:105:activity")["cost"] == "£4 per session"
    assert report.disappeared == ["oruk:service:106", "oruk:service:106:activity"]
    # shared nodes (needs, localities) are never reported as disappeared
    assert "loneliness" in before and "loneliness" not in report.disappeared


def test_a_feed_with_missing_pages_reports_no_disappeared_records(tmp_path):
    service = {"id": "1", "name": "Art Club", "organization": {"id": "o", "name": "Org"}}
    page = {"content": [service], "totalElements": 5}
    (tmp_path / "page1.json").write_text(json.dumps(page), encoding="utf-8")
    (tmp_path / "page2.json").write_text('{"content": [ {"id": "2", ', encoding="utf-8")  # cut off
    plan, report = plan_feed([tmp_path], "oruk", {}, previous_ids={"oruk:service:9"})
    assert ids(plan, NodeKind.SERVICE) == {"oruk:service:1"}
    assert report.disappeared == []
    assert {(e.record_id, e.action, e.rule) for e in report.entries} >= {
        ("oruk:page2.json", "dropped", "invalid-json"),
        ("oruk:services", "incomplete", "missing-pages"),
    }


# --------------------------------------------------------------------------- the report


def test_quality_report_writes_csv_for_excel_and_json(oruk, tmp_path):
    _, report = oruk
    raw = report.write_csv(tmp_path / "report.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(raw.decode("utf-8-sig").splitlines()))
    assert list(rows[0]) == ["record_id", "field", "action", "rule", "reason", "source"]
    assert len(rows) == len(report.entries)
    data = json.loads(report.write_json(tmp_path / "report.json").read_text(encoding="utf-8"))
    assert data["counts"]["merged"] == 2 and data["loaded"]["services"] == 8
    summary = report.summary()
    assert "Loaded: organisations 4, services 8, activities 9" in summary
    assert ("Dropped 7: empty name 2, inactive service 1, no id 1, not an object 1,"
            " staff metadata 2.") in summary


# --------------------------------------------------------------------------- with a store


def plan_for(store: EmbeddedStore, paths, previous=None):
    first, _ = plan_feed(paths, None, {})
    return plan_feed(paths, None, store.existing_kinds({n.id for n in first.nodes}),
                     previous_ids=previous)


def test_imported_services_join_living_database_routes_and_pathways(tmp_path):
    store = EmbeddedStore(tmp_path / "g.json")
    plan, _ = plan_for(store, [ORUK])
    store.write(plan.nodes, plan.rels)
    partnership = write_folder(tmp_path / "partnership", {
        "people": [["id", "name", "role"], ["lw", "Lee Walker", "link_worker"]],
        "relationships": [["source_id", "type", "target_id", "method"],
                          ["lw", "REFERS_TO", "oruk:service:101", "email"],
                          ["lw", "REFERS_TO", "oruk:organization:org-valley-health", "phone"],
                          ["lw", "COVERS", "locality:halifax", ""]],
    })
    load_paths(store, [partnership])

    found = {a["id"] for a in pathways_from(store, "lw")["activities"]}
    assert {"oruk:service_at_location:sal-101-a", "oruk:service_at_location:sal-101-b",
            "oruk:service:105:activity", "oruk:service:106:activity"} <= found
    creative = pathways_from(store, "lw", PathwayFilter(needs=("creativity",)))["activities"]
    assert {a["id"] for a in creative} == {"oruk:service_at_location:sal-101-a",
                                          "oruk:service_at_location:sal-101-b"}
    halifax = PathwayFilter(locality="locality:halifax")
    in_halifax = pathways_from(store, "lw", halifax)["activities"]
    # sal-101-a is in Halifax; service 106 is online (serves the whole area): in every locality
    assert sorted(a["id"] for a in in_halifax) == ["oruk:service:106:activity",
                                                   "oruk:service_at_location:sal-101-a"]

    again, _ = plan_for(store, [ORUK])  # the needs and localities are in the store now
    summary = store.write(again.nodes, again.rels)
    assert (summary.nodes_new, summary.nodes_changed) == (0, 0)
    assert (summary.rels_new, summary.rels_changed) == (0, 0)
    assert {n.id for n in again.nodes} & {"locality:halifax", "mental_health"} == set()


# --------------------------------------------------------------------------- term table


def test_need_term_table_uses_model_need_codes():
    assert set(NEED_NAMES) == set(COMMON_NEEDS)
    assert set(TERM_TO_NEED.values()) <= set(COMMON_NEEDS)
    assert need_for_term("Mental Health") == "mental_health"
    assert need_for_term("  Long Term Health Conditions ") == "long_term_conditions"
    assert need_for_term("Debt & money advice") == "practical_financial"
    assert need_for_term("Gardening") is None


# --------------------------------------------------------------------------- bad input (issue 11)


def _one_service(tmp_path, text: str) -> Path:
    path = tmp_path / "services.json"
    path.write_text(text, encoding="utf-8")
    return path


def test_ages_and_costs_too_big_or_infinite_are_dropped_without_crashing(tmp_path):
    path = _one_service(tmp_path, '[{"id": "1", "name": "Art", "cost_options": [{"amount": 1e400}],'
                                  ' "eligibilitys": [{"minimum_age": 1e400,'
                                  ' "maximum_age": 99999999999999999999}]}]')
    plan, report = plan_feed([path], "oruk", {})
    activity = props(plan, "oruk:service:1:activity")
    assert "age_min" not in activity and "age_max" not in activity
    assert ("minimum_age", "dropped", "bad-age") in entries(report, "oruk:service:1")
    assert ("maximum_age", "dropped", "bad-age") in entries(report, "oruk:service:1")


def test_control_and_zero_width_characters_are_removed_from_feed_text(tmp_path):
    path = _one_service(tmp_path, json.dumps([{"id": "1", "name": "Art\u0000 Club\u200b",
                                               "description": "Paint&#7;ing"}]))
    plan, report = plan_feed([path], "oruk", {})
    service = props(plan, "oruk:service:1")
    assert (service["name"], service["description"]) == ("Art Club", "Painting")
    assert ("name", "repaired", "control-characters") in entries(report, "oruk:service:1")


def test_records_with_ids_too_long_or_invisible_are_dropped_and_reported(tmp_path):
    path = _one_service(tmp_path, json.dumps([
        {"id": "s" * 300, "name": "Long"}, {"id": "a\u200bb", "name": "Invisible"},
        {"id": "ok", "name": "Fine"}]))
    plan, report = plan_feed([path], "oruk", {})
    assert ids(plan, NodeKind.SERVICE) == {"oruk:service:ok"}
    reasons = [e.reason for e in report.entries if e.rule == "bad-id"]
    assert any("longer than 256 characters" in r for r in reasons)
    assert any("invisible or control characters (found U+200B)" in r for r in reasons)


@pytest.mark.parametrize("text, line, phrase", [
    ('[{"id": "1",\n "name": NaN}]', 2, "NaN on line 2 is not allowed in JSON"),
    ('[{"id": "1", "name": "A"},\n {"id": "2", "x": -Infinity}]', 2, "-Infinity on line 2"),
    ('[{"id": "1", "name": "A"},\n {"id": "2", ', 2, "ends before the JSON is complete (line 2)"),
    ('[{"id": "1", "name": "A"},\n {"id": "2", "name": "B"', 2, "ends before the JSON is complete"),
    ('{"a":\n' + "[" * 65 + "]" * 65 + "}", 2, "nested more than 64 levels deep"),
    ("[" * 100_000, 1, "nested more than 64 levels deep"),
    ('[{"id": "1"}]\n[1, 2,, 3]', 2, "not valid JSON at line 2 (Expecting value)"),
])
def test_unreadable_json_is_reported_with_its_line(tmp_path, text, line, phrase):
    _plan, report = plan_feed([_one_service(tmp_path, text)], "oruk", {})
    [problem] = report.read_problems
    assert (problem.file, problem.row) == ("services.json", line)
    assert phrase in problem.reason


def test_a_file_given_twice_is_refused(tmp_path):
    path = _one_service(tmp_path, '[{"id": "1", "name": "A"}]')
    with pytest.raises(InputError) as caught:
        plan_feed([path, tmp_path], "oruk", {})
    assert caught.value.problems[0].reason.startswith("given twice")


def test_hsds_rows_with_extra_cells_load_and_a_package_path_outside_is_ignored(tmp_path):
    tables = tmp_path / "hsds"
    tables.mkdir()
    (tables / "datapackage.json").write_text(json.dumps({"resources": [
        {"name": "service", "path": "../../etc/services.csv"}]}), encoding="utf-8")
    (tables / "services.csv").write_text("id,name\ns1,Art,extra,cells\n", encoding="utf-8")
    plan, _ = plan_feed([tables], "hsds", {})
    assert props(plan, "hsds:service:s1")["name"] == "Art"


def test_cli_says_which_part_of_a_feed_could_not_be_read(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from pathways.cli import cli

    monkeypatch.setenv("PATHWAYS_HOME", str(tmp_path / "home"))
    service = {"id": "1", "name": "Art Club", "organization": {"id": "o", "name": "Org"}}
    feed = tmp_path / "feed"
    feed.mkdir()
    (feed / "page1.json").write_text(json.dumps({"content": [service]}), encoding="utf-8")
    (feed / "page2.json").write_text('{"content": [ {"id": "2", ', encoding="utf-8")  # cut off
    result = CliRunner().invoke(cli, ["load", str(feed), "--format", "oruk"])
    assert result.exit_code == 0, result.output
    assert "could not be read, so nothing was retired" in result.stderr
    assert "page2.json" in result.stderr and "cut off" in result.stderr
    assert "rejected rows written" not in result.output
