"""Neo4j under pressure: big loads, out-of-memory, refused values, two writers, crashes, a
malicious web page.

Every test runs on a real Neo4j 5.26 (the session's local server unless ``NEO4J_URI`` is
set); the crash test starts and kills its own.
"""

from __future__ import annotations

import functools
import json
import os
import random
import signal
import socket
import stat
import subprocess
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from benchmarks.generate import generate
from loaders.living_db import plan_load
from pathways.errors import StoreBusyError, StoreUnavailableError
from pathways.loading import load_paths
from pathways.model import CONTENT_HASH, NodeKind, NodeRecord
from pathways.store.base import PathwayFilter
from tests.conftest import load_data, tables_from, write_folder

pytestmark = pytest.mark.neo4j


def _counts(store) -> tuple[int, int]:
    stats = store.stats()
    return sum(stats["nodes"].values()), sum(stats["relationships"].values())


def _other_store(settings):
    """A second connection, as a second `pathways load` process would open."""
    from pathways.store.neo4j import Neo4jStore

    return Neo4jStore(settings)


def _set_lock(store, **fields) -> None:
    store.driver.execute_query(
        "MERGE (l:PathwaysMeta {key: 'load_lock'}) SET l += $fields", fields=fields,
        database_=store.settings.database)


SMALL = {
    "people": [["id", "name", "role"], ["lw", "Lee Walker", "link_worker"]],
    "services": [["id", "name"], ["svc", "Arts on Prescription"]],
    "relationships": [["source_id", "type", "target_id"], ["lw", "REFERS_TO", "svc"]],
}
OTHER = {
    "people": [["id", "name", "role"], ["lw2", "Pat Other", "link_worker"]],
    "services": [["id", "name"], ["svc2", "Walking Group"]],
    "relationships": [["source_id", "type", "target_id"], ["lw2", "REFERS_TO", "svc2"]],
}


# ---- item 5: a 100k load on the default local server ------------------------------------
def test_a_100k_node_load_completes_on_the_default_local_server(neo4j_store):
    """The README's 100k example on the default local server: every node and relationship
    lands (committed in batches under a load marker, see test_neo4j_batched_loads.py)."""
    tables = generate(100_000, seed=7)
    plan = plan_load(tables_from(tables), {})
    assert not plan.problems
    summary = neo4j_store.write(plan.nodes, plan.rels)
    assert (summary.nodes_new, summary.rels_new) == (len(plan.nodes), len(plan.rels))
    want_nodes = {kind.value: 0 for kind in NodeKind}
    for node in plan.nodes:
        want_nodes[node.kind.value] += 1
    stats = neo4j_store.stats()
    assert stats["nodes"] == want_nodes
    assert sum(stats["nodes"].values()) == len(plan.nodes) >= 99_000
    assert sum(stats["relationships"].values()) == len(plan.rels) > 400_000


# ---- items 5 and 7: Neo4j's refusals become plain messages, nothing written ------------------
@pytest.fixture(scope="module")
def small_server(tmp_path_factory):
    """A server of its own whose transactions may use 4 MiB (Neo4j's own limit).

    Its password begins with "-": ``neo4j-admin`` once read such a password as an option and
    refused to start (one random password in 64 did)."""
    from pathways import neo4j_runtime as rt
    from pathways.config import Neo4jSettings

    info = rt.start_server(home=tmp_path_factory.mktemp("small-neo4j"), heap="512m",
                           password="-" + rt.new_password(),
                           settings={"db.memory.transaction.max": "4MiB"})
    try:
        yield Neo4jSettings(info.uri, info.user, info.password, "neo4j")
    finally:
        rt.stop_server(info)


def test_a_load_beyond_neo4j_transaction_memory_is_a_plain_message(small_server):
    with _other_store(small_server) as store:
        load_data(store, {"people": [{"id": "keep", "name": "Kept", "role": "link_worker"}]})
        before = store.version()
        began = time.monotonic()
        with pytest.raises(StoreUnavailableError) as caught:
            load_data(store, generate(300, seed=1))  # about 1,700 rows: passes the estimate
        seconds = time.monotonic() - began
        message = str(caught.value)
        assert "Neo4j ran out of memory" in message and "nothing was written" in message
        assert "rows in one transaction" in message
        assert "server.memory.heap.max_size" in message  # not the local server: its settings
        assert _counts(store) == (1, 0)  # only what was there before
        assert store.version() == before
        assert seconds < 25, "a load that ran out of memory was retried"  # retries take 30 s


def test_a_load_that_cannot_fit_is_refused_before_writing(small_server):
    with _other_store(small_server) as store:
        store.reset()
        with pytest.raises(StoreUnavailableError) as caught:
            load_data(store, generate(2_000, seed=1))  # about 11,000 rows: 4 MiB cannot hold them
        message = str(caught.value)
        assert "too big for the Neo4j server's memory" in message
        assert "nothing was written" in message and "it allows 4 MB" in message
        assert _counts(store) == (0, 0)


def test_an_id_too_long_for_neo4j_index_is_a_plain_message(neo4j_store):
    """The loaders cap ids; the store still never lets Neo4j's refusal out as a traceback."""
    long_id = "x" * 40_000
    node = NodeRecord(NodeKind.PERSON, long_id,
                      {"id": long_id, "name": "Long", "role": "link_worker", CONTENT_HASH: "h"},
                      "people.csv", 2)
    with pytest.raises(StoreUnavailableError) as caught:
        neo4j_store.write([node], [])
    assert "nothing was written" in str(caught.value)
    assert "Neo4j" in str(caught.value)
    assert _counts(neo4j_store) == (0, 0)


# ---- item 2: one writer at a time -------------------------------------------------------
def test_a_second_load_while_one_holds_the_lock_is_refused_naming_the_holder(
        neo4j_store, neo4j_settings, tmp_path):
    small = write_folder(tmp_path / "small", SMALL)
    with _other_store(neo4j_settings) as second:
        with neo4j_store.load_lock("the first load"), pytest.raises(StoreBusyError) as caught:
            load_paths(second, [small])
        message = str(caught.value)
        assert "another load is running on this store" in message
        assert f"by pid {os.getpid()} on host {socket.gethostname()}" in message
        assert "the first load" in message and "nothing was written" in message
        assert _counts(neo4j_store) == (0, 0)
        load_paths(second, [small])  # once released, it goes in
    assert _counts(neo4j_store) == (2, 1)


def test_two_loads_at_once_one_succeeds_and_the_store_holds_exactly_it(
        neo4j_store, neo4j_settings, tmp_path):
    folders = {"first": write_folder(tmp_path / "first", SMALL),
               "second": write_folder(tmp_path / "second", OTHER)}
    first_planned, second_tried = threading.Event(), threading.Event()
    outcome: dict[str, object] = {}

    def first():
        with _other_store(neo4j_settings) as store:
            def on_plan(_plan):  # inside the lock, between planning and writing
                first_planned.set()
                second_tried.wait(60)
            try:
                outcome["first"] = load_paths(store, [folders["first"]], on_plan=on_plan)
            except StoreBusyError as exc:
                outcome["first"] = exc

    def second():
        first_planned.wait(60)
        with _other_store(neo4j_settings) as store:
            try:
                outcome["second"] = load_paths(store, [folders["second"]])
            except StoreBusyError as exc:
                outcome["second"] = exc
            finally:
                second_tried.set()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert isinstance(outcome["second"], StoreBusyError), outcome
    assert not isinstance(outcome["first"], Exception), outcome
    assert set(neo4j_store.snapshot().nodes) == {"lw", "svc"}  # exactly the winner's rows


def test_a_write_that_lost_its_lock_commits_nothing(neo4j_store, tmp_path):
    small = write_folder(tmp_path / "small", SMALL)

    def taken_over(_plan):  # as if this load stalled past its lease and another took over
        _set_lock(neo4j_store, owner="someone-else", host="elsewhere", pid=1,
                  expires=int(time.time() * 1000) + 600_000)

    with pytest.raises(StoreBusyError) as caught:
        load_paths(neo4j_store, [small], on_plan=taken_over)
    assert "lost its hold" in str(caught.value) and "nothing was written" in str(caught.value)
    assert _counts(neo4j_store) == (0, 0)
    _set_lock(neo4j_store, expires=0)  # expire it again for the next tests


def test_a_lock_left_by_a_dead_process_on_this_host_is_taken_over(neo4j_store, tmp_path):
    dead = subprocess.Popen(["true"])
    dead.wait()
    _set_lock(neo4j_store, owner="crashed-load", host=socket.gethostname(), pid=dead.pid,
              what="a load", started=int(time.time() * 1000),
              expires=int(time.time() * 1000) + 600_000)
    load_paths(neo4j_store, [write_folder(tmp_path / "small", SMALL)])
    assert _counts(neo4j_store) == (2, 1)


def test_a_lock_from_another_host_blocks_until_its_lease_expires(neo4j_store, tmp_path):
    small = write_folder(tmp_path / "small", SMALL)
    now = int(time.time() * 1000)
    _set_lock(neo4j_store, owner="remote-load", host="another-host", pid=4242, what="a load",
              started=now, expires=now + 600_000)
    with pytest.raises(StoreBusyError) as caught:
        load_paths(neo4j_store, [small])
    assert "by pid 4242 on host another-host" in str(caught.value)
    _set_lock(neo4j_store, expires=now - 1)  # its lease ran out (the remote load died)
    load_paths(neo4j_store, [small])
    assert _counts(neo4j_store) == (2, 1)


def test_a_long_load_keeps_its_lock_by_renewing_the_lease(neo4j_store, neo4j_settings):
    # renewed every 0.3 s: a renewal may be late by most of a lease (a loaded 2-core box, the
    # JVM's pauses) and the lease still held; without renewing it expires at 3 s of the 7.5
    neo4j_store.lock_lease_seconds = 3.0
    with neo4j_store.load_lock("a long load"):
        time.sleep(7.5)  # two and a half leases
        with _other_store(neo4j_settings) as second, pytest.raises(StoreBusyError), second.load_lock():
            pass


def test_the_lock_is_not_data(neo4j_store, neo4j_settings, tmp_path):
    load_paths(neo4j_store, [write_folder(tmp_path / "small", SMALL)])
    with neo4j_store.load_lock():
        assert _counts(neo4j_store) == (2, 1)
        assert set(neo4j_store.snapshot().nodes) == {"lw", "svc"}
        # Not a node the test fixture's "this database holds someone's data" check counts.
        records, _, _ = neo4j_store.driver.execute_query(
            "MATCH (n) WHERE NOT (n:Pathways OR n:PathwaysMeta) RETURN count(n) AS c",
            database_=neo4j_settings.database)
        assert records[0]["c"] == 0
        with _other_store(neo4j_settings) as second, pytest.raises(StoreBusyError):
            second.reset()  # emptying the store is a write too: not during a load
    assert _counts(neo4j_store) == (2, 1)


# ---- item 10: readers see one version ----------------------------------------------------
def test_readers_never_see_half_a_reload(neo4j_store):
    tables = generate(300, seed=3)
    versions = {}
    for version in ("v1", "v2"):
        versions[version] = {
            table: [{**row, "name": f"{version} {row['name']}"} if row.get("name") else row
                    for row in rows]
            for table, rows in tables.items()}
    load_data(neo4j_store, versions["v1"])
    workers = [p["id"] for p in tables["people"] if p["role"] == "link_worker"]
    done = threading.Event()
    seen: list[set[str]] = []
    failures: list[BaseException] = []

    def reads(worker):
        paths = neo4j_store.pathway_candidates(worker, 4, PathwayFilter())
        details = neo4j_store.activity_details([path[-1]["id"] for path in paths])
        return paths, details

    def reader():
        rng = random.Random(1)
        try:
            while not done.is_set():
                worker = rng.choice(workers)
                paths, details = neo4j_store.consistent(functools.partial(reads, worker))
                names = {node["name"] for path in paths for node in path}
                names |= {d["name"] for d in details.values()}
                names |= {n for d in details.values() for n in d["providers"] + d["needs"]}
                seen.append({name.split()[0] for name in names})
        except BaseException as exc:
            failures.append(exc)

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for round_ in range(8):
            load_data(neo4j_store, versions["v2" if round_ % 2 == 0 else "v1"])
            time.sleep(0.2)  # loads one after another, not one long stream of commits
    finally:
        done.set()
        thread.join(60)
    assert not failures, failures
    mixed = [names for names in seen if len(names) > 1]
    assert not mixed, f"{len(mixed)} of {len(seen)} answers mixed old and new names"
    assert {"v1"} in seen and {"v2"} in seen, "no reload landed while reading"


# ---- items 6 and 9: the local server, through the CLI ------------------------------------
@pytest.fixture
def local_home(tmp_path, monkeypatch):
    monkeypatch.setenv("PATHWAYS_HOME", str(tmp_path / "home"))
    for name in ("NEO4J_URI", "NEO4J_USER", "NEO4J_PASSWORD", "NEO4J_DATABASE"):
        monkeypatch.delenv(name, raising=False)
    from pathways import neo4j_runtime as rt

    yield tmp_path / "home"
    recorded = rt.recorded_state()
    if recorded:
        rt.stop_server(recorded)


def _cli(*args):
    from pathways.cli import cli

    result = CliRunner().invoke(cli, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result


def _stats() -> dict:
    result = _cli("--store", "neo4j", "stats", "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_start_after_a_crash_recovers_the_database_and_says_so(local_home, demo_dir):
    from pathways import neo4j_runtime as rt

    started = _cli("neo4j", "start")
    assert started.exit_code == 0, started.output
    assert _cli("--store", "neo4j", "load", str(demo_dir)).exit_code == 0
    crashed = rt.running_state()
    loaded = _stats()
    assert sum(loaded["nodes"].values()) == 140
    os.kill(crashed["pid"], signal.SIGKILL)  # the JVM dies mid-flight
    deadline = time.monotonic() + 30
    while rt.running_state() is not None:
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert "recovers it" in _cli("neo4j", "status").output

    again = _cli("neo4j", "start")
    assert again.exit_code == 0, again.output
    assert (f"Recovered the database from the previous server at {crashed['home']};"
            " 140 nodes") in again.output
    assert rt.running_state()["home"] == crashed["home"]
    assert _stats() == loaded  # every node and relationship

    fresh = rt.running_state()
    os.kill(fresh["pid"], signal.SIGKILL)
    while rt.running_state() is not None:
        time.sleep(0.2)
    emptied = _cli("neo4j", "start", "--fresh")
    assert emptied.exit_code == 0 and "Recovered" not in emptied.output
    assert not Path(crashed["home"]).exists()  # --fresh deleted the crashed server's data
    assert sum(_stats()["nodes"].values()) == 0


def test_each_local_server_has_its_own_secret_password(local_home):
    from pathways import neo4j_runtime as rt

    started = _cli("neo4j", "start")
    first = json.loads(rt.state_file().read_text())
    assert first["password"] not in started.output
    assert first["password"] != "pathways-dev" and len(first["password"]) >= 32
    assert stat.S_IMODE(rt.state_file().stat().st_mode) == 0o600
    assert stat.S_IMODE(rt.state_file().parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(Path(first["home"]).stat().st_mode) == 0o700
    assert _cli("neo4j", "stop").exit_code == 0
    _cli("neo4j", "start")
    second = json.loads(rt.state_file().read_text())
    assert second["password"] != first["password"]
    restarted = _cli("neo4j", "restart")  # e.g. with a larger PATHWAYS_NEO4J_HEAP
    assert restarted.exit_code == 0 and "Restarted Neo4j" in restarted.output, restarted.output
    after = json.loads(rt.state_file().read_text())
    assert (after["home"], after["password"]) == (second["home"], second["password"])
    assert after["pid"] != second["pid"] and rt.running_state() is not None


@pytest.mark.browser
def test_a_web_page_cannot_open_a_websocket_to_the_local_bolt_port(neo4j_settings,
                                                                    browser_available):
    """Neo4j serves Bolt over WebSocket to any web origin; a browser must never reach it.

    Recent Chromium also asks the user before a public page reaches a loopback address
    ("local network access"); that check is turned off here, as in Firefox, Safari, older
    Chrome, or after a user clicked "Allow", so the port itself must refuse."""
    from selenium import webdriver

    from tests.integration.conftest import pytest_setup_options

    if os.environ.get("NEO4J_URI"):
        pytest.skip("an external Neo4j: its ports are not ours to choose")
    port = int(neo4j_settings.uri.rsplit(":", 1)[1])
    options = pytest_setup_options()
    options.add_argument("--disable-features=LocalNetworkAccessChecks,"
                         "PrivateNetworkAccessChecks,BlockInsecurePrivateNetworkRequests")
    browser = webdriver.Chrome(options=options)
    try:
        browser.get("data:text/html,<title>a page from https://evil.example</title>")
        outcome = browser.execute_async_script(
            """const done = arguments[arguments.length - 1];
            try {
              const ws = new WebSocket('ws://127.0.0.1:' + arguments[0] + '/');
              ws.onopen = () => done('open');
              ws.onerror = () => done('error');
            } catch (e) { done('refused: ' + e); }""", port)
        log = " ".join(entry["message"] for entry in browser.get_log("browser"))
    finally:
        browser.quit()
    assert outcome != "open"
    assert "ERR_UNSAFE_PORT" in log  # refused by the browser before any byte reached Neo4j
