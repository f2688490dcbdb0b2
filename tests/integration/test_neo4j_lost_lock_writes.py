"""A load (or reset) whose Neo4j load lock was taken over writes nothing more: not its
rollback, not its journal, not its deletions.

A lease is taken over when its holder stalled past it (a suspended laptop or VM, a network
cut off longer than the lease): the holder may wake and carry on.  Its batches already check
the lock before they commit (``test_neo4j_load_fence``); these tests hold the old holder at
each of its other writes while another store (as another ``pathways`` process would) takes
the lock over and loads, then let it carry on, and check that the load that landed is still
whole, with its mark and journal its own.  The graph is read past the store and its caches.
"""

from __future__ import annotations

import threading

import pytest

from pathways.errors import StoreBusyError
from tests.conftest import load_data
from tests.integration.test_neo4j_load_fence import (  # noqa: F401  (loaded_v1: a fixture)
    WAIT,
    _expire_lease,
    _in_thread,
    _other_store,
    loaded_v1,
)
from tests.integration.test_neo4j_parallel_loads import journal_left, two_sessions  # noqa: F401

pytestmark = pytest.mark.neo4j

# A rollback's transactions: a lambda before they were checked, then a method.
ROLLBACK_STEP = ("<lambda>", "_restore_batch")


def _graph(store) -> tuple:
    """Every node's id, kind and name, and every relationship, as the database holds them."""
    nodes, _, _ = store.driver.execute_query(
        "MATCH (n:Pathways) RETURN n.id AS id, labels(n) AS kinds, n.name AS name ORDER BY id",
        database_=store.settings.database)
    rels, _, _ = store.driver.execute_query(
        "MATCH (a:Pathways)-[r]->(b:Pathways) RETURN a.id AS a, type(r) AS t, b.id AS b"
        " ORDER BY a, t, b", database_=store.settings.database)
    return ([(r["id"], sorted(r["kinds"]), r["name"]) for r in nodes],
            [(r["a"], r["t"], r["b"]) for r in rels])


def test_a_load_that_lost_its_lock_does_not_roll_back_over_the_next_load(
        neo4j_store, neo4j_settings, loaded_v1):  # noqa: F811
    """Its batch refused (the lock was taken over), the old load starts its own rollback
    while the new holder's recovery has not finished, and is held there while the new
    holder recovers and loads v2.  Before: it then restored v1 over v2's committed rows (v2's
    new nodes deleted, its names back to v1), and v2 had been reported landed."""
    data, _before = loaded_v1
    written, go = threading.Event(), threading.Event()
    old_rolling, old_go = threading.Event(), threading.Event()
    new_rolling, new_go = threading.Event(), threading.Event()
    checks = 0
    original_check, original_write = neo4j_store._check_still_locked, neo4j_store._write

    def check(tx, *args, **kwargs):
        nonlocal checks
        checks += 1
        if checks == 3:  # a batch's rows are written, not yet checked nor committed
            _expire_lease(neo4j_store)
            written.set()
            go.wait(WAIT)
        original_check(tx, *args, **kwargs)

    def write(fn, *args):
        if getattr(fn, "__name__", "") in ROLLBACK_STEP and not old_rolling.is_set():
            old_rolling.set()  # the old load read its journal; its first step is next
            old_go.wait(WAIT)
        return original_write(fn, *args)

    neo4j_store._check_still_locked, neo4j_store._write = check, write
    outcome: dict = {}
    try:
        loading = _in_thread(lambda: load_data(neo4j_store, data["v2"]), outcome, "old")
        assert written.wait(WAIT)
        with _other_store(neo4j_settings) as other:
            other_write = other._write

            def recovering_write(fn, *args):
                if getattr(fn, "__name__", "") in ROLLBACK_STEP and not new_rolling.is_set():
                    new_rolling.set()  # the takeover read the journal too
                    new_go.wait(WAIT)
                return other_write(fn, *args)

            other._write = recovering_write

            def take_over_and_load():  # as `pathways load` does: the lock, then the reads
                with other.load_lock():
                    return load_data(other, data["v2"])

            taking = _in_thread(take_over_and_load, outcome, "new")
            assert new_rolling.wait(WAIT)
            go.set()  # the old load's batch reads the new owner and aborts ...
            assert old_rolling.wait(WAIT)  # ... and it starts rolling itself back
            new_go.set()  # the new holder recovers, then loads v2 whole
            taking.join(WAIT)
            assert not taking.is_alive()
            assert not isinstance(outcome["new"], BaseException), outcome
            landed = _graph(other)
        old_go.set()  # the old load's rollback carries on
        loading.join(WAIT)
        assert not loading.is_alive()
    finally:
        for event in (go, old_go, new_go):
            event.set()
        del neo4j_store._check_still_locked, neo4j_store._write
    assert isinstance(outcome["old"], StoreBusyError), outcome
    assert "lost its hold" in str(outcome["old"])
    assert _graph(neo4j_store) == landed  # v2 as it landed: nothing put back over it
    assert any(name and name.startswith("v2 ") for _, _, name in landed[0])
    assert journal_left(neo4j_store) == 0


def _mark_and_journal(store) -> tuple[str | None, str | None]:
    records, _, _ = store.driver.execute_query(
        "MATCH (m:PathwaysMeta {key: 'graph'})"
        " OPTIONAL MATCH (j:PathwaysMeta {key: 'load_journal'})"
        " RETURN m.loading AS loading, j.owner AS journal", database_=store.settings.database)
    return records[0]["loading"], records[0]["journal"]


def test_a_load_that_lost_its_lock_before_its_journal_leaves_the_next_load_whole(
        neo4j_store, neo4j_settings, loaded_v1, tmp_path):  # noqa: F811
    """The old load is held just before saving its journal; the new holder starts loading
    v2 and is held between its batches; the old load carries on.  Before: it replaced the
    new holder's journal and mark with its own, its first batch was refused, and its
    rollback cleared them: v2's first batches were seen by readers, v2 was then told it had
    lost the lock ("nothing was written") with its batches left in the graph."""
    from tests.integration.test_gaps_parity import described
    from tests.integration.test_neo4j_batched_loads import expected_graph

    data, _before = loaded_v1
    ready, go = threading.Event(), threading.Event()
    held, new_go = threading.Event(), threading.Event()
    original_write = neo4j_store._write

    def write(fn, *args):
        if getattr(fn, "__name__", "") in ("begin_batched_load", "_begin") and not ready.is_set():
            _expire_lease(neo4j_store)  # stalled past its lease just before its journal
            ready.set()
            go.wait(WAIT)
        return original_write(fn, *args)

    neo4j_store._write = write
    outcome: dict = {}
    threads: list[threading.Thread] = []
    with _other_store(neo4j_settings) as other:
        original_commit = other._commit_batch
        started = []
        counting = threading.Lock()

        def commit(group, rows, progress, *args, **kwargs):
            with counting:
                started.append(True)
                later = len(started) > 2
            if later:  # two batches in: hold the rest
                held.set()
                new_go.wait(WAIT)
            original_commit(group, rows, progress, *args, **kwargs)

        other._commit_batch = commit
        try:
            threads.append(_in_thread(lambda: load_data(neo4j_store, data["v2"]), outcome, "old"))
            assert ready.wait(WAIT)
            threads.append(_in_thread(lambda: load_data(other, data["v2"]), outcome, "new"))
            assert held.wait(WAIT)
            token = other._lock_token
            assert token is not None and _mark_and_journal(other) == (token, token)
            go.set()  # the old load carries on: its journal, a batch, its rollback
            threads[0].join(WAIT)
            assert isinstance(outcome.get("old"), StoreBusyError), outcome
            # v2's batches are still held back from readers, to be published or rolled back
            assert _mark_and_journal(other) == (token, token)
        finally:
            go.set()
            new_go.set()
            for thread in threads:
                thread.join(WAIT)
            del neo4j_store._write
    assert not any(thread.is_alive() for thread in threads)
    assert not isinstance(outcome["new"], BaseException), outcome
    assert described(neo4j_store.snapshot()) == expected_graph(tmp_path, data["v2"])
    assert journal_left(neo4j_store) == 0


def _reset_taken_over_at(store, settings, data, held_at: tuple[str, ...]) -> tuple:
    """Reset ``store`` in a thread, held at its first write named in ``held_at`` while its
    lease expires and another process loads v2 (taking the lock over); then let it go on.
    What the reset raised, the graph v2 left and the version after it."""
    ready, go = threading.Event(), threading.Event()
    original_write = store._write

    def write(fn, *args):
        if getattr(fn, "__name__", "") in held_at and not ready.is_set():
            _expire_lease(store)
            ready.set()
            go.wait(WAIT)
        return original_write(fn, *args)

    store._write = write
    outcome: dict = {}
    try:
        resetting = _in_thread(store.reset, outcome, "reset")
        assert ready.wait(WAIT)
        with _other_store(settings) as other:
            load_data(other, data["v2"])  # takes the expired lease over; lands
            landed, version = _graph(other), other.version()
        go.set()
        resetting.join(WAIT)
        assert not resetting.is_alive()
    finally:
        go.set()
        del store._write
    return outcome.get("reset"), landed, version


def test_a_reset_that_lost_its_lock_does_not_empty_the_load_that_took_it(
        neo4j_store, neo4j_settings, loaded_v1):  # noqa: F811
    """A reset held before its first deletion while its lease expires and another process
    loads v2.  Before: it then deleted v2, which had been reported landed."""
    data, _before = loaded_v1
    raised, landed, _version = _reset_taken_over_at(
        neo4j_store, neo4j_settings, data, ("delete_batch", "_delete_batch"))
    assert _graph(neo4j_store) == landed and landed[0]  # v2 whole, not emptied
    assert isinstance(raised, StoreBusyError), raised


def test_a_reset_that_lost_its_lock_after_its_deletions_does_not_say_it_emptied_the_store(
        neo4j_store, neo4j_settings, loaded_v1):  # noqa: F811
    """A reset held after its last deletion, before its version bump, while its lease
    expires and another process loads v2.  Before: its bump went ahead unchecked and the
    reset returned as if it had emptied the store, which holds v2."""
    data, _before = loaded_v1
    raised, landed, version = _reset_taken_over_at(
        neo4j_store, neo4j_settings, data, ("bump_graph_version", "_bump_version"))
    assert _graph(neo4j_store) == landed and landed[0]  # v2 whole
    assert neo4j_store.version() == version  # no bump after the takeover
    assert isinstance(raised, StoreBusyError), raised
