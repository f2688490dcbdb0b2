"""A Ctrl-C (KeyboardInterrupt) during a Neo4j load in one transaction says what it left:
the rows landed (committed), or none was written; the commit mark is cleared, so this
process's own reads after it (the load history's update) do not wait for it; the load
history keeps a load that landed (as incomplete, undoable), and drops one that did not.
Real Neo4j; the interrupt is raised at a chosen point by wrapping the store's methods or
the driver's commit."""

from __future__ import annotations

import neo4j
import pytest

from pathways import history
from pathways.cli import main
from pathways.store import neo4j as neo4j_module
from pathways.store.neo4j import Neo4jStore
from queries import graph as graph_queries
from tests.conftest import load_data
from tests.integration.test_neo4j_batched_loads import small_commits, versions  # noqa: F401
from tests.integration.test_neo4j_lock_cleanup import _commit_mark, _names
from tests.integration.test_neo4j_lost_lock_writes import _graph, _mark_and_journal

pytestmark = pytest.mark.neo4j


@pytest.fixture(autouse=True)
def _short_commit_wait():
    """A commit mark left behind makes reads wait COMMIT_WAIT_SECONDS (300 s) before they
    give up: shortened so that code which leaves one fails in seconds rather than hangs.
    (Its own MonkeyPatch: the tests undo theirs mid-test.)"""
    with pytest.MonkeyPatch.context() as patched:
        patched.setattr(neo4j_module, "COMMIT_WAIT_SECONDS", 5.0)
        yield


def _options(s) -> list[str]:
    return ["--store", "neo4j", "--neo4j-uri", s.uri, "--neo4j-user", s.user,
            "--neo4j-password", s.password, "--neo4j-database", s.database]


def _interrupt_commit(monkeypatch, after: bool) -> None:
    """The next explicit transaction's commit raises KeyboardInterrupt, once: after the
    commit went through (``after``), or instead of it."""
    original = neo4j.Transaction.commit
    fired: list[bool] = []

    def commit(self):
        if fired:
            return original(self)
        fired.append(True)
        if after:
            original(self)
        raise KeyboardInterrupt

    monkeypatch.setattr(neo4j.Transaction, "commit", commit)


def test_cli_says_a_load_interrupted_after_its_commit_landed(
        neo4j_store, neo4j_settings, demo_dir, monkeypatch, capsys):
    """Ctrl-C just after the commit, before its mark was cleared.  Before: the CLI said only
    "Aborted."; the load history's update waited for the load's own mark until it gave up
    (COMMIT_WAIT_SECONDS, 300 s), leaving the record "running"."""
    earlier = len(history.records(neo4j_store))  # (a reset keeps the history)

    def end_commit(self, token, rows, failed):
        raise KeyboardInterrupt

    with monkeypatch.context() as patched:
        patched.setattr(Neo4jStore, "_end_commit", end_commit)
        with pytest.raises(SystemExit) as exited:
            main(_options(neo4j_settings) + ["load", str(demo_dir)])
    err = capsys.readouterr().err
    assert exited.value.code == 1
    assert "Aborted." in err
    assert "rows had landed before the interrupt" in err, err
    assert "none of its" not in err
    assert neo4j_store.stats()["nodes"]["Activity"] == 60  # it did land
    assert _commit_mark(neo4j_store) is None
    found = history.records(neo4j_store)
    assert len(found) == earlier + 1 and found[0]["status"] == "incomplete"  # undoable


def _interrupted_load_notes(store, data) -> str:
    """Load ``data`` into ``store`` under its lock, expecting Ctrl-C: the notes it carries."""
    with pytest.raises(KeyboardInterrupt) as raised, store.load_lock("a load"):
        load_data(store, data)
    return " ".join(getattr(raised.value, "__notes__", []))


@pytest.mark.parametrize(("after", "said", "not_said", "left"), [
    (True, "had landed before the interrupt", "none of its", "v2"),
    (False, "none of its", "landed", "v1"),
], ids=["after-the-driver-committed", "before-the-commit"])
def test_an_interrupt_in_the_commit_says_whether_the_load_landed(
        neo4j_store, monkeypatch, after, said, not_said, left):
    data = versions()
    load_data(neo4j_store, data["v1"])
    _interrupt_commit(monkeypatch, after=after)
    notes = _interrupted_load_notes(neo4j_store, data["v2"])
    monkeypatch.undo()
    assert said in notes and not_said not in notes, notes
    assert _names(_graph(neo4j_store)) == {left}
    assert _commit_mark(neo4j_store) is None


def test_cli_says_nothing_was_written_and_drops_the_record(
        neo4j_store, neo4j_settings, demo_dir, monkeypatch, capsys):
    earlier = len(history.records(neo4j_store))  # (a reset keeps the history)
    _interrupt_commit(monkeypatch, after=False)
    with pytest.raises(SystemExit):
        main(_options(neo4j_settings) + ["load", str(demo_dir)])
    monkeypatch.undo()
    err = capsys.readouterr().err
    assert "none of its" in err and "landed" not in err, err
    assert sum(neo4j_store.stats()["nodes"].values()) == 0
    assert len(history.records(neo4j_store)) == earlier  # its record dropped


def test_an_error_after_the_version_bump_rolls_back_and_clears_the_mark(neo4j_store,
                                                                        monkeypatch):
    """An error raised in Python between the version bump and the commit (here: reading the
    version).  Before: clearing the mark waited for ever on the graph node, which the load's
    own still-open transaction held."""
    data = versions()
    load_data(neo4j_store, data["v1"])

    def broken(tx):
        raise RuntimeError("an error after the bump")

    monkeypatch.setattr(graph_queries, "graph_version", broken)
    with pytest.raises(RuntimeError), neo4j_store.load_lock("a load"):
        load_data(neo4j_store, data["v2"])
    monkeypatch.undo()
    assert _names(_graph(neo4j_store)) == {"v1"}
    assert _commit_mark(neo4j_store) is None


def _interrupt_after(store, name: str) -> None:
    """The store's write ``name`` runs (and commits), then KeyboardInterrupt, once."""
    original = store._write
    fired: list[bool] = []

    def write(fn, *args):
        result = original(fn, *args)
        if getattr(fn, "__name__", "") == name and not fired:
            fired.append(True)
            raise KeyboardInterrupt
        return result

    store._write = write


def test_a_batched_load_interrupted_after_publishing_says_it_landed(
        neo4j_store, small_commits):  # noqa: F811
    """Before: "Aborted." alone; its rollback found no journal and said nothing."""
    data = versions()
    load_data(neo4j_store, data["v1"])
    _interrupt_after(neo4j_store, "_publish")
    try:
        notes = _interrupted_load_notes(neo4j_store, data["v2"])
    finally:
        del neo4j_store._write
    assert "had landed before the interrupt" in notes, notes
    assert _names(_graph(neo4j_store)) == {"v2"}
    assert _mark_and_journal(neo4j_store) == (None, None)


def test_a_batched_load_interrupted_between_batches_says_it_was_rolled_back(
        neo4j_store, small_commits):  # noqa: F811
    data = versions()
    load_data(neo4j_store, data["v1"])
    original = neo4j_store._commit_batch
    done: list[int] = []

    def commit(group, rows, progress, *args, **kwargs):
        if len(done) == 2:
            raise KeyboardInterrupt
        original(group, rows, progress, *args, **kwargs)
        done.append(rows)

    neo4j_store._commit_batch = commit
    try:
        notes = _interrupted_load_notes(neo4j_store, data["v2"])
    finally:
        del neo4j_store._commit_batch
    assert "rolled back: nothing of it was written" in notes and "landed" not in notes, notes
    assert _names(_graph(neo4j_store)) == {"v1"}
    assert _mark_and_journal(neo4j_store) == (None, None)


def test_a_reset_cut_short_stays_in_the_history_and_can_be_undone(neo4j_store, monkeypatch):
    """A reset deletes in batches; Ctrl-C after the first.  Before: the graph version had
    not moved, so the history took the reset for one that wrote nothing and dropped its
    record, and with it the before-image: the half-emptied graph could not be undone."""
    data = versions()
    load_data(neo4j_store, data["v1"])
    before = _graph(neo4j_store)
    monkeypatch.setattr(neo4j_module, "RESET_BATCH", 50)
    _interrupt_after(neo4j_store, "_delete_batch")
    try:
        with pytest.raises(KeyboardInterrupt):
            history.reset_store(neo4j_store)
    finally:
        del neo4j_store._write
    left = _graph(neo4j_store)[0]
    assert 0 < len(left) < len(before[0])  # cut short part-way
    assert _commit_mark(neo4j_store) is None
    found = history.records(neo4j_store)[0]
    assert (found["action"], found["status"]) == ("reset", "incomplete"), found
    history.undo(neo4j_store, found["id"])
    assert _graph(neo4j_store) == before
