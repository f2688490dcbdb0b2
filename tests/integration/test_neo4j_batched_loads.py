"""Issue 18 item 3: Neo4j loads commit batch by batch, yet readers never see half a load.

A load of more rows than :data:`pathways.store.neo4j_load.COMMIT_ROWS` commits in batches under a
load marker and a journal; these tests make that limit small so a few hundred rows take
several commits, then fail a load, kill one with SIGKILL mid-way, and read meanwhile.  Also:
relationships no longer store what can be derived, and graphs loaded before that still read
and reload correctly.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from benchmarks.generate import generate
from loaders.living_db import plan_load
from pathways.errors import StoreBusyError, StoreUnavailableError
from pathways.store import neo4j as neo4j_module
from pathways.store import neo4j_load
from tests.conftest import load_data, tables_from
from tests.integration.test_gaps_parity import described

pytestmark = pytest.mark.neo4j
ROOT = Path(__file__).resolve().parents[2]
SMALL_COMMIT = 400  # rows per transaction in these tests: a 300-node graph takes ~5 commits


def versions() -> dict[str, dict[str, list[dict]]]:
    """v1: half the activities, every name "v1 ..."; v2: all of them, renamed "v2 ..."
    (so a v2 load over v1 changes nodes, adds nodes and relationships, keeps others)."""
    tables = generate(300, seed=3)
    kept = {a["id"] for a in tables["activities"][: len(tables["activities"]) // 2]}
    everything = {a["id"] for a in tables["activities"]}

    def named(version: str, data: dict) -> dict:
        return {t: [{**r, "name": f"{version} {r['name']}"} if r.get("name") else r for r in rows]
                for t, rows in data.items()}

    v1 = dict(tables)
    v1["activities"] = [a for a in tables["activities"] if a["id"] in kept]
    v1["relationships"] = [r for r in tables["relationships"]
                           if not ({r["source_id"], r["target_id"]} & (everything - kept))]
    return {"v1": named("v1", v1), "v2": named("v2", tables)}


@pytest.fixture
def small_commits(monkeypatch):
    monkeypatch.setattr(neo4j_load, "COMMIT_ROWS", SMALL_COMMIT)
    monkeypatch.setattr(neo4j_load, "MIN_COMMIT_ROWS", 1)


def raw_counts(store) -> tuple[int, int]:
    """What the database holds, read past the store (as no user can)."""
    records, _, _ = store.driver.execute_query(
        "RETURN COUNT { MATCH (n:Pathways) } AS nodes,"
        " COUNT { MATCH (:Pathways)-[]->(:Pathways) } AS rels",
        database_=store.settings.database)
    return records[0]["nodes"], records[0]["rels"]


def expected_graph(tmp_path, data) -> tuple[dict, dict]:
    from pathways.store.embedded import EmbeddedStore

    embedded = EmbeddedStore(tmp_path / f"expected-{len(data['activities'])}.json")
    load_data(embedded, data)
    return described(embedded.snapshot())


def test_a_load_bigger_than_one_commit_lands_whole(neo4j_store, small_commits, tmp_path):
    data = versions()
    commits: list[int] = []
    original = neo4j_store._commit_batch
    neo4j_store._commit_batch = lambda group, rows, progress: (
        commits.append(rows), original(group, rows, progress))
    for version in ("v1", "v2"):
        load_data(neo4j_store, data[version])
        assert described(neo4j_store.snapshot()) == expected_graph(tmp_path, data[version])
    assert len(commits) > 4 and max(commits) <= SMALL_COMMIT  # it did commit batch by batch
    assert neo4j_store.driver.execute_query(
        "MATCH (m:PathwaysMeta) WHERE m.key = 'load_journal' OR m.loading IS NOT NULL"
        " RETURN count(m) AS c", database_=neo4j_store.settings.database)[0][0]["c"] == 0


def test_a_load_that_fails_mid_way_is_rolled_back_whole(neo4j_store, small_commits, tmp_path):
    data = versions()
    load_data(neo4j_store, data["v1"])
    before, version = described(neo4j_store.snapshot()), neo4j_store.version()
    commits = 0
    original = neo4j_store._commit_batch

    def failing(group, rows, progress):
        nonlocal commits
        if commits == 3:  # three batches are committed: then the server refuses one
            raise StoreUnavailableError("Neo4j refused this load (as a test)")
        commits += 1
        original(group, rows, progress)

    neo4j_store._commit_batch = failing
    with pytest.raises(StoreUnavailableError, match="as a test"):
        load_data(neo4j_store, data["v2"])
    assert commits == 3
    assert described(neo4j_store.snapshot()) == before  # every v1 name, no v2 node
    assert neo4j_store.version() != version  # caches keyed by version are not trusted
    neo4j_store._commit_batch = original
    load_data(neo4j_store, data["v2"])
    assert described(neo4j_store.snapshot()) == expected_graph(tmp_path, data["v2"])


KILLED_LOAD = """
import sys, time
from pathways.config import Neo4jSettings
from pathways.store import neo4j as m, neo4j_load
from tests.integration.test_neo4j_batched_loads import versions, SMALL_COMMIT
from tests.conftest import load_data

neo4j_load.COMMIT_ROWS, neo4j_load.MIN_COMMIT_ROWS = SMALL_COMMIT, 1
store = m.Neo4jStore(Neo4jSettings(*sys.argv[1:5]))
original = store._commit_batch
done = 0
def announced(group, rows, progress):
    global done
    original(group, rows, progress)
    done += 1
    print(f"committed {done}", flush=True)
    if done == 3:
        time.sleep(600)  # killed here, three batches in
store._commit_batch = announced
load_data(store, versions()["v2"])
"""


def test_a_killed_load_is_never_half_visible_and_a_rerun_completes_it(
        neo4j_store, neo4j_settings, small_commits, tmp_path):
    data = versions()
    load_data(neo4j_store, data["v1"])
    old_graph = described(neo4j_store.snapshot())
    old_counts = raw_counts(neo4j_store)
    s = neo4j_settings
    loader = subprocess.Popen(
        [sys.executable, "-c", KILLED_LOAD, s.uri, s.user, s.password, s.database],
        cwd=ROOT, stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    seen: list[object] = []

    def reader():
        try:
            seen.append(described(neo4j_store.snapshot()))
        except StoreBusyError as exc:
            seen.append(exc)

    try:
        assert loader.stdout is not None
        for line in loader.stdout:
            if line.strip() == "committed 3":
                break
        else:
            pytest.fail(f"the load ended before its third batch (exit {loader.wait()})")
        assert raw_counts(neo4j_store) != old_counts, "three batches are in the database"
        waiting = threading.Thread(target=reader)
        waiting.start()  # a reader arriving mid-load waits for it ...
        time.sleep(1.5)
        assert waiting.is_alive() and not seen
        os.kill(loader.pid, signal.SIGKILL)  # ... and the load dies
        loader.wait(30)
        waiting.join(30)
    finally:
        if loader.poll() is None:
            loader.kill()
            loader.wait()
    assert len(seen) == 1
    # never half a load: the reader is told the load was interrupted, and every later read is
    assert isinstance(seen[0], StoreBusyError) and "interrupted" in str(seen[0]), seen
    with pytest.raises(StoreBusyError, match="run the load again"):
        neo4j_store.stats()
    assert raw_counts(neo4j_store) != old_counts  # (the half-load is there, held back)

    # Running the same load again (as `pathways load` does: the lock first, then planning)
    # rolls back the dead one and completes it.
    with neo4j_store.load_lock():
        summary = load_data(neo4j_store, data["v2"])
    assert summary.nodes_new > 0 and summary.nodes_changed > 0
    assert described(neo4j_store.snapshot()) == expected_graph(tmp_path, data["v2"])
    assert old_graph != expected_graph(tmp_path, data["v2"])


def test_a_killed_load_rolled_back_by_another_load_leaves_the_old_graph_plus_that_load(
        neo4j_store, neo4j_settings, small_commits, tmp_path):
    """The next load after a dead one need not be the same: the dead one's batches are rolled
    back first, so the graph is the old one plus the new load, nothing of the dead one."""
    data = versions()
    load_data(neo4j_store, data["v1"])
    s = neo4j_settings
    loader = subprocess.Popen(
        [sys.executable, "-c", KILLED_LOAD, s.uri, s.user, s.password, s.database],
        cwd=ROOT, stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        assert loader.stdout is not None
        for line in loader.stdout:
            if line.strip() == "committed 3":
                break
        os.kill(loader.pid, signal.SIGKILL)
        loader.wait(30)
    finally:
        if loader.poll() is None:
            loader.kill()
            loader.wait()
    extra = {"people": [{"id": "lw-new", "name": "New Worker", "role": "link_worker"}]}
    with neo4j_store.load_lock():
        load_data(neo4j_store, extra)
    want = {t: list(rows) for t, rows in data["v1"].items()}
    want["people"] = want["people"] + extra["people"]
    assert described(neo4j_store.snapshot()) == expected_graph(tmp_path, want)


# ---- relationships keep provenance, not what can be derived --------------------------------
def stored_rel_keys(store) -> set[str]:
    records, _, _ = store.driver.execute_query(
        "MATCH (:Pathways)-[r]->(:Pathways) UNWIND keys(r) AS k RETURN collect(DISTINCT k) AS ks",
        database_=store.settings.database)
    return set(records[0]["ks"])


def test_relationships_store_provenance_and_hash_but_read_back_whole(neo4j_store, tmp_path):
    data = versions()["v1"]
    load_data(neo4j_store, data)
    keys = stored_rel_keys(neo4j_store)
    assert {"source", "content_hash"} <= keys
    assert not keys & {"source_id", "loaded_at"}
    # read back as the embedded store holds them (the derived id given back)
    assert described(neo4j_store.snapshot()) == expected_graph(tmp_path, data)
    some = data["relationships"][0]["source_id"]
    links = neo4j_store.relationships_from([some])
    assert links and all(p["source_id"] == f"{s}|{t.value}|{d}" and p["source"]
                         for s, t, d, p in links)


def test_a_graph_loaded_with_the_old_relationship_properties_reads_and_reloads(
        neo4j_store, tmp_path):
    data = versions()["v1"]
    load_data(neo4j_store, data)
    # as an older version of the loader wrote every relationship
    neo4j_store.driver.execute_query(
        "MATCH (a:Pathways)-[r]->(b:Pathways)"
        " SET r.source_id = a.id + '|' + type(r) + '|' + b.id, r.loaded_at = $at",
        at="2025-01-01T00:00:00+00:00", database_=neo4j_store.settings.database)
    assert {"source_id", "loaded_at"} <= stored_rel_keys(neo4j_store)
    assert described(neo4j_store.snapshot()) == expected_graph(tmp_path, data)
    again = load_data(neo4j_store, data)
    assert (again.rels_new, again.rels_changed) == (0, 0)  # the same data: nothing rewritten
    changed = {t: list(rows) for t, rows in data.items()}
    first = changed["relationships"][0]
    changed["relationships"][0] = {**first, "notes": "changed"}
    summary = load_data(neo4j_store, changed)
    assert (summary.rels_new, summary.rels_changed) == (0, 1)
    assert described(neo4j_store.snapshot()) == expected_graph(tmp_path, changed)
    records, _, _ = neo4j_store.driver.execute_query(
        "MATCH (a:Pathways {id: $s})-[r]->(b:Pathways {id: $t}) RETURN keys(r) AS ks",
        s=first["source_id"], t=first["target_id"], database_=neo4j_store.settings.database)
    assert "loaded_at" not in records[0]["ks"] and "notes" in records[0]["ks"]


# ---- a server with little transaction memory still takes a load of any size -----------------
@pytest.fixture(scope="module")
def tight_server(tmp_path_factory):
    """A server whose transactions may use 48 MiB: about 11,000 rows at the store's estimate."""
    from pathways import neo4j_runtime as rt
    from pathways.config import Neo4jSettings

    info = rt.start_server(home=tmp_path_factory.mktemp("tight-neo4j"), heap="512m",
                           settings={"db.memory.transaction.max": "48MiB"},
                           dies_with_caller=True)
    try:
        yield Neo4jSettings(info.uri, info.user, info.password, "neo4j")
    finally:
        rt.stop_server(info, remove_home=True)


def test_a_load_beyond_one_transaction_of_the_server_lands_in_batches(tight_server):
    tables = generate(5_000, seed=2)  # ~28,000 rows: twice what one transaction may hold
    plan = plan_load(tables_from(tables), {})
    rows = len(plan.nodes) + len(plan.rels)
    with neo4j_module.Neo4jStore(tight_server) as store:
        budget = store.transaction_budget()
        assert budget is not None and rows * neo4j_module.TX_BYTES_PER_ROW > 2 * budget
        summary = store.write(plan.nodes, plan.rels)
        assert (summary.nodes_new, summary.rels_new) == (len(plan.nodes), len(plan.rels))
        stats = store.stats()
        assert sum(stats["nodes"].values()) == len(plan.nodes)
        assert sum(stats["relationships"].values()) == len(plan.rels)
