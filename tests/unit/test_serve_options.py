"""``pathways serve`` options that are refused before anything starts (no server is run)."""

from __future__ import annotations

from click.testing import CliRunner

from pathways.cli import cli


def test_serve_refuses_debug_with_workers(tmp_path, monkeypatch):
    """--debug reloads one process on code changes: with worker processes it is refused,
    saying why, before the store is opened or a port taken."""
    monkeypatch.setenv("PATHWAYS_HOME", str(tmp_path))
    result = CliRunner().invoke(cli, ["serve", "--workers", "2", "--debug"])
    assert result.exit_code == 2
    assert "cannot be used with --workers" in result.output
    assert not (tmp_path / "graph.json").exists()


def test_serve_wants_at_least_one_worker(tmp_path, monkeypatch):
    monkeypatch.setenv("PATHWAYS_HOME", str(tmp_path))
    result = CliRunner().invoke(cli, ["serve", "--workers", "0"])
    assert result.exit_code == 2
    assert "--workers" in result.output and "0" in result.output
