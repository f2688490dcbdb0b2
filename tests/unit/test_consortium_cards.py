"""Consortium cards a commissioner can use (issue 19 item 4), on the embedded store: which
method produced each suggestion, the evidence for every covered cell, the members' existing
ties one by one, and their named contacts (kept out of the report)."""

from __future__ import annotations

import io
import json
from itertools import combinations

import pytest

from pathways.analysis.consortia import (
    CONNECTED,
    STRATEGIES,
    WIDEST,
    WITHOUT,
    Opportunity,
    consortia,
    contacts_of,
    report_contacts,
    suggest,
    tie_count,
    tie_graph,
    ties_network,
)
from pathways.loading import demo_data_dir, load_paths
from pathways.store.embedded import EmbeddedStore
from tests.unit.test_consortia import (
    DEMO_NEEDS,
    DEMO_PLACES,
    act,
    covers_of,
    fits,
    members,
    providers_from_tables,
    random_opportunities,
    random_world,
    rows,
    snapshot,
    ties_from_tables,
    world,
)


def edges_of(data: dict) -> set[tuple[str, str, str]]:
    return {(r["source_id"], r["type"], r["target_id"]) for r in data.get("relationships", [])}


# ------------------------------------------------------------------ evidence


@pytest.mark.parametrize("seed", range(30))
def test_every_covered_cell_has_evidence_recomputed_from_the_loaded_rows(seed):
    """Each evidence row: the member provides the service, the service offers the activity,
    the activity addresses the need, is in the locality (or serves the whole area) and passes
    the filters; and the rows give exactly the cells and activities the report covers."""
    data = random_world(seed)
    graph = snapshot(data)
    links = edges_of(data)
    acts = {a["id"]: a for a in data.get("activities", [])}
    located = rows(data, "LOCATED_IN")
    for opp, max_size in random_opportunities(data, seed):
        report = suggest(graph, opp, max_size=max_size, alternatives=20)
        providers = providers_from_tables(data, opp)
        covers = covers_of(providers)
        for s in report["suggestions"]:
            for e in s["evidence"]:
                a = e["activity"]
                assert (e["member"], "PROVIDES", e["service"]) in links
                assert (e["service"], "OFFERS", a) in links
                assert (a, "ADDRESSES", e["need"]) in links
                assert e["locality"] in located[a] or acts[a].get("serves_whole_area") == "yes"
                assert fits(acts[a], opp)
            shown = {((e["need"], e["locality"]), e["member"]) for e in s["evidence"]}
            assert shown == {(cell, m) for m in members(s) for cell in covers[m]}
            assert {(e["need"], e["locality"]) for e in s["evidence"]} == \
                {tuple(c) for c in s["covered"]}
            for m in members(s):
                for cell in covers[m]:
                    assert {e["activity"] for e in s["evidence"]
                            if e["member"] == m and (e["need"], e["locality"]) == cell} \
                        == providers[cell][m]


def test_demo_evidence_names_the_members_services_and_activities(tmp_path):
    store = EmbeddedStore(tmp_path / "graph.json")
    load_paths(store, [demo_data_dir()])
    report = consortia(store, Opportunity(DEMO_NEEDS, DEMO_PLACES))
    top = report["suggestions"][0]
    assert top["evidence"]
    names = {m["id"]: m["name"] for m in top["members"]}
    for e in top["evidence"]:
        assert e["member_name"] == names[e["member"]]
        assert e["service_name"] and e["activity_name"]
    # Todmorden × loneliness (the planted gap) has no evidence: nobody covers it
    assert ("loneliness", "loc-todmorden") not in {(e["need"], e["locality"]) for e in top["evidence"]}


# ------------------------------------------------------------------ strategies


def strategy_world() -> dict:
    """a covers n1 everywhere; b covers n2 in l1 and l2; c covers n2 in l3 but has three ties
    to a (partners both ways, one shared network): with two members at most, widest cover
    takes a and b, best connected a and c."""
    return world(act("a", "n1", "l1 l2 l3"), act("b", "n2", "l1 l2"), act("c", "n2", "l3"),
                 rels=[("a", "PARTNERS_WITH", "c"), ("c", "PARTNERS_WITH", "a"),
                       ("a", "MEMBER_OF", "net1"), ("c", "MEMBER_OF", "net1")])


def test_each_suggestion_says_which_method_produced_it():
    report = suggest(snapshot(strategy_world()), Opportunity(("n1", "n2"), ("l1", "l2", "l3")),
                     max_size=2, alternatives=10)
    found = {frozenset(members(s)): [(x["kind"], (x["without"] or {}).get("name"))
                                      for x in s["strategies"]] for s in report["suggestions"]}
    assert found == {
        frozenset("ab"): [(WIDEST, None)],
        frozenset("ac"): [(CONNECTED, None), (WITHOUT, "Bravo")],
        frozenset("bc"): [(WITHOUT, "Alpha")],
    }
    text = {frozenset(members(s)): s["strategy"] for s in report["suggestions"]}
    assert text[frozenset("ab")].startswith("Widest cover: ")
    assert text[frozenset("ac")].startswith("Best connected: ")
    assert "also found by: Without Bravo" in text[frozenset("ac")]
    assert text[frozenset("bc")].startswith("Without Alpha: ") and "Alpha left out" in text[frozenset("bc")]


@pytest.mark.parametrize("seed", range(30))
def test_strategies_are_known_and_a_left_out_member_is_not_in_the_group(seed):
    data = random_world(seed)
    graph = snapshot(data)
    for opp, max_size in random_opportunities(data, seed):
        report = suggest(graph, opp, max_size=max_size, alternatives=20)
        widest = [s for s in report["suggestions"] if s["strategies"][0]["kind"] == WIDEST]
        assert len(widest) == bool(report["suggestions"])
        for s in report["suggestions"]:
            assert (s["strategies"] and s["strategy"] == s["strategies"][0]["text"]) or \
                s["strategy"].startswith(s["strategies"][0]["text"] + " (also found by: ")
            for x in s["strategies"]:
                assert x["kind"] in STRATEGIES
                if x["kind"] == WITHOUT:
                    assert x["without"]["id"] not in members(s)
                    assert x["without"]["id"] in members(widest[0])
                    assert x["without"]["name"] in x["text"]


# ------------------------------------------------------------------ ties


@pytest.mark.parametrize("seed", range(30))
def test_listed_ties_add_up_to_existing_ties_and_are_real_relationships(seed):
    data = random_world(seed)
    graph = snapshot(data)
    ties = tie_graph(graph)
    links = edges_of(data)
    for opp, max_size in random_opportunities(data, seed):
        for s in suggest(graph, opp, max_size=max_size, alternatives=20)["suggestions"]:
            assert len(s["ties"]) == s["existing_ties"]
            team = members(s)
            for a, b in combinations(team, 2):
                listed = [t for t in s["ties"] if {m["id"] for m in t["members"]} == {a, b}]
                assert len(listed) == tie_count(ties, a, b) == ties_from_tables(data, a, b)
            for t in s["ties"]:
                assert set(map(tuple, t["edges"])) <= links
                assert all(m["name"] in t["text"] for m in t["members"]
                           if t["kind"] != "REFERS_TO")
            network = ties_network(s)
            ids = {n["id"] for n in network["nodes"]}
            assert set(team) <= ids
            assert all(u in ids and v in ids for u, _rel, v in network["edges"])


def test_ties_say_in_words_how_members_are_joined():
    data = world(act("a", "n1", "l1"), act("b", "n1", "l2"),
                 rels=[("a", "PARTNERS_WITH", "b"), ("svc-a", "REFERS_TO", "svc-b"),
                       ("a", "MEMBER_OF", "calder-net"), ("b", "MEMBER_OF", "calder-net")])
    s = suggest(snapshot(data), Opportunity(("n1",), ("l1", "l2")))["suggestions"][0]
    assert sorted(t["text"] for t in s["ties"]) == [
        "Alpha and Bravo are both members of calder-net",
        "Alpha partners with Bravo",
        "Alpha service (Alpha) refers to Bravo service (Bravo)",
    ]
    network = ties_network(s)
    assert {n["id"] for n in network["nodes"]} == {"a", "b", "svc-a", "svc-b", "calder-net"}
    assert ("svc-a", "REFERS_TO", "svc-b") in network["edges"]


# ------------------------------------------------------------------ contacts


def test_contacts_name_the_partnership_lead_first_and_stay_out_of_the_report(tmp_path):
    store = EmbeddedStore(tmp_path / "graph.json")
    load_paths(store, [demo_data_dir()])
    report = consortia(store, Opportunity(DEMO_NEEDS, DEMO_PLACES))
    found = report_contacts(store, report)
    assert set(found) == {m["id"] for s in report["suggestions"] for m in s["members"]}
    people = [p for c in found.values() for p in c["people"]]
    assert any(p["role"] == "partnership lead" for p in people)
    for c in found.values():
        roles = [p["role"] for p in c["people"]]
        if "partnership lead" in roles:
            assert roles[0] == "partnership lead"
    text = json.dumps(report)
    for p in people:
        assert p["email"] and p["email"] not in text and p["phone"] not in text


def test_contacts_are_the_people_who_work_for_the_organisation():
    data = world(act("a", "n1", "l1"))
    data["people"] = [
        {"id": "p1", "name": "Vol Unteer", "role": "volunteer", "phone": "01 1"},
        {"id": "p2", "name": "Lee Lead", "role": "partnership_lead", "job_title": "Lead",
         "email": "lee@example.org"},
        {"id": "p3", "name": "Else Where", "role": "partnership_lead"},
    ]
    data["relationships"] += [{"source_id": p, "type": "WORKS_FOR", "target_id": "a"}
                              for p in ("p1", "p2")]
    found = contacts_of(snapshot(data), ["a"])["a"]
    assert [(p["name"], p["role"], p["job_title"]) for p in found["people"]] == [
        ("Lee Lead", "partnership lead", "Lead"), ("Vol Unteer", "volunteer", "")]
    assert found["people"][0]["email"] == "lee@example.org"


# ------------------------------------------------------------------ the command line, exports

from openpyxl import load_workbook  # noqa: E402

from pathways.reports.consortium_workbook import SHEETS, workbook_bytes  # noqa: E402
from tests.unit.test_consortia import DEMO_ARGS, run  # noqa: E402


@pytest.fixture
def demo_home(tmp_path, monkeypatch):
    monkeypatch.setenv("PATHWAYS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("PATHWAYS_STORE", "embedded")
    assert run("demo").exit_code == 0
    return tmp_path


def people_of_demo() -> list[dict]:
    import csv
    with (demo_data_dir() / "people.csv").open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def test_cli_json_csv_and_table_carry_strategy_and_evidence_and_no_contacts(demo_home):
    report = json.loads(run("consortia", *DEMO_ARGS, "--format", "json").stdout)
    top = report["suggestions"][0]
    assert top["strategy"].startswith("Widest cover") and top["evidence"]
    assert "contacts" not in report
    table = run("consortia", *DEMO_ARGS).stdout
    assert "found by: Widest cover" in table
    e = top["evidence"][0]
    assert e["activity_name"] in table and e["service_name"] in table
    csv_text = run("consortia", *DEMO_ARGS, "--format", "csv").stdout
    assert "strategy,evidence" in csv_text.splitlines()[0] and e["activity_name"] in csv_text
    emails = [p["email"] for p in people_of_demo() if p["email"]]
    for text in (table, csv_text, json.dumps(report)):
        assert not any(m in text for m in emails)


def test_cli_with_contacts_names_each_members_contact(demo_home):
    plain = json.loads(run("consortia", *DEMO_ARGS, "--format", "json").stdout)
    report = json.loads(run("consortia", *DEMO_ARGS, "--format", "json", "--with-contacts").stdout)
    members = {m["id"] for s in report["suggestions"] for m in s["members"]}
    assert set(report["contacts"]) == members
    assert {k: v for k, v in report.items() if k != "contacts"} == plain
    lead = next(p for c in report["contacts"].values() for p in c["people"])
    assert lead["email"] in run("consortia", *DEMO_ARGS, "--with-contacts").stdout
    assert lead["email"] in run("consortia", *DEMO_ARGS, "--with-contacts", "--format", "csv").stdout


def test_cli_xlsx_has_one_sheet_per_part_and_contacts_only_when_asked(demo_home):
    plain, full = demo_home / "brief.xlsx", demo_home / "full.xlsx"
    result = run("consortia", *DEMO_ARGS, "--format", "xlsx", "-o", plain)
    assert result.exit_code == 0, result.output
    assert run("consortia", *DEMO_ARGS, "--format", "xlsx", "-o", full, "--with-contacts").exit_code == 0
    assert load_workbook(plain).sheetnames == list(SHEETS[:4])
    book = load_workbook(full)
    assert book.sheetnames == list(SHEETS)
    report = json.loads(run("consortia", *DEMO_ARGS, "--format", "json").stdout)
    evidence = [[c.value for c in row] for row in book["Cells & evidence"].iter_rows(min_row=2)]
    top = report["suggestions"][0]
    listed = {(r[4], r[5], r[6]) for r in evidence if r[0] == 1 and r[3] == "covered"}
    assert listed == {(e["member_name"], e["service_name"], e["activity_name"]) for e in top["evidence"]}
    assert len([r for r in evidence if r[0] == 1 and r[3] == "not covered"]) == len(top["uncovered"])
    suggestions = [[c.value for c in row] for row in book["Suggestions"].iter_rows(min_row=2)]
    assert [r[2] for r in suggestions] == [s["strategy"] for s in report["suggestions"]]
    ties = [[c.value for c in row] for row in book["Ties"].iter_rows(min_row=2)]
    assert len(ties) == sum(s["existing_ties"] for s in report["suggestions"])
    contacts = " ".join(str(c.value) for row in book["Contacts"].iter_rows() for c in row)
    assert any(p["email"] in contacts for p in people_of_demo())
    assert not any(p["email"] in str(c.value) for p in people_of_demo()
                   for ws in load_workbook(plain) for row in ws.iter_rows() for c in row)


def test_cli_xlsx_without_a_file_is_refused_in_plain_words(demo_home):
    result = run("consortia", *DEMO_ARGS, "--format", "xlsx")
    assert result.exit_code == 1 and "give a file with -o" in str(result.exception)


def test_workbook_shows_a_formula_leading_name_as_text():
    data = world(act("a", "n1", "l1"), act("b", "n1", "l2"), rels=[("a", "PARTNERS_WITH", "b")])
    data["organisations"][0]["name"] = '=HYPERLINK("http://evil.example","x")'
    data["activities"][0]["name"] = "+1-2"
    report = suggest(snapshot(data), Opportunity(("n1",), ("l1", "l2")))
    book = load_workbook(io.BytesIO(workbook_bytes(report)))
    cells = [c for ws in book for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    risky = [c for c in cells if "HYPERLINK" in c.value or "+1-2" in c.value]
    assert {ws.title for ws in book for row in ws.iter_rows() for c in row if c in risky} >= \
        {"Suggestions", "Cells & evidence", "Ties"}
    for c in risky:
        assert c.data_type == "s" and not c.value.startswith(("=", "+", "-", "@"))
        assert c.value.lstrip("'").startswith(("=HYPERLINK", "+1-2")) or "HYPERLINK" in c.value
