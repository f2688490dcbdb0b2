"""Issue 18 item 3: the sessions of a batched Neo4j load check their lock through a fence node
each, so they no longer take turns to commit, and a load whose lease is taken over is still
never half-visible nor partly left behind.

Each batch of a batched load checks, just before committing, that its load still holds the
load lock: it write-locks its own session's fence node and reads the lock's holder.  Taking the
lock over sets the new holder and write-locks every fence in one transaction, then rolls the
old load back from its journal (``Neo4jStore.load_lock``).  These tests take a lease over
while a batch of the old load is held (threading events) at each point of its commit: past its
check (the takeover must wait for it, and the recovery roll it back), before its check (it must
abort), and before publishing (it must not publish in the middle of the recovery).  The stores
are two connections, as two ``pathways load`` processes would open.
"""

from __future__ import annotations

import threading
import time

import pytest

from pathways.errors import StoreBusyError
from queries import graph as q
from tests.conftest import load_data
from tests.integration.test_gaps_parity import described
from tests.integration.test_neo4j_batched_loads import expected_graph, raw_counts, versions
from tests.integration.test_neo4j_parallel_loads import journal_left, two_sessions  # noqa: F401

pytestmark = pytest.mark.neo4j
WAIT = 30  # seconds any step below may wait for another thread before the test gives up


def _other_store(settings):
    from pathways.store.neo4j import Neo4jStore

    return Neo4jStore(settings)


def _expire_lease(store) -> None:
    """As if the load holding the lock had stalled past its lease (on the server's clock)."""
    store.driver.execute_query(
        "MATCH (l:PathwaysMeta {key: 'load_lock'}) SET l.expires = 0",
        database_=store.settings.database)


def _owner(store) -> str | None:
    records, _, _ = store.driver.execute_query(
        "MATCH (l:PathwaysMeta {key: 'load_lock'}) RETURN l.owner AS owner",
        database_=store.settings.database)
    return records[0]["owner"] if records else None


def _in_thread(fn, outcome: dict, name: str) -> threading.Thread:
    def run():
        try:
            outcome[name] = fn()
        except Exception as exc:  # the test asserts on it
            outcome[name] = exc

    thread = threading.Thread(target=run, name=f"test-{name}", daemon=True)
    thread.start()
    return thread


@pytest.fixture
def loaded_v1(neo4j_store, two_sessions):  # noqa: F811  (the fixture imported above)
    """v1 loaded from two sessions; the graph, raw counts and version as they are then."""
    data = versions()
    load_data(neo4j_store, data["v1"])
    neo4j_store.lock_lease_seconds = 10_000.0  # no renewal during a test (only _expire_lease)
    return data, (described(neo4j_store.snapshot()), raw_counts(neo4j_store),
                  neo4j_store.version())


def _assert_as_before(store, before) -> None:
    graph, counts, version = before
    assert raw_counts(store) == counts  # nothing of the load taken over is left
    assert described(store.snapshot()) == graph  # every v1 name and link, no v2 one
    assert store.version() != version  # caches keyed by version are not trusted
    assert journal_left(store) == 0


def test_two_sessions_of_a_load_hold_their_lock_checks_at_once(neo4j_store, two_sessions,  # noqa: F811
                                                               tmp_path):
    """Each session's first batch, past its lock check, waits for the other session's to be
    past its check too: with one shared lock node the second check waited for the first
    batch's commit (the sessions took turns), so they never met."""
    data = versions()
    meet = threading.Barrier(2, timeout=15)
    met: list[str] = []
    broken: list[str] = []
    original, original_commit = neo4j_store._check_still_locked, neo4j_store._commit_batch
    batch = threading.local()

    def commit(*args, **kwargs):
        batch.on = True
        try:
            return original_commit(*args, **kwargs)
        finally:
            batch.on = False

    def check(tx, *args, **kwargs):
        original(tx, *args, **kwargs)  # holds what the check locks until tx commits
        name = threading.current_thread().name
        if not getattr(batch, "on", False) or name in met or name in broken:
            return  # (the journal's check, or this session already met the other)
        try:
            meet.wait()
            met.append(name)
        except threading.BrokenBarrierError:
            broken.append(name)

    neo4j_store._check_still_locked, neo4j_store._commit_batch = check, commit
    load_data(neo4j_store, data["v1"])
    del neo4j_store._check_still_locked, neo4j_store._commit_batch
    assert not broken, f"{broken} waited in vain: the sessions' checks took turns"
    assert sorted(met) == ["MainThread", "pathways-load-1"]
    assert described(neo4j_store.snapshot()) == expected_graph(tmp_path, data["v1"])
    assert journal_left(neo4j_store) == 0


def test_a_takeover_waits_for_a_batch_past_its_check_then_rolls_it_back(
        neo4j_store, neo4j_settings, loaded_v1):
    data, before = loaded_v1
    checked, go = threading.Event(), threading.Event()
    checks = 0
    held: list[str] = []
    committed: list[str] = []
    original_check, original_commit = neo4j_store._check_still_locked, neo4j_store._commit_batch

    def check(tx, *args, **kwargs):
        nonlocal checks
        checks += 1
        third = checks == 3  # (the other session counts on meanwhile)
        if third:
            _expire_lease(neo4j_store)  # (before the check: it may lock the lock node)
        original_check(tx, *args, **kwargs)
        if third:  # a batch past its check (after the journal's), held there
            held.append(threading.current_thread().name)
            checked.set()
            go.wait(WAIT)

    def commit(group, rows, progress, *args, **kwargs):
        original_commit(group, rows, progress, *args, **kwargs)
        committed.append(threading.current_thread().name)

    neo4j_store._check_still_locked, neo4j_store._commit_batch = check, commit
    outcome: dict = {}
    loading = _in_thread(lambda: load_data(neo4j_store, data["v2"]), outcome, "load")
    assert checked.wait(WAIT)
    with _other_store(neo4j_settings) as other:
        def take_over():
            with other.load_lock("the takeover"):  # takes the expired lease, recovers
                return journal_left(other)

        taking = _in_thread(take_over, outcome, "takeover")
        time.sleep(1.5)
        assert taking.is_alive() and "takeover" not in outcome  # it waits for the held batch
        committed_before = len(committed)
        go.set()
        taking.join(WAIT)
        loading.join(WAIT)
    assert not taking.is_alive() and not loading.is_alive()
    assert outcome["takeover"] == 0  # under the new lock, the journal was rolled back at once
    assert held[0] in committed[committed_before:]  # the held batch did commit, after go
    assert isinstance(outcome["load"], StoreBusyError), outcome
    assert "lost its hold" in str(outcome["load"])
    _assert_as_before(neo4j_store, before)


def test_a_takeover_waits_for_a_batch_creating_nodes_past_its_check(
        neo4j_store, neo4j_settings, loaded_v1):
    """The takeover must not commit while a batch that passed its check is uncommitted: the
    test above holds a batch that may change existing nodes, which the recovery's steps wait
    for anyway, so it passed with the takeover's fence locks removed.  Nodes a batch creates
    are not seen by the recovery until committed: without the fences the takeover committed
    and the recovery finished at once, and the held batch's nodes landed after it, visible."""
    data, before = loaded_v1
    checked, go = threading.Event(), threading.Event()
    batch = threading.local()
    token: list[str] = []
    original_check, original_commit = neo4j_store._check_still_locked, neo4j_store._commit_batch

    def commit(group, rows, progress, *args, **kwargs):
        batch.creates = any(step.func is q.upsert_nodes and step.keywords.get("new")
                            for _, step in group)
        try:
            return original_commit(group, rows, progress, *args, **kwargs)
        finally:
            batch.creates = False

    def check(tx, *args, **kwargs):
        hold = getattr(batch, "creates", False) and not token
        if hold:
            token.append(neo4j_store._lock_token)
            _expire_lease(neo4j_store)  # (before the check: it may lock the lock node)
        original_check(tx, *args, **kwargs)
        if hold:  # past its check, its new nodes written, not committed
            checked.set()
            go.wait(WAIT)

    neo4j_store._check_still_locked, neo4j_store._commit_batch = check, commit
    outcome: dict = {}
    threads = [_in_thread(lambda: load_data(neo4j_store, data["v2"]), outcome, "load")]
    with _other_store(neo4j_settings) as other:
        def take_over():
            with other.load_lock("the takeover"):
                return journal_left(other)

        try:
            assert checked.wait(WAIT)
            threads.append(_in_thread(take_over, outcome, "takeover"))
            time.sleep(1.5)
            assert _owner(neo4j_store) == token[0]  # the takeover has not committed ...
            assert threads[1].is_alive()  # ... it waits for the held batch
        finally:
            go.set()
            for thread in threads:
                thread.join(WAIT)
            del neo4j_store._check_still_locked, neo4j_store._commit_batch
    assert not any(thread.is_alive() for thread in threads)
    assert outcome["takeover"] == 0
    assert isinstance(outcome["load"], StoreBusyError), outcome
    _assert_as_before(neo4j_store, before)  # the held batch's new nodes rolled back too


def test_a_batch_checking_after_a_takeover_aborts_and_nothing_of_the_load_is_left(
        neo4j_store, neo4j_settings, loaded_v1):
    data, before = loaded_v1
    written, go = threading.Event(), threading.Event()
    checks = 0
    original = neo4j_store._check_still_locked
    token: list[str] = []

    def check(tx, *args, **kwargs):
        nonlocal checks
        checks += 1
        if checks == 3:  # this batch's rows are written, not yet checked nor committed
            token.append(neo4j_store._lock_token)
            _expire_lease(neo4j_store)
            written.set()
            go.wait(WAIT)
        original(tx, *args, **kwargs)

    neo4j_store._check_still_locked = check
    outcome: dict = {}
    loading = _in_thread(lambda: load_data(neo4j_store, data["v2"]), outcome, "load")
    assert written.wait(WAIT)
    with _other_store(neo4j_settings) as other:
        def take_over():
            with other.load_lock("the takeover"):
                return journal_left(other)

        taking = _in_thread(take_over, outcome, "takeover")
        deadline = time.monotonic() + WAIT  # the takeover commits without waiting for it ...
        while _owner(neo4j_store) == token[0] and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _owner(neo4j_store) != token[0]
        go.set()  # ... and its recovery waits for the held batch's rows until it aborts
        taking.join(WAIT)
        loading.join(WAIT)
    assert not taking.is_alive() and not loading.is_alive()
    assert outcome["takeover"] == 0
    assert isinstance(outcome["load"], StoreBusyError), outcome
    assert "lost its hold" in str(outcome["load"])
    _assert_as_before(neo4j_store, before)


def test_a_load_taken_over_before_publishing_does_not_publish_during_the_recovery(
        neo4j_store, neo4j_settings, loaded_v1):
    """All its batches are in when its lease is taken over; the new holder starts rolling
    them back.  Publishing then (before: no check) told the load it had landed and showed
    readers its batches, which the recovery went on to roll back."""
    data, before = loaded_v1
    ready, go, rolling, carry_on = (threading.Event() for _ in range(4))
    original_write = neo4j_store._write
    paused: list[bool] = []

    def write(fn, *args):
        if getattr(fn, "__name__", "") in ("publish_batched_load", "_publish") and not paused:
            paused.append(True)  # the load's own publishing, not a rollback's
            _expire_lease(neo4j_store)
            ready.set()
            go.wait(WAIT)
        return original_write(fn, *args)

    neo4j_store._write = write
    outcome: dict = {}
    loading = _in_thread(lambda: load_data(neo4j_store, data["v2"]), outcome, "load")
    assert ready.wait(WAIT)
    with _other_store(neo4j_settings) as other:
        other_write = other._write

        def recovering_write(fn, *args):
            if (getattr(fn, "__name__", "") in ("<lambda>", "_restore_batch")
                    and not rolling.is_set()):
                rolling.set()  # the journal is read, the first rollback step is next
                carry_on.wait(WAIT)
            return other_write(fn, *args)

        other._write = recovering_write

        def take_over():
            with other.load_lock("the takeover"):
                return journal_left(other)

        taking = _in_thread(take_over, outcome, "takeover")
        assert rolling.wait(WAIT)
        go.set()  # the old load publishes now, in the middle of the recovery
        loading.join(WAIT)
        carry_on.set()
        taking.join(WAIT)
    assert not taking.is_alive() and not loading.is_alive()
    assert isinstance(outcome["load"], StoreBusyError), outcome  # it was rolled back
    assert outcome["takeover"] == 0
    _assert_as_before(neo4j_store, before)
    del neo4j_store._write
    load_data(neo4j_store, data["v2"])  # the same load again lands whole
    assert journal_left(neo4j_store) == 0
