"""A failed load's own error reaches the user even when updating the load history fails too
(e.g. the Neo4j server went away): the history's failure is added as a note, not raised in
its place."""

from __future__ import annotations

import pytest

from pathways import history
from pathways.errors import InputError, Problem, StoreUnavailableError
from pathways.store.embedded import EmbeddedStore


def test_the_loads_error_stays_when_abandoning_its_record_fails(tmp_path, monkeypatch):
    store = EmbeddedStore(tmp_path / "graph.json")

    def server_gone(self):
        raise StoreUnavailableError("lost the connection to Neo4j")

    monkeypatch.setattr(history.Recorder, "abandon", server_gone)
    problem = Problem("people.csv", 3, "id", "the id is empty")
    files = [tmp_path / "people.csv"]
    with pytest.raises(InputError) as raised, history.recording(store, "load", files):
        raise InputError([problem])
    assert raised.value.problems == [problem]
    assert raised.value.__notes__ == [
        "Updating the load history failed too (lost the connection to Neo4j)."]
