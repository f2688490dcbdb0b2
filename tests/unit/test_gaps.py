"""The gap report on the embedded store: the demo's planted gaps, each figure's meaning on
small hand-made graphs, single points of failure against an independent oracle on seeded
random graphs, the per-version cache, and the ``pathways gaps`` command."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import random
import re
from collections import deque

import pytest
from click.testing import CliRunner

from pathways.analysis.gaps import GapQuery, gap_report
from pathways.cli import cli, main
from pathways.errors import PathwaysError, UnknownIdError
from pathways.loading import load_paths
from pathways.model import NodeKind
from pathways.store.embedded import EmbeddedStore
from tests.conftest import load_data

AS_OF = dt.date(2026, 11, 29)  # the date the demo's review dates are judged against
TRUST = "org-halifax-opportunities-trust"
SHED_ACTS = {"act-makers-shed-woodwork-sessions", "act-makers-shed-repair-cafe"}
KETTLE_ACTS = {"act-kettle-on-carers-coffee", "act-kettle-on-carers-online-chat",
               "act-kettle-on-carers-pamper-afternoon"}


# ------------------------------------------------------------------ an independent oracle

FOLLOW = {"REFERS_TO", "PROVIDES", "OFFERS"}


def pathway_edges(graph) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for u, v, key in graph.edges(keys=True):
        out.setdefault(u, []).extend([v] if str(key.value) in FOLLOW else [])
    return out



def depths(out: dict[str, list[str]], start: str, limit: int) -> dict[str, int]:
    """Breadth-first: hops to every node at most ``limit`` hops from ``start``."""
    depth = {start: 0}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for nxt in out.get(node, ()) if depth[node] < limit else ():
            if nxt not in depth:
                depth[nxt] = depth[node] + 1
                queue.append(nxt)
    return depth


def link_workers(graph) -> list[str]:
    return [n for n, a in graph.nodes(data=True) if a["props"].get("role") == "link_worker"]

def reachable_pairs(graph, max_hops: int) -> set[tuple[str, str]]:
    """(link worker, activity) pairs joined by a directed pathway of at most max_hops."""
    out = pathway_edges(graph)
    return {(w, n) for w in link_workers(graph) for n in depths(out, w, max_hops)
            if graph.nodes[n]["kind"] == NodeKind.ACTIVITY}


def on_some_route(graph, node: str, max_hops: int) -> bool:
    """Whether some link worker reaches some activity through ``node`` within max_hops."""
    out = pathway_edges(graph)
    for worker in link_workers(graph):
        hops = depths(out, worker, max_hops).get(node)
        if hops is not None and node != worker and any(
                graph.nodes[n]["kind"] == NodeKind.ACTIVITY
                for n in depths(out, node, max_hops - hops) if n != node):
            return True
    return False


def assert_failure_points_exact(graph, report: dict) -> tuple[int, int]:
    """Delete every node in turn; the loss must be pairs_lost for those reported, else 0.
    Returns (nodes reported, nodes on a route that cost nothing to lose)."""
    hops = report["max_hops"]
    reported = {r["id"]: r["pairs_lost"] for r in report["single_points_of_failure"]}
    before = reachable_pairs(graph, hops)
    for node in list(graph.nodes):
        without = graph.copy()
        without.remove_node(node)
        lost = {(w, a) for w, a in before if node not in (w, a)} - reachable_pairs(without, hops)
        assert len(lost) == reported.get(node, 0), (node, hops, sorted(lost))
    spare = [n for n, k in graph.nodes(data="kind")
             if k in (NodeKind.ORGANISATION, NodeKind.SERVICE) and n not in reported
             and on_some_route(graph, n, hops)]
    return len(reported), len(spare)


# ------------------------------------------------------------------ the demo data


@pytest.fixture
def demo(embedded_store, demo_dir):
    load_paths(embedded_store, [demo_dir])
    return embedded_store


def test_todmorden_is_the_only_locality_without_loneliness_provision(demo):
    lonely = {c["locality"]: (c["existing"], c["reachable"])
              for c in gap_report(demo, GapQuery(as_of=AS_OF))["coverage"] if c["need"] == "loneliness"}
    assert len(lonely) == 7 and lonely["loc-todmorden"] == (0, 0)
    assert [place for place, (existing, _) in lonely.items() if existing == 0] == ["loc-todmorden"]


def test_shed_has_no_route_in_and_kettle_on_needs_five_hops(demo):
    report = gap_report(demo, GapQuery(max_hops=4, as_of=AS_OF))
    assert report["no_inbound_route"] == [
        {"id": "org-valley-makers-shed", "name": "Valley Makers Shed", "services": 1}]
    at4 = {r["id"]: r for r in report["unreached"]}
    assert set(at4) == SHED_ACTS | KETTLE_ACTS
    assert all(at4[a]["needs_hops"] is None and at4[a]["provider"] == "Valley Makers Shed"
               for a in SHED_ACTS)
    assert all(at4[a]["needs_hops"] == 5 and at4[a]["provider"] == "Kettle On Carers' Circle"
               for a in KETTLE_ACTS)
    at5 = {r["id"]: r["needs_hops"] for r in gap_report(demo, GapQuery(max_hops=5, as_of=AS_OF))["unreached"]}
    assert at5 == dict.fromkeys(SHED_ACTS)


def test_halifax_opportunities_trust_is_the_biggest_single_point_of_failure(demo):
    report = gap_report(demo, GapQuery(as_of=AS_OF))
    ranked = report["single_points_of_failure"]
    assert (ranked[0]["id"], ranked[0]["kind"], ranked[0]["pairs_lost"]) == (TRUST, "Organisation", 187)
    assert (ranked[1]["id"], ranked[1]["pairs_lost"]) == ("svc-hot-staying-well", 73)
    orgs = [r for r in ranked if r["kind"] == "Organisation"]
    assert (orgs[1]["id"], orgs[1]["pairs_lost"]) == ("org-calderdale-council", 32)
    assert [r["pairs_lost"] for r in ranked] == sorted((r["pairs_lost"] for r in ranked), reverse=True)
    assert_failure_points_exact(demo.snapshot(), report)


def test_robin_is_the_only_thin_link_worker_and_elland_has_one_link_worker(demo):
    thin = gap_report(demo, GapQuery(as_of=AS_OF))["thin_options"]
    robin = [w for w in thin["link_workers"] if w["thin"]]
    assert [(w["id"], w["activities"], w["needs"]) for w in robin] == [
        ("person-lw-robin-demo", 10, ["long_term_conditions", "physical_activity"])]
    elland = {p["id"]: p for p in thin["localities"]}["loc-elland"]
    assert (elland["link_workers"], elland["link_worker_ids"]) == (1, ["person-lw-casey-placeholder"])


def test_data_gaps_for_valley_striders_match_the_csv_rows(demo):
    # By hand from services.csv / activities.csv: the service has an e-mail but was reviewed
    # 2025-05-17 (stale); the canal walk is complete but reviewed 2025-05-17 (stale); the
    # health walk is complete and reviewed 2026-03-10; the hill walk has no accessibility
    # and no reviewed_at.
    rows = {r["id"]: r for r in gap_report(demo, GapQuery(as_of=AS_OF))["data_gaps"]}
    striders = rows["org-valley-striders"]
    assert {k: striders[k] for k in ("no_contact", "no_schedule", "no_accessibility", "not_reviewed")} \
        == {"no_contact": 0, "no_schedule": 0, "no_accessibility": 1, "not_reviewed": 3}
    assert {i["id"]: i["missing"] for i in striders["items"]} == {
        "svc-valley-striders-walks": ["not_reviewed"],
        "act-striders-todmorden-canal-walk": ["not_reviewed"],
        "act-striders-hebden-bridge-hill-walk": ["no_accessibility", "not_reviewed"],
    }


# ------------------------------------------------------------------ small hand-made graphs


def node(table, node_id, **props):
    extra = {"people": {"role": "link_worker"}, "organisations": {"kind": "other"}}.get(table, {})
    return table, {"id": node_id, "name": props.pop("name", node_id.title()), **extra, **props}


def graph(*nodes, rels=()):
    data: dict[str, list[dict]] = {}
    for table, row in nodes:
        data.setdefault(table, []).append(row)
    data["relationships"] = [{"source_id": s, "type": t, "target_id": d} for s, t, d in rels]
    return data


COVERAGE = graph(
    node("localities", "loc-a"), node("localities", "loc-b"), node("needs", "lonely"),
    *[node("people", w) for w in ("lw-a", "lw-b", "lw-c")], node("people", "lead", role="partnership_lead"),
    node("organisations", "org"), node("services", "svc"),
    node("activities", "act-a"), node("activities", "act-b"),
    node("activities", "act-online", serves_whole_area="yes"),
    rels=[("lw-a", "COVERS", "loc-a"), ("lw-b", "COVERS", "loc-b"), ("lw-c", "COVERS", "loc-b"),
          ("lead", "COVERS", "loc-b"),
          ("lw-a", "REFERS_TO", "org"), ("lead", "REFERS_TO", "svc"),
          ("org", "PROVIDES", "svc"), ("svc", "OFFERS", "act-a"), ("svc", "OFFERS", "act-b"),
          ("svc", "OFFERS", "act-online"), ("act-a", "LOCATED_IN", "loc-a"),
          ("act-b", "LOCATED_IN", "loc-b"), ("act-online", "LOCATED_IN", "loc-b")]
    + [(a, "ADDRESSES", "lonely") for a in ("act-a", "act-b", "act-online")])


def cells(store, max_hops):
    report = gap_report(store, GapQuery(max_hops=max_hops, as_of=AS_OF))
    return {c["locality"]: (c["existing"], c["reachable"], c["reachable_activities"])
            for c in report["coverage"]}


def test_coverage_counts_local_and_whole_area_activities_reached_by_covering_link_workers(embedded_store):
    load_data(embedded_store, COVERAGE)
    got = cells(embedded_store, 3)
    # loc-a: its own activity plus the whole-area one, both reached by lw-a (3 hops).
    assert got["loc-a"] == (2, 2, ["act-a", "act-online"])
    # loc-b: lw-a reaches them but does not cover loc-b; the lead who refers is no link worker.
    assert got["loc-b"] == (2, 0, [])
    # one hop short of lw-a's route: provision exists, no one reaches it
    assert cells(embedded_store, 2)["loc-a"] == (2, 0, [])


def test_pairs_lost_is_zero_where_a_second_route_exists_and_exact_on_a_chain(embedded_store):
    load_data(embedded_store, graph(
        *[node("people", w) for w in ("lw1", "lw2")],
        *[node("organisations", o) for o in ("hub", "left", "right", "detour", "detour2")],
        *[node("services", s) for s in ("svc-d", "svc-c")],
        *[node("activities", a) for a in ("diamond-act", "chain-1", "chain-2")],
        rels=[("lw1", "REFERS_TO", "left"), ("lw1", "REFERS_TO", "right"), ("left", "PROVIDES", "svc-d"),
              ("right", "PROVIDES", "svc-d"), ("svc-d", "OFFERS", "diamond-act"),
              ("lw1", "REFERS_TO", "hub"), ("lw2", "REFERS_TO", "hub"), ("hub", "PROVIDES", "svc-c"),
              ("svc-c", "OFFERS", "chain-1"), ("svc-c", "OFFERS", "chain-2"),
              # a longer way round the hub for lw2: detour -> detour2 -> svc-c (4 hops)
              ("lw2", "REFERS_TO", "detour"), ("detour", "REFERS_TO", "detour2"),
              ("detour2", "REFERS_TO", "svc-c")]))
    def lost(hops: int) -> dict[str, int]:
        report = gap_report(embedded_store, GapQuery(max_hops=hops, as_of=AS_OF))
        return {r["id"]: r["pairs_lost"] for r in report["single_points_of_failure"]}

    # the diamond's two organisations cost nothing; its service cuts lw1 off from one activity;
    # the hub cuts lw1 off from 2 activities, lw2 has the detour; svc-c is on every chain route.
    assert lost(4) == {"svc-d": 1, "hub": 2, "svc-c": 4}
    # within 3 hops the detour is too long, so losing the hub cuts lw2 off as well
    assert lost(3) == {"svc-d": 1, "hub": 4, "svc-c": 4}


DATED = graph(
    node("organisations", "org"), node("services", "svc-silent", reviewed_at="2026-10-01"),
    node("services", "svc-phone", phone="01422 000000", reviewed_at="2026-10-01"),
    *[node("activities", a, schedule="Mondays", accessibility="step_free", reviewed_at=when)
      for a, when in [("via-phone-svc", "2025-11-29"), ("via-silent-svc", "2025-11-28"),
                      ("never-reviewed", "")]],
    rels=[("org", "PROVIDES", "svc-phone"), ("org", "PROVIDES", "svc-silent"),
          ("svc-phone", "OFFERS", "via-phone-svc"), ("svc-phone", "OFFERS", "never-reviewed"),
          ("svc-silent", "OFFERS", "via-silent-svc")])


def test_data_gaps_count_service_contacts_and_reviews_older_than_a_year(embedded_store):
    load_data(embedded_store, DATED)
    [row] = gap_report(embedded_store, GapQuery(as_of=AS_OF))["data_gaps"]
    # as of 2026-11-29 a review on 2025-11-29 is exactly 365 days old (fine); 2025-11-28 is not
    # (these bare activities also have no locality and no need: counted, and listed)
    assert {i["id"]: i["missing"] for i in row["items"]} == {"svc-silent": ["no_contact"],
        "via-silent-svc": ["no_contact", "no_location", "no_need", "not_reviewed"],
        "never-reviewed": ["no_location", "no_need", "not_reviewed"],
        "via-phone-svc": ["no_location", "no_need"]}
    assert (row["no_contact"], row["not_reviewed"], row["no_schedule"], row["no_accessibility"]) == (2, 2, 0, 0)


@pytest.mark.parametrize("query, error, message", [
    (GapQuery(localities=("loc-atlantis",)), UnknownIdError, "no locality .* 'loc-atlantis'"),
    (GapQuery(localities=("lonely",)), UnknownIdError, "no locality .* 'lonely'"),  # a need
    (GapQuery(needs=("boredom",)), UnknownIdError, "no need .* 'boredom'"),
    (GapQuery(max_hops=0), PathwaysError, "max hops must be between 1 and 10, not 0"),
    (GapQuery(max_hops=11), PathwaysError, "max hops must be between 1 and 10, not 11"),
])
def test_unknown_ids_and_hop_limits_out_of_range_are_refused(embedded_store, query, error, message):
    load_data(embedded_store, COVERAGE)
    with pytest.raises(error, match=message):
        gap_report(embedded_store, query)


def one_more_lonely_activity(i: int = 2) -> dict:
    return graph(node("activities", f"act-a{i}"),
                 rels=[(f"act-a{i}", "ADDRESSES", "lonely"), (f"act-a{i}", "LOCATED_IN", "loc-a")])


@pytest.mark.parametrize("in_file", [True, False], ids=["file", "memory-only"])
def test_report_is_cached_per_version_and_recomputed_after_a_write(tmp_path, in_file):
    store = EmbeddedStore(tmp_path / "graph.json" if in_file else None)
    load_data(store, COVERAGE)
    query = GapQuery(needs=("lonely",), localities=("loc-a",), as_of=AS_OF)
    first = gap_report(store, query)
    assert gap_report(store, query) is first
    load_data(store, one_more_lonely_activity())
    after = gap_report(store, query)
    assert after is not first
    assert (first["coverage"][0]["existing"], after["coverage"][0]["existing"]) == (2, 3)


def test_a_newly_opened_store_gets_its_own_report_not_a_dropped_stores(tmp_path):
    query = GapQuery(needs=("lonely",), localities=("loc-a",), as_of=AS_OF)
    existing = []
    for extra in range(12):  # a script opening the store afresh for each report does this
        store = EmbeddedStore(tmp_path / f"graph-{extra}.json")
        more = [one_more_lonely_activity(10 + i) for i in range(extra)]
        load_data(store, {t: rows + [r for m in more for r in m.get(t, [])]
                          for t, rows in COVERAGE.items()})  # one write each
        existing.append(gap_report(store, query)["coverage"][0]["existing"])
        del store
    assert existing == list(range(2, 14))


def test_coverage_is_the_same_whatever_the_order_of_the_rows(tmp_path):
    stores = [EmbeddedStore(tmp_path / f"{order}.json") for order in (1, -1)]
    for store, order in zip(stores, (1, -1), strict=True):
        load_data(store, dict(COVERAGE, relationships=COVERAGE["relationships"][::order]))
    assert gap_report(stores[0], GapQuery(as_of=AS_OF)) == gap_report(stores[1], GapQuery(as_of=AS_OF))


# ------------------------------------------------------------------ seeded random graphs

NAMES = ("Alpha", "Beta", "Café", "Same", "Same")
DATES = ("", "2023-05-01", "2025-11-28", "2025-11-29", "2026-09-30")


def random_tables(seed: int) -> dict[str, list[dict]]:
    """A reproducible referral network: link workers and others covering localities,
    organisations, services and activities with random data quality."""
    rng = random.Random(seed)
    def ids(prefix: str, low: int, high: int) -> list[str]:
        return [f"{prefix}{i}" for i in range(rng.randint(low, high))]

    def pick(pool: list[str], low: int, high: int) -> list[str]:
        return rng.sample(pool, min(len(pool), rng.randint(low, high)))

    def name() -> str:
        return rng.choice(NAMES)

    places, needs = ids("loc", 1, 3), ids("need", 1, 4)
    workers, others = ids("lw", 1, 4), ids("p", 0, 2)
    orgs, services, acts = ids("org", 1, 5), ids("svc", 1, 7), ids("act", 2, 10)
    data = {
        **{table: [{"id": i, "name": name()} for i in pool]
           for table, pool in (("localities", places), ("needs", needs))},
        "people": [{"id": i, "name": name(), "role": "link_worker"} for i in workers]
        + [{"id": i, "name": name(), "role": rng.choice(("practitioner", "volunteer"))} for i in others],
        "organisations": [{"id": i, "name": name(), "kind": "other"} for i in orgs],
        "services": [{"id": i, "name": name(), "phone": rng.choice(("", "01422 000000")),
                      "referral_info": rng.choice(("", "", "ring")), "reviewed_at": rng.choice(DATES)}
                     for i in services],
        "activities": [{"id": i, "name": name(), "schedule": rng.choice(("", "Mondays")),
                        "accessibility": rng.choice(("", "step_free", "online;quiet_space")),
                        "serves_whole_area": rng.choice(("yes", "no", "no", "")),
                        "phone": rng.choice(("", "", "01422 000001")), "reviewed_at": rng.choice(DATES)}
                       for i in acts],
    }
    rels: list[dict] = []

    def add(source: str, rel: str, targets: list[str]) -> None:
        rels.extend({"source_id": source, "type": rel, "target_id": t} for t in targets)

    for person in workers + others:  # every link worker refers somewhere
        add(person, "COVERS", pick(places, 0, 2))
        add(person, "REFERS_TO", pick(orgs + services, 1 if person in workers else 0, 3))
    for org in orgs:
        add(org, "REFERS_TO", pick([n for n in orgs + services if n != org], 0, 3))
        add(org, "PROVIDES", pick(services, 0, 2))
    for service in services:
        add(service, "REFERS_TO", pick([n for n in orgs + services if n != service], 0, 2))
        add(service, "OFFERS", pick(acts, 0, 3))
    for act in acts:
        add(act, "ADDRESSES", pick(needs, 0, 2))
        add(act, "LOCATED_IN", pick(places, 0, 1))
    data["relationships"] = rels
    return data


def test_removing_a_reported_failure_point_loses_exactly_pairs_lost(tmp_path):
    reported = spare = 0
    for seed in range(30):
        store = EmbeddedStore(tmp_path / f"graph-{seed}.json")
        load_data(store, random_tables(seed))
        for max_hops in (2, 3, 4):
            report = gap_report(store, GapQuery(max_hops=max_hops, as_of=AS_OF))
            found = assert_failure_points_exact(store.snapshot(), report)
            reported, spare = reported + found[0], spare + found[1]
    # the graphs exercise both cases: sole routes, and routes with an alternative
    assert reported >= 100 and spare >= 50, (reported, spare)


# ------------------------------------------------------------------ the `gaps` command


@pytest.fixture
def cli_demo(tmp_path, monkeypatch):
    monkeypatch.setenv("PATHWAYS_HOME", str(tmp_path))
    monkeypatch.setenv("PATHWAYS_STORE", "embedded")
    assert CliRunner().invoke(cli, ["demo"]).exit_code == 0


def gaps(*args):
    result = CliRunner().invoke(cli, ["gaps", "--as-of", "2026-11-29", *map(str, args)])
    assert result.exit_code == 0, result.output
    return result


def test_gaps_json_has_every_section_in_the_documented_shape(cli_demo):
    report = json.loads(gaps("--format", "json").stdout)
    assert {"coverage", "unreached", "single_points_of_failure", "thin_options", "data_gaps"} <= set(report)
    coverage = report["coverage"]
    assert len(coverage) == 7 * 7 == len({(c["need"], c["locality"]) for c in coverage})
    assert all({"need", "locality", "reachable", "existing"} <= set(c) for c in coverage)
    assert {c["locality"] for c in coverage if c["need"] == "loneliness" and c["existing"] == 0} \
        == {"loc-todmorden"}
    assert {r["id"]: r["provider"] for r in report["unreached"]}["act-makers-shed-repair-cafe"] \
        == "Valley Makers Shed"
    spof = report["single_points_of_failure"]
    assert all({"id", "name", "kind", "pairs_lost"} <= set(r) for r in spof)
    assert spof[0]["id"] == TRUST and spof[0]["name"] == "Halifax Opportunities Trust"
    assert [r["pairs_lost"] for r in spof] == sorted((r["pairs_lost"] for r in spof), reverse=True)
    assert "org-valley-striders" in {r["id"] for r in report["data_gaps"]}
    assert "loc-elland" in {p["id"] for p in report["thin_options"]["localities"]}


def test_gaps_csv_file_has_a_bom_and_the_figures(cli_demo, tmp_path):
    gaps("--format", "csv", "-o", tmp_path / "gaps.csv")
    raw = (tmp_path / "gaps.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    value = {(r["section"], r["id"], r["measure"]): r["value"] for r in rows}
    assert value["single_points_of_failure", TRUST, "pairs_lost"] == "187"
    assert value["coverage", "loneliness@loc-todmorden", "existing"] == "0"


def test_gaps_html_file_is_self_contained(cli_demo, tmp_path):
    gaps("--format", "html", "-o", tmp_path / "gaps.html")
    page = (tmp_path / "gaps.html").read_text(encoding="utf-8")
    assert page.lower().startswith("<!doctype html>") and page.rstrip().endswith("</html>")
    assert "<script" not in page.lower()
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", page, re.IGNORECASE)
    assert "Todmorden" in page and "Halifax Opportunities Trust" in page and "Valley Makers Shed" in page


def test_gaps_for_one_locality_and_need_reports_only_that_cell(cli_demo):
    report = json.loads(gaps("--locality", "loc-todmorden", "--need", "loneliness",
                             "--format", "json").stdout)
    assert [(c["need"], c["locality"], c["existing"], c["reachable"]) for c in report["coverage"]] \
        == [("loneliness", "loc-todmorden", 0, 0)]


def test_gaps_with_an_unknown_locality_exits_1_naming_it(cli_demo, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["gaps", "--locality", "loc-atlantis"])
    out, err = capsys.readouterr()
    assert exit_.value.code == 1
    assert "Error: no locality" in err and "'loc-atlantis'" in err
    assert "loc-todmorden" in err  # says which localities exist
    assert "Traceback" not in err and out == ""
