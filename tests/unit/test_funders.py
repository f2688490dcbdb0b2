"""The funding landscape, checked against an independent count straight from the Living
Database rows (the demo CSVs, and seeded random graphs with funders), and ``pathways funders``
in each format."""

from __future__ import annotations

import csv
import json
import random
from collections import deque

import pytest
from click.testing import CliRunner

from pathways.analysis.funders import FunderQuery, funding_landscape
from pathways.cli import cli
from pathways.errors import PathwaysError
from pathways.loading import load_paths
from pathways.store.embedded import EmbeddedStore
from tests.conftest import load_data
from tests.unit.test_gaps import random_tables

FOLLOW = {"REFERS_TO", "PROVIDES", "OFFERS"}


def demo_tables(folder) -> dict[str, list[dict]]:
    tables = {}
    for path in sorted(folder.glob("*.csv")):
        with path.open(encoding="utf-8", newline="") as handle:
            tables[path.stem] = list(csv.DictReader(handle))
    return tables


def expected(tables: dict[str, list[dict]], max_hops: int) -> dict:
    """The landscape counted from the rows themselves: no store, no snapshot, no analysis code."""
    rels = tables.get("relationships", [])
    out: dict[str, list[str]] = {}
    by_type: dict[str, list[tuple[str, str]]] = {}
    for r in rels:
        by_type.setdefault(r["type"], []).append((r["source_id"], r["target_id"]))
        if r["type"] in FOLLOW:
            out.setdefault(r["source_id"], []).append(r["target_id"])
    kind = {row["id"]: table for table, rows in tables.items() if table != "relationships"
            for row in rows}
    whole = {a["id"] for a in tables.get("activities", [])
             if a.get("serves_whole_area", "").strip().lower() in {"yes", "y", "true", "1"}}
    places = {p["id"] for p in tables.get("localities", [])}
    workers = [p["id"] for p in tables.get("people", []) if p.get("role") == "link_worker"]

    def within(start: str) -> set[str]:
        seen, queue = {start: 0}, deque([start])
        while queue:
            node = queue.popleft()
            if seen[node] < max_hops:
                for nxt in out.get(node, ()):
                    if nxt not in seen:
                        seen[nxt] = seen[node] + 1
                        queue.append(nxt)
        return set(seen)

    reach = {w: within(w) for w in workers}

    def cells(activity: str) -> set[tuple[str, str]]:
        needs = {t for s, t in by_type.get("ADDRESSES", []) if s == activity}
        where = places if activity in whole else \
            {t for s, t in by_type.get("LOCATED_IN", []) if s == activity}
        return {(n, p) for n in needs for p in where}

    funders: dict[str, dict] = {}
    for funder in (f["id"] for f in tables.get("funders", [])):
        direct = {s for s, t in by_type.get("FUNDED_BY", []) if t == funder}
        orgs = {n for n in direct if kind[n] == "organisations"}
        services = {n for n in direct if kind[n] == "services"} | {
            t for s, t in by_type.get("PROVIDES", []) if s in orgs}
        acts = {n for n in direct if kind[n] == "activities"} | {
            t for s, t in by_type.get("OFFERS", []) if s in services}
        covered = set().union(*(cells(a) for a in acts)) if acts else set()
        reached = {(n, p) for a in acts for n, p in cells(a)
                   if any(a in reach[w] for w, loc in by_type.get("COVERS", [])
                          if loc == p and w in reach)}
        funders[funder] = {
            "organisations": orgs, "services": services, "activities": acts,
            "link_workers": {w for w in workers if reach[w] & acts},
            "options": sum(len(reach[w] & acts) for w in workers),
            "cells": covered, "reached": reached,
        }
    funded: set[tuple[str, str]] = set()
    for row in funders.values():
        funded |= row["cells"]
    every = {(n["id"], p) for n in tables.get("needs", []) for p in places}
    return {"funders": funders, "uncovered": every - funded}


def compare(report, counted) -> None:
    def ids(rows):
        return {r["id"] for r in rows}

    def pairs(rows):
        return {(c["need"], c["locality"]) for c in rows}

    assert {f["id"] for f in report["funders"]} == set(counted["funders"])
    for row in report["funders"]:
        want = counted["funders"][row["id"]]
        assert ids(row["organisations"]) == want["organisations"], row["id"]
        assert ids(row["services"]) == want["services"], row["id"]
        assert ids(row["activities"]) == want["activities"], row["id"]
        assert ids(row["link_workers"]) == want["link_workers"], row["id"]
        assert row["options"] == want["options"], row["id"]
        assert pairs(row["cells"]) == want["cells"], row["id"]
        assert pairs(row["reached_cells"]) == want["reached"], row["id"]
    assert pairs(report["uncovered"]) == counted["uncovered"]


@pytest.mark.parametrize("max_hops", [1, 2, 4])
def test_demo_funders_reach_what_an_independent_count_of_the_csvs_says(tmp_path, demo_dir,
                                                                      max_hops):
    store = EmbeddedStore(tmp_path / "graph.json")
    load_paths(store, [demo_dir])
    report = funding_landscape(store, FunderQuery(max_hops=max_hops))
    counted = expected(demo_tables(demo_dir), max_hops)
    compare(report, counted)
    assert len(report["funders"]) == 4
    if max_hops == 4:  # the demo is built so that funded provision reaches link workers
        assert all(f["options"] > 0 for f in report["funders"])
        assert report["uncovered"], "the demo has needs no funded provision covers"


def test_network_funding_names_the_members_but_does_not_pay_for_their_services(tmp_path,
                                                                               demo_dir):
    store = EmbeddedStore(tmp_path / "graph.json")
    load_paths(store, [demo_dir])
    nasp = next(f for f in funding_landscape(store)["funders"] if f["id"] == "fund-nasp")
    assert [n["id"] for n in nasp["networks"]] == ["net-creativity-wellbeing"]
    members = {m["id"] for m in nasp["network_members"]}
    assert "org-swypft" in members
    assert "org-swypft" not in {o["id"] for o in nasp["organisations"]}


def with_funders(seed: int) -> dict[str, list[dict]]:
    data = random_tables(seed)
    rng = random.Random(seed + 1000)
    funders = [f"fund{i}" for i in range(rng.randint(1, 3))]
    data["funders"] = [{"id": f, "name": f"Funder {f}"} for f in funders]
    fundable = [row["id"] for table in ("organisations", "services", "activities")
                for row in data[table]]
    for f in funders:
        for node in rng.sample(fundable, min(len(fundable), rng.randint(0, 4))):
            data["relationships"].append({"source_id": node, "type": "FUNDED_BY", "target_id": f})
    return data


def test_random_graphs_match_the_independent_count(tmp_path):
    reaching = 0
    for seed in range(25):
        store = EmbeddedStore(tmp_path / f"graph-{seed}.json")
        data = with_funders(seed)
        load_data(store, data)
        for max_hops in (1, 3):
            report = funding_landscape(store, FunderQuery(max_hops=max_hops))
            compare(report, expected(data, max_hops))
            reaching += sum(f["options"] > 0 for f in report["funders"])
    assert reaching > 10  # the random graphs exercise funded provision that is reached


def test_filters_narrow_the_cells_and_bad_hops_are_refused(tmp_path, demo_dir):
    store = EmbeddedStore(tmp_path / "graph.json")
    load_paths(store, [demo_dir])
    report = funding_landscape(store, FunderQuery(("loc-todmorden",), ("loneliness",)))
    for row in report["funders"]:
        assert {(c["need"], c["locality"]) for c in row["cells"]} <= {("loneliness",
                                                                      "loc-todmorden")}
    assert {(c["need"], c["locality"]) for c in report["uncovered"]} <= {
        ("loneliness", "loc-todmorden")}
    with pytest.raises(PathwaysError, match="max hops"):
        funding_landscape(store, FunderQuery(max_hops=0))


# ------------------------------------------------------------------ the command


def run(home, *args):
    return CliRunner().invoke(cli, ["--store", "embedded", *args],
                              env={"PATHWAYS_HOME": str(home)}, catch_exceptions=False)


@pytest.fixture
def demo_home(tmp_path):
    assert run(tmp_path, "demo").exit_code == 0
    return tmp_path


def test_cli_formats_agree_with_the_analysis(demo_home):
    as_json = json.loads(run(demo_home, "funders", "--format", "json").stdout)
    store = EmbeddedStore(demo_home / "graph.json")
    assert as_json == json.loads(json.dumps(funding_landscape(store)))
    table = run(demo_home, "funders").stdout
    for funder in as_json["funders"]:
        assert funder["name"] in table
    assert "no funded provision covers" in table
    rows = list(csv.DictReader(run(demo_home, "funders", "--format", "csv").stdout.splitlines()))
    assert [r["funder"] for r in rows] == [f["name"] for f in as_json["funders"]]
    assert [int(r["options"]) for r in rows] == [f["options"] for f in as_json["funders"]]
    gaps = list(csv.DictReader(run(demo_home, "funders", "--uncovered", "--format",
                                   "csv").stdout.splitlines()))
    assert len(gaps) == len(as_json["uncovered"]) > 0


def test_cli_csv_neutralises_formula_names_and_reports_unknown_needs(tmp_path):
    home = tmp_path
    store = EmbeddedStore(home / "graph.json")
    load_data(store, {
        "funders": [{"id": "f1", "name": "=HYPERLINK(\"http://x\")"}],
        "organisations": [{"id": "o1", "name": "@SUM(1)", "kind": "other"}],
        "relationships": [{"source_id": "o1", "type": "FUNDED_BY", "target_id": "f1"}],
    })
    text = run(home, "funders", "--format", "csv").stdout
    row = next(csv.DictReader(text.splitlines()))
    assert row["funder"].startswith("'=")
    assert row["organisation_names"].startswith("'@")
    result = CliRunner().invoke(cli, ["--store", "embedded", "funders", "--need", "no such"],
                                env={"PATHWAYS_HOME": str(home)})
    assert result.exit_code != 0
    assert "no such" in (result.output + str(result.exception))
