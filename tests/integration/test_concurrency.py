"""Loads and readers at the same time, as real processes: no load is ever lost silently, and
readers see the graph before or after a load, never a mixture.

Loads run as ``pathways load`` processes on the same store (same ``PATHWAYS_HOME``, or the
same Neo4j); readers are threads sharing one store object, as the app's are.
"""

from __future__ import annotations

import fcntl
import functools
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from benchmarks.generate import generate, write
from pathways.store.base import PathwayFilter
from pathways.store.embedded import EmbeddedStore
from tests.conftest import write_folder

ROOT = Path(__file__).resolve().parents[2]
PATHWAYS = ROOT / ".venv" / "bin" / "pathways"
if not PATHWAYS.exists():
    PATHWAYS = Path(sys.executable).with_name("pathways")
BUSY = "another load is running on this store"
SECOND = {  # the small load of the bug report: "2 new", then nothing of it in the store
    "people": [["id", "name", "role"], ["second-lw", "Second Link Worker", "link_worker"]],
    "services": [["id", "name"], ["second-svc", "Second Service"]],
    "relationships": [["source_id", "type", "target_id"],
                      ["second-lw", "REFERS_TO", "second-svc"]],
}
SECOND_IDS = {"second-lw", "second-svc"}


def _living_db(folder: Path, size: int) -> tuple[Path, set[str]]:
    tables = generate(size, seed=5)
    write(tables, folder)
    return folder, {r["id"] for t, rows in tables.items() if t != "relationships" for r in rows}


@pytest.fixture(scope="module")
def big(tmp_path_factory) -> tuple[Path, set[str]]:
    """A 20k-node Living Database (an embedded load takes seconds) and its node ids."""
    return _living_db(tmp_path_factory.mktemp("big") / "data", 20_000)


@pytest.fixture(scope="module")
def medium(tmp_path_factory) -> tuple[Path, set[str]]:
    """4k nodes: a Neo4j load of them takes seconds too."""
    return _living_db(tmp_path_factory.mktemp("medium") / "data", 4_000)


@pytest.fixture(scope="module")
def versions(tmp_path_factory) -> tuple[Path, Path, list[str]]:
    """One 2k-node graph twice: every name starts "v1 " in one folder, "v2 " in the other."""
    base = tmp_path_factory.mktemp("versions")
    tables = generate(2_000, seed=9)
    for version in ("v1", "v2"):
        for rows in tables.values():
            for row in rows:
                if row.get("name"):
                    row["name"] = f"{version} {row['name'].removeprefix('v1 ')}"
        write(tables, base / version)
    workers = [p["id"] for p in tables["people"] if p["role"] == "link_worker"]
    return base / "v1", base / "v2", workers


@pytest.fixture(params=["embedded", pytest.param("neo4j", marks=pytest.mark.neo4j)])
def target(request, tmp_path):
    """(environment for ``pathways`` processes, a store object on the same data)."""
    env = dict(os.environ, PATHWAYS_HOME=str(tmp_path / "home"), PATHWAYS_STORE=request.param)
    if request.param == "embedded":
        return env, EmbeddedStore(tmp_path / "home" / "graph.json")
    store = request.getfixturevalue("neo4j_store")
    settings = request.getfixturevalue("neo4j_settings")
    env.update(NEO4J_URI=settings.uri, NEO4J_USER=settings.user,
               NEO4J_PASSWORD=settings.password, NEO4J_DATABASE=settings.database)
    return env, store


def start_load(env: dict, folder: Path) -> subprocess.Popen:
    return subprocess.Popen([str(PATHWAYS), "load", str(folder)], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def finish(process: subprocess.Popen, timeout: float = 600) -> tuple[int, str, str]:
    out, err = process.communicate(timeout=timeout)
    return process.returncode, out, err


def ids_in(store) -> set[str]:
    return set(store.snapshot().nodes)


def lock_held(lock: Path) -> bool:
    """Whether a process holds the OS lock (``flock``) on ``lock``: asked of the kernel, not
    of the product's own check."""
    fd = os.open(lock, os.O_RDONLY | os.O_CLOEXEC)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # drops the lock if this probe took it
    return False


def test_second_load_while_one_runs_is_refused_and_nothing_is_lost(tmp_path, big):
    folder, big_ids = big
    home = tmp_path / "home"
    env = dict(os.environ, PATHWAYS_HOME=str(home), PATHWAYS_STORE="embedded")
    small = write_folder(tmp_path / "second", SECOND)
    first = start_load(env, folder)
    lock = home / "graph.json.lock"
    deadline = time.monotonic() + 120
    while f'"pid": {first.pid}' not in (lock.read_text() if lock.exists() else ""):
        assert first.poll() is None, "the first load ended without ever holding the store's lock"
        assert time.monotonic() < deadline, "the first load never held the store's lock"
        time.sleep(0.01)
    # The second load has to reach its lock check (Python's start-up, imports) while the first
    # still holds the lock, and on a busy box the first could finish before that.  So the first
    # is stopped (SIGSTOP) while it holds the lock, and continued once the second has answered.
    # A stopped process keeps its flock: the embedded lock has no lease, expiry or heartbeat
    # that stopping could let run out (pathways/store/embedded.py, load_lock); it is the same
    # store, held, frozen in the middle of a load.  The kernel is asked, before and after,
    # that the lock really was held throughout.
    os.kill(first.pid, signal.SIGSTOP)
    try:
        assert lock_held(lock), "the first load let go of the lock before it could be stopped"
        second = start_load(env, small)
        try:
            code, out, err = finish(second, timeout=300)
        except subprocess.TimeoutExpired:
            second.kill()
            second.communicate()
            pytest.fail("the second load waited for the first's lock instead of being refused")
        assert lock_held(lock), "the lock was let go of while its holder was stopped"
    finally:
        os.kill(first.pid, signal.SIGCONT)
    assert code == 1, (out, err)
    assert f"{BUSY} (pid {first.pid}, started " in err
    assert "nothing was written" in err and "Traceback" not in err
    assert "Loaded" not in out

    code, out, err = finish(first)
    assert code == 0, err
    assert ids_in(EmbeddedStore(home / "graph.json")) == big_ids  # exactly the winner's rows

    code, out, err = finish(start_load(env, small))  # once the first is done, it goes in
    assert code == 0, err
    assert "nodes: 2 new" in out
    assert ids_in(EmbeddedStore(home / "graph.json")) == big_ids | SECOND_IDS


def test_overlapping_loads_are_each_done_or_refused_never_lost(tmp_path, request, target):
    env, store = target
    folder, big_ids = request.getfixturevalue("big" if store.name == "embedded" else "medium")
    small = write_folder(tmp_path / "second", SECOND)
    # How long each takes alone, so the small load can be made to land in every phase of
    # the big one, including its last second (write and save), where a lost update hides.
    began = time.monotonic()
    assert finish(start_load(env, folder))[0] == 0
    big_seconds = time.monotonic() - began
    began = time.monotonic()
    assert finish(start_load(env, small))[0] == 0
    small_seconds = time.monotonic() - began
    outcomes = []
    shares = (0, 0.84, 0.9, 0.96) if store.name == "embedded" else (0, 0.9)  # Neo4j: slower
    for share in shares:
        delay = max(0.0, share * big_seconds - small_seconds)
        store.reset()
        loads = {"big": start_load(env, folder)}
        time.sleep(delay)
        loads["small"] = start_load(env, small)
        results = {name: finish(process) for name, process in loads.items()}
        present = ids_in(store)
        for name, ids in (("big", big_ids), ("small", SECOND_IDS)):
            code, _out, err = results[name]
            assert "Traceback" not in err
            if code == 0:
                assert ids <= present, f"the {name} load said it loaded, but its rows are missing"
            else:
                assert code == 1 and BUSY in err, err
                assert not ids & present, f"the refused {name} load left rows behind"
            outcomes.append((name, code))
    assert any(code == 0 for _, code in outcomes)


def _names(answer) -> set[str]:
    paths, details = answer
    found = {node["name"] for path in paths for node in path}
    for info in details.values():
        found |= {info["name"], *info["providers"], *info["localities"], *info["needs"]}
    return {name.split()[0] for name in found}


def test_readers_see_one_version_while_loads_rename_everything(versions, target):
    env, store = target
    v1, v2, workers = versions
    assert subprocess.run([str(PATHWAYS), "load", str(v1)], env=env,
                          capture_output=True).returncode == 0
    loader = subprocess.Popen(
        [sys.executable, "-c", (
            "import subprocess, sys\n"
            "for i in range(8):\n"
            "    done = subprocess.run([sys.argv[1], 'load', sys.argv[2 + i % 2]],"
            " capture_output=True, text=True)\n"
            "    if done.returncode: sys.exit(done.stderr)\n"),
         str(PATHWAYS), str(v2), str(v1)],
        env=env, stderr=subprocess.PIPE, text=True)
    seen: list[set[str]] = []
    failures: list[BaseException] = []

    def two_reads(worker):
        paths = store.pathway_candidates(worker, 4, PathwayFilter())
        return paths, store.activity_details([path[-1]["id"] for path in paths])

    def reader(seed):
        rng = random.Random(seed)
        try:
            while loader.poll() is None:
                worker = rng.choice(workers)
                seen.append(_names(store.consistent(functools.partial(two_reads, worker))))
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=reader, args=(seed,)) for seed in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)
    assert loader.wait() == 0, loader.stderr.read()
    assert not failures, failures
    mixed = [names for names in seen if len(names) > 1]
    assert not mixed, f"{len(mixed)} of {len(seen)} answers mixed old and new names"
    versions_seen = {frozenset(names) for names in seen}
    assert {frozenset({"v1"}), frozenset({"v2"})} <= versions_seen, "no load landed during reads"
