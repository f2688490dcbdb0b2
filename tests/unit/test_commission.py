"""From a red cell to a commission (issue 19 item 3): providers_elsewhere on the demo and on
small planted graphs, the same answers on both stores, and the CLI's gaps rows."""

from __future__ import annotations

import json

import pytest

from pathways.analysis.commission import providers_elsewhere, red_cells
from pathways.analysis.consortia import Opportunity, consortia
from pathways.analysis.gaps import GapQuery, gap_report
from pathways.errors import UnknownIdError
from pathways.loading import demo_data_dir, load_paths
from pathways.model import NodeKind
from pathways.store.embedded import EmbeddedStore
from tests.conftest import first_difference, load_data


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory):
    store = EmbeddedStore(tmp_path_factory.mktemp("demo") / "graph.json")
    load_paths(store, [demo_data_dir()])
    return store


def test_todmorden_loneliness_is_red_and_hebden_bridge_is_its_neighbour(demo_store):
    found = providers_elsewhere(demo_store, "loneliness", "loc-todmorden")
    assert found["provided_here"] == 0
    near = {n["id"]: n for n in found["neighbours"]}
    # Todmorden's two link workers also cover Hebden Bridge (docs/demo-data.md)
    assert "loc-hebden-bridge" in near and len(near["loc-hebden-bridge"]["shared_by"]) == 2
    # the Consortia page gets the cell and the neighbouring localities that have providers
    assert found["consortia_query"]["needs"] == ["loneliness"]
    assert found["consortia_query"]["places"][0] == "loc-todmorden"
    assert "loc-hebden-bridge" in found["consortia_query"]["places"]


def test_providers_are_those_the_consortia_analysis_finds_in_other_localities(demo_store):
    """Every organisation covering loneliness in some other locality (the consortia analysis'
    own cells, minus whole-area provision) is listed, neighbouring ones first."""
    places = [n["id"] for n in demo_store.list_nodes(NodeKind.LOCALITY)]
    others = [p for p in places if p != "loc-todmorden"]
    report = consortia(demo_store, Opportunity(("loneliness",), tuple(others)))
    expected = {org["id"] for cell in report["cells"] for org in cell["organisations"]}
    found = providers_elsewhere(demo_store, "loneliness", "loc-todmorden")
    got = [p["id"] for p in found["providers"]]
    assert set(got) == expected
    flags = [p["neighbouring"] for p in found["providers"]]
    assert flags == sorted(flags, reverse=True) and flags[0]
    near = {n["name"] for n in found["neighbours"]}
    for p in found["providers"]:
        assert p["neighbouring"] == bool(near & set(p["localities"]))


def test_a_provided_cell_says_so(demo_store):
    found = providers_elsewhere(demo_store, "loneliness", "loc-hebden-bridge")
    assert found["provided_here"] > 0


def test_unknown_ids_are_refused(demo_store):
    with pytest.raises(UnknownIdError):
        providers_elsewhere(demo_store, "no-such-need", "loc-todmorden")
    with pytest.raises(UnknownIdError):
        providers_elsewhere(demo_store, "loneliness", "loc-nowhere")


def test_red_cells_cover_exactly_the_report_cells_with_nothing_provided(demo_store):
    report = gap_report(demo_store, GapQuery())
    rows = red_cells(demo_store, report["coverage"])
    assert [(r["need"], r["locality"]) for r in rows] == [
        (c["need"], c["locality"]) for c in report["coverage"] if c["existing"] == 0]
    assert ("loneliness", "loc-todmorden") in {(r["need"], r["locality"]) for r in rows}


def _planted() -> dict:
    """Localities A..D: A and B share a link worker (B has no coordinates), C's centre is about
    5 km from A's, D is far and shares nothing.  The need is provided in B, C and D, not in A."""
    places = [("a", "53.70", "-1.90"), ("b", "", ""), ("c", "53.70", "-1.825"),
              ("d", "51.50", "-0.12")]
    data: dict[str, list[dict]] = {
        "needs": [{"id": "loneliness", "name": "Loneliness"}],
        "localities": [{"id": i, "name": i.upper(), "latitude": lat, "longitude": lon}
                       for i, lat, lon in places],
        "people": [{"id": "lw", "name": "Lee Worker", "role": "link_worker"}],
        "organisations": [], "services": [], "activities": [],
    }
    links = [("lw", "COVERS", "a"), ("lw", "COVERS", "b")]
    for org in ("b", "c", "d"):
        data["organisations"].append({"id": f"org-{org}", "name": f"Org {org}", "kind": "other"})
        data["services"].append({"id": f"svc-{org}", "name": f"Svc {org}"})
        data["activities"].append({"id": f"act-{org}", "name": f"Act {org}"})
        links += [(f"org-{org}", "PROVIDES", f"svc-{org}"), (f"svc-{org}", "OFFERS", f"act-{org}"),
                  (f"act-{org}", "ADDRESSES", "loneliness"), (f"act-{org}", "LOCATED_IN", org)]
    data["relationships"] = [{"source_id": s, "type": t, "target_id": d} for s, t, d in links]
    return data


def test_neighbours_by_shared_cover_and_by_distance(store):
    load_data(store, _planted())
    found = providers_elsewhere(store, "loneliness", "a", radius_km=10)
    assert found["provided_here"] == 0
    near = {n["id"]: n for n in found["neighbours"]}
    assert set(near) == {"b", "c"}
    assert near["b"]["shared_by"] == ["Lee Worker"] and near["b"]["distance_km"] is None
    assert near["c"]["shared_by"] == [] and 4 < near["c"]["distance_km"] < 6
    assert [p["id"] for p in found["providers"]] == ["org-c", "org-b", "org-d"]
    assert [p["neighbouring"] for p in found["providers"]] == [True, True, False]
    assert found["consortia_query"]["places"] == ["a", "c", "b"]
    # a smaller radius drops C (no shared cover), never B
    small = providers_elsewhere(store, "loneliness", "a", radius_km=3)
    assert {n["id"] for n in small["neighbours"]} == {"b"}
    assert [p["neighbouring"] for p in small["providers"]] == [True, False, False]


def test_both_stores_give_the_same_answers_on_the_demo(store, demo_store):
    """The same answer for every red cell of the demo, store under test vs an embedded one."""
    load_paths(store, [demo_data_dir()])
    report = gap_report(store, GapQuery())
    got = red_cells(store, report["coverage"])
    want = red_cells(demo_store, gap_report(demo_store, GapQuery())["coverage"])
    assert got, "the demo has red cells"
    assert got == want, first_difference(want, got)


def test_cli_gaps_carries_the_red_cells_in_json_csv_and_table(tmp_path):
    from click.testing import CliRunner

    from pathways.cli import cli

    graph = tmp_path / "graph.json"
    env = {"PATHWAYS_GRAPH": str(graph), "PATHWAYS_HOME": str(tmp_path)}
    runner = CliRunner()
    assert runner.invoke(cli, ["demo"], env=env).exit_code == 0
    store = EmbeddedStore(graph)
    expected = red_cells(store, gap_report(store, GapQuery())["coverage"])
    done = runner.invoke(cli, ["gaps", "--format", "json"], env=env)
    assert done.exit_code == 0, done.output
    got = json.loads(done.stdout)["commission"]
    assert [(c["need"], c["locality"]) for c in got] == [
        (c["need"], c["locality"]) for c in expected]
    tod = next(c for c in got if c["locality"] == "loc-todmorden")
    assert tod["consortia_page"] == ("/consortia?needs=loneliness&places="
                                     + "&places=".join(tod["consortia_query"]["places"]))
    assert [p["id"] for p in tod["providers"]] == [
        p["id"] for p in next(c for c in expected if c["locality"] == "loc-todmorden")["providers"]]
    csv_text = runner.invoke(cli, ["gaps", "--format", "csv"], env=env).stdout
    assert ("commission,loneliness@loc-todmorden,Loneliness and isolation in Todmorden,"
            f"consortia_page,{tod['consortia_page']}") in csv_text
    table = runner.invoke(cli, ["gaps"], env=env).stdout
    assert "Nothing provided: who provides it nearby or elsewhere" in table
    assert tod["providers"][0]["name"] in table.split("Nothing provided")[1]
