"""The CLI shows what else went wrong while a command stopped (notes added to the error, e.g.
a Neo4j load whose lock release failed too), not only the error itself."""

from __future__ import annotations

import pytest

import pathways.cli as cli_module
from pathways.errors import StoreUnavailableError


def test_an_errors_notes_are_shown_after_it(monkeypatch, capsys):
    def failing(**_kwargs):
        error = StoreUnavailableError("lost the connection to Neo4j; nothing was written")
        error.add_note("Releasing the Neo4j load lock failed too (connection lost).")
        raise error

    monkeypatch.setattr(cli_module.cli, "main", failing)
    with pytest.raises(SystemExit) as stopped:
        cli_module.main(["stats"])
    assert stopped.value.code == 1
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == "Error: lost the connection to Neo4j; nothing was written"
    assert lines[1:] == ["Also: Releasing the Neo4j load lock failed too (connection lost)."]
