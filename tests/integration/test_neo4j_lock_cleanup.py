"""What a Neo4j load leaves, and says, when its clean-up writes fail (issue 18 item 3,
follow-ups of the lost-lock reviews): the release of its load lock, the end of its commit
mark; and a reset whose lock was taken over writes no commit mark over the new holder's.

"The server went away" is the store's own driver closed at that write (what a dead server
gives the store: every later write fails); the database itself is then read through another
connection.  Real Neo4j throughout.
"""

from __future__ import annotations

import logging
import threading

import pytest

from pathways.errors import InputError, Problem, StoreBusyError, StoreUnavailableError
from tests.conftest import load_data
from tests.integration.test_neo4j_batched_loads import versions
from tests.integration.test_neo4j_load_fence import (
    WAIT,
    _expire_lease,
    _in_thread,
    _other_store,
    _owner,
)
from tests.integration.test_neo4j_lost_lock_writes import _graph
from tests.integration.test_neo4j_parallel_loads import journal_left, two_sessions  # noqa: F401

pytestmark = pytest.mark.neo4j


def _server_gone_from(store, names: tuple[str, ...]) -> None:
    """From the store's first write whose function is called one of ``names`` on, every
    write and read of ``store`` fails as if the server had gone away."""
    original = store._write

    def write(fn, *args):
        if getattr(fn, "__name__", "") in names:
            store.driver.close()
        return original(fn, *args)

    store._write = write


def _server_back(store) -> None:
    """Undo :func:`_server_gone_from`; the lock the store could not release is let expire
    (as it would by itself), so the fixture's reset can take it."""
    del store._write
    store.reopen()
    _expire_lease(store)


def _commit_mark(store) -> str | None:
    records, _, _ = store.driver.execute_query(
        "MATCH (m:PathwaysMeta {key: 'graph'}) RETURN m.committing AS committing",
        database_=store.settings.database)
    return records[0]["committing"] if records else None


def _names(graph: tuple) -> set[str]:
    return {name.split(" ")[0] for _, _, name in graph[0] if name}


def test_a_failed_load_says_its_own_error_when_releasing_its_lock_fails_too(
        neo4j_store, caplog):
    """Before: the release's "lost the connection" replaced the load's own error."""
    own = InputError([Problem("people.csv", 2, "id", "the load's own problem")])
    _server_gone_from(neo4j_store, ("release_lock",))
    try:
        with (caplog.at_level(logging.WARNING), pytest.raises(InputError) as raised,
              neo4j_store.load_lock("a load")):
            raise own
    finally:
        _server_back(neo4j_store)
    assert raised.value is own
    notes = " ".join(getattr(raised.value, "__notes__", []))
    assert "Releasing the Neo4j load lock failed too" in notes
    assert "expires" in notes
    assert "load lock" in caplog.text  # and logged


def test_a_landed_load_whose_lock_cannot_be_released_says_it_landed(
        neo4j_store, neo4j_settings, caplog):
    """Before: a plain "lost the connection to Neo4j", as if the load had failed."""
    data = versions()
    _server_gone_from(neo4j_store, ("release_lock",))
    try:
        with (caplog.at_level(logging.WARNING), pytest.raises(StoreUnavailableError) as raised,
              neo4j_store.load_lock("a load")):
            load_data(neo4j_store, data["v1"])
    finally:
        _server_back(neo4j_store)
    message = str(raised.value)
    assert "landed" in message and "lock" in message and "expires" in message
    assert "nothing was written" not in message
    assert "load lock" in caplog.text
    with _other_store(neo4j_settings) as other:
        assert _names(_graph(other)) == {"v1"}  # it did land


def test_a_load_whose_commit_mark_cannot_be_cleared_says_it_landed_and_is_kept(
        neo4j_store, neo4j_settings):
    """``_write_once`` committed, then the server went away before the commit mark was
    cleared (and before the lock was released).  Before: reported as "lost the connection
    to Neo4j", as if the load had failed.  What it leaves: the mark (ignored by readers once
    the lock is released or expires), no journal, so the next holder rolls nothing back."""
    data = versions()
    load_data(neo4j_store, data["v1"])
    _server_gone_from(neo4j_store, ("end_commit", "_end_commit"))
    token: list[str | None] = []
    try:
        with pytest.raises(StoreUnavailableError) as raised, neo4j_store.load_lock("a load"):
            token.append(neo4j_store._lock_token)
            load_data(neo4j_store, data["v2"])
    finally:
        del neo4j_store._write
        neo4j_store.reopen()
        left = _commit_mark(neo4j_store), _owner(neo4j_store)
        _expire_lease(neo4j_store)  # as it does by itself, at the latest
    message = str(raised.value)
    assert "landed" in message and "nothing was written" not in message, message
    notes = " ".join(getattr(raised.value, "__notes__", []))
    assert "Releasing the Neo4j load lock failed too" in notes  # the server was gone
    assert left == (token[0], token[0])  # the mark left, with the lock still its own
    with _other_store(neo4j_settings) as other:
        assert other.version() is not None  # readers do not wait for the mark left
        with other.load_lock("the next load"):  # takes the lease over; its recovery ...
            pass
        assert _names(_graph(other)) == {"v2"}  # ... keeps the load that landed
        assert load_data(other, data["v2"]).nodes_changed == 0  # nothing to apply again


def test_a_reset_that_lost_its_lock_writes_no_commit_mark_over_the_new_holders(
        neo4j_store, neo4j_settings):
    """A reset held just before its commit mark while its lease expires; another process
    takes the lock and is held committing a load (its mark set).  Before: the stale reset
    then set its own mark, had its first deletion refused, and cleared the mark in its
    ``finally``: the new holder's commit went on with no mark, so readers could see it
    half applied."""
    data = versions()
    load_data(neo4j_store, data["v1"])
    ready, go = threading.Event(), threading.Event()
    committing, commit_go = threading.Event(), threading.Event()
    original_write = neo4j_store._write

    def write(fn, *args):
        if (getattr(fn, "__name__", "") in ("announce_commit", "_announce_commit")
                and not ready.is_set()):
            _expire_lease(neo4j_store)  # stalled past its lease just before its mark
            ready.set()
            go.wait(WAIT)
        return original_write(fn, *args)

    neo4j_store._write = write
    outcome: dict = {}
    threads: list[threading.Thread] = []
    with _other_store(neo4j_settings) as other:
        other_write = other._write

        def other_writes(fn, *args):
            result = other_write(fn, *args)
            if getattr(fn, "__name__", "") == "announce_commit" and not committing.is_set():
                committing.set()  # its mark is set; its commit is next
                commit_go.wait(WAIT)
            return result

        other._write = other_writes

        def take_over_and_load():
            with other.load_lock("the next load"):
                return load_data(other, data["v2"])

        try:
            threads.append(_in_thread(neo4j_store.reset, outcome, "reset"))
            assert ready.wait(WAIT)
            threads.append(_in_thread(take_over_and_load, outcome, "new"))
            assert committing.wait(WAIT)
            token = _owner(other)
            assert token is not None and _commit_mark(other) == token
            go.set()  # the stale reset carries on
            threads[0].join(WAIT)
            assert not threads[0].is_alive()
            assert _commit_mark(other) == token  # the new holder's mark, as it set it
        finally:
            go.set()
            commit_go.set()
            for thread in threads:
                thread.join(WAIT)
            del neo4j_store._write
    assert not any(thread.is_alive() for thread in threads)
    assert isinstance(outcome["reset"], StoreBusyError), outcome
    assert not isinstance(outcome["new"], BaseException), outcome
    assert _names(_graph(neo4j_store)) == {"v2"}
    assert _commit_mark(neo4j_store) is None


def test_a_batched_load_whose_publish_reply_was_lost_says_it_landed(
        neo4j_store, two_sessions):  # noqa: F811
    """The publishing transaction committed but its reply was lost (the connection dropped
    just then): the driver runs it again, and that run finds nothing left to publish.
    Before: the load was told it had lost its lock ("nothing was written — load again")
    although it had landed whole."""
    from neo4j.exceptions import SessionExpired

    data = versions()
    load_data(neo4j_store, data["v1"])
    published = neo4j_store._publish
    runs: list[bool] = []

    def publish_then_lose_the_reply(tx, token):
        if not runs:  # the first run commits (here in a transaction of its own) ...
            runs.append(neo4j_store._write(published, token))
            raise SessionExpired("the reply to the commit was lost")  # ... then, retried:
        runs.append(published(tx, token))
        return runs[-1]

    neo4j_store._publish = publish_then_lose_the_reply
    try:
        summary = load_data(neo4j_store, data["v2"])
    finally:
        del neo4j_store._publish
    assert runs == [True, True]  # published by the first run; the retry says it landed
    assert summary.nodes_changed > 0
    assert _names(_graph(neo4j_store)) == {"v2"}
    assert journal_left(neo4j_store) == 0
