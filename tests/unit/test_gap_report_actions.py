"""The gap report a lead downloads carries the step from each diagnosis to an action, in every
format of ``pathways gaps``: who could provide each red cell, the new referral agreements that
would close the amber cells, and a second route around each top single point of failure (the
same answers as the analyses give)."""

from __future__ import annotations

import csv
import io
import json

from click.testing import CliRunner
from markupsafe import escape

from pathways.analysis.commission import red_cells
from pathways.analysis.gaps import GapQuery, gap_report
from pathways.analysis.recommend import RecommendQuery, protection, recommend
from pathways.cli import cli
from pathways.reports.render_gaps import as_html
from pathways.store.embedded import EmbeddedStore


def _demo(tmp_path):
    graph = tmp_path / "graph.json"
    env = {"PATHWAYS_GRAPH": str(graph), "PATHWAYS_HOME": str(tmp_path)}
    runner = CliRunner()
    assert runner.invoke(cli, ["demo"], env=env).exit_code == 0

    def run(*args: str) -> str:
        done = runner.invoke(cli, ["gaps", *args], env=env)
        assert done.exit_code == 0, done.output
        return done.stdout

    return run, EmbeddedStore(graph)


def test_every_format_carries_recommendations_remedies_and_commissions(tmp_path):
    run, store = _demo(tmp_path)
    found, kept = recommend(store), protection(store)
    red = red_cells(store, gap_report(store, GapQuery())["coverage"])
    assert found["recommendations"] and kept["remedies"] and red, "the demo has each kind of gap"

    data = json.loads(run("--format", "json"))
    assert data["recommendations"]["recommendations"] == found["recommendations"]
    assert data["recommendations"]["amber"] == found["amber"]
    assert data["protection"] == kept

    page = run("--format", "html")
    action = page.split("From gaps to action")[1].split("Unreached activities")[0]
    for step in found["recommendations"]:
        for name in (step["source"]["name"], step["target"]["name"], *step["cell_names"]):
            assert str(escape(name)) in action, name
    for remedy in kept["remedies"]:
        assert str(escape(remedy["name"])) in action
        if remedy["source"]:
            assert str(escape(remedy["source"]["name"])) in action
    for cell in red:
        assert str(escape(cell["need_name"])) in action and str(escape(cell["locality_name"])) in action
    assert str(escape(found["method"])) in action

    rows = list(csv.DictReader(io.StringIO(run("--format", "csv").lstrip("\ufeff"))))
    steps = {}
    for r in rows:
        if r["section"] == "recommendation":
            steps.setdefault(r["id"], {})[r["measure"]] = r["value"]
    assert len(steps) == len(found["recommendations"])
    for step in found["recommendations"]:
        got = steps[str(step["rank"])]
        assert got["from"].lstrip("'") == step["source"]["name"]
        assert int(got["cells_added"]) == len(step["cells"])
        assert int(got["options_added"]) == step["options"]
    remedies = {r["id"]: r for r in rows if r["section"] == "remedy" and r["measure"] == "kept"}
    assert {i: int(r["value"]) for i, r in remedies.items()} == {
        r["id"]: r["kept"] for r in kept["remedies"]}

    table = run()
    part = table.split("routes that would close these")[1]
    first = found["recommendations"][0]
    assert first["source"]["name"] in part and first["cell_names"][0] in part
    assert kept["remedies"][0]["name"] in table.split("a second route around each")[1]


def test_a_chosen_locality_limits_the_recommendations_too(tmp_path):
    run, store = _demo(tmp_path)
    everywhere = recommend(store)
    place = everywhere["amber"][0][1]
    data = json.loads(run("--format", "json", "--locality", place))
    expected = recommend(store, RecommendQuery(localities=(place,)))
    assert data["recommendations"]["recommendations"] == expected["recommendations"]
    assert {c[1] for c in data["recommendations"]["amber"]} == {place}


def test_the_report_without_actions_has_no_action_part(tmp_path):
    _run, store = _demo(tmp_path)
    assert "From gaps to action" not in as_html(gap_report(store, GapQuery()))
