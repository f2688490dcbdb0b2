"""Issue 18 item 3: a big Neo4j load commits its batches from two sessions at once, and is
still all or nothing.

A batched load's nodes, then its relationships, are committed from
:data:`pathways.store.neo4j_load.SESSIONS` sessions when a phase is big enough
(:data:`~pathways.store.neo4j_load.PARALLEL_ROWS`).  These tests make the commits small and
the threshold 1, so a few hundred rows take many commits from both sessions, then check the
graph equals the embedded store's, and that a load failing in one session is rolled back to
exactly the graph before it (nothing of it left, in either session's batches).
"""

from __future__ import annotations

import threading

import pytest

from pathways.errors import StoreUnavailableError
from pathways.store import neo4j_load
from queries import graph as q
from tests.conftest import load_data
from tests.integration.test_gaps_parity import described
from tests.integration.test_neo4j_batched_loads import expected_graph, raw_counts, versions

pytestmark = pytest.mark.neo4j
TINY_COMMIT = 100  # rows per transaction: the 300-activity graph takes ~20 commits


@pytest.fixture
def two_sessions(monkeypatch):
    monkeypatch.setattr(neo4j_load, "COMMIT_ROWS", TINY_COMMIT)
    monkeypatch.setattr(neo4j_load, "MIN_COMMIT_ROWS", 1)
    monkeypatch.setattr(neo4j_load, "SESSIONS", 2)
    monkeypatch.setattr(neo4j_load, "PARALLEL_ROWS", 1)


def journal_left(store) -> int:
    return store.driver.execute_query(
        "MATCH (m:PathwaysMeta) WHERE m.key = 'load_journal' OR m.loading IS NOT NULL"
        " RETURN count(m) AS c", database_=store.settings.database)[0][0]["c"]


def watch_commits(store, fail_after: int | None = None) -> dict:
    """Wrap the store's batch commit: which sessions committed (by thread name: each phase
    starts a fresh ``pathways-load-1`` thread beside the caller's, and a finished thread's
    ident may be reused or not), how many batches (of them relationships), and, with
    ``fail_after``, refuse every relationship batch once that many of them were committed
    (all the nodes are in by then)."""
    seen: dict = {"threads": set(), "committed": 0, "relationships": 0}
    lock = threading.Lock()
    original = store._commit_batch

    def commit(group, rows, progress, *more, **named):
        links = any(step.func is q.upsert_relationships for _, step in group)
        with lock:
            if links and fail_after is not None and seen["relationships"] >= fail_after:
                raise StoreUnavailableError("Neo4j refused this load (as a test)")
            seen["threads"].add(threading.current_thread().name)
        original(group, rows, progress, *more, **named)
        with lock:
            seen["committed"] += 1
            seen["relationships"] += links

    store._commit_batch = commit
    return seen


def test_a_two_session_load_lands_whole_and_equals_the_embedded_store(
        neo4j_store, two_sessions, tmp_path):
    data = versions()
    seen = watch_commits(neo4j_store)
    for version in ("v1", "v2"):  # v2 over v1: new, changed and kept nodes and links
        load_data(neo4j_store, data[version])
        assert described(neo4j_store.snapshot()) == expected_graph(tmp_path, data[version])
    assert len(seen["threads"]) == 2 and seen["committed"] > 10  # both sessions committed
    assert journal_left(neo4j_store) == 0


def test_a_two_session_load_that_fails_is_rolled_back_exactly(
        neo4j_store, two_sessions, tmp_path):
    data = versions()
    load_data(neo4j_store, data["v1"])
    before, counts, version = (described(neo4j_store.snapshot()), raw_counts(neo4j_store),
                               neo4j_store.version())
    seen = watch_commits(neo4j_store, fail_after=3)  # nodes in, some relationships too
    with pytest.raises(StoreUnavailableError, match="as a test"):
        load_data(neo4j_store, data["v2"])
    assert seen["relationships"] >= 3 and seen["committed"] > seen["relationships"]
    assert len(seen["threads"]) == 2
    assert raw_counts(neo4j_store) == counts  # nothing of either session's batches is left
    assert described(neo4j_store.snapshot()) == before  # every v1 name and link, no v2 one
    assert neo4j_store.version() != version  # caches keyed by version are not trusted
    assert journal_left(neo4j_store) == 0

    del neo4j_store._commit_batch  # the store's own again: the same load now lands whole
    load_data(neo4j_store, data["v2"])
    assert described(neo4j_store.snapshot()) == expected_graph(tmp_path, data["v2"])
