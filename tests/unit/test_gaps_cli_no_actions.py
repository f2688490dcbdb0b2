"""``pathways gaps --no-actions`` gives the diagnosis alone (at 100k nodes the step to action
costs tens of seconds after a load): the same figures as the full report, without the
recommendations, remedies and red-cell providers."""

from __future__ import annotations

import json

from click.testing import CliRunner

from pathways.cli import cli


def test_no_actions_keeps_the_diagnosis_and_leaves_out_the_step_to_action(tmp_path):
    env = {"PATHWAYS_GRAPH": str(tmp_path / "graph.json"), "PATHWAYS_HOME": str(tmp_path)}
    runner = CliRunner()
    assert runner.invoke(cli, ["demo"], env=env).exit_code == 0

    def gaps(*args: str) -> str:
        done = runner.invoke(cli, ["gaps", *args], env=env)
        assert done.exit_code == 0, done.output
        return done.stdout

    # One day for both (the report says its date: two runs straddling midnight would differ)
    day = ("--as-of", "2026-11-29")
    full = json.loads(gaps("--format", "json", *day))
    bare = json.loads(gaps("--format", "json", "--no-actions", *day))
    actions = {"commission", "recommendations", "protection"}
    assert actions <= full.keys() and not actions & bare.keys()
    assert {k: v for k, v in full.items() if k not in actions} == bare

    table, bare_table = gaps(), gaps("--no-actions")
    assert "Nothing provided" in table or "nothing provided" in table.lower()
    assert len(bare_table) < len(table)
    assert "From gaps to action" in gaps("--format", "html")
    assert "From gaps to action" not in gaps("--format", "html", "--no-actions")
