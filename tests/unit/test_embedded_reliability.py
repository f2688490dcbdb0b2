"""The embedded store under faults and concurrency: one writer at a time, whole answers for
readers, plain messages for a full disk or a read-only home, no debris after a kill.

Faults are real where the machine allows it: a tiny tmpfs for "disk full", a read-only
mount (as root) or a read-only folder (otherwise) for "read-only home", ``kill -9`` of a
real ``pathways load``.  Where a real full disk cannot be had, the operating system's
``write`` is made to fail with ENOSPC (fault injection of one system call, nothing else).
"""

from __future__ import annotations

import contextlib
import errno
import gc
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
from pathways import gcpause
from pathways.errors import StoreBusyError, StoreUnavailableError
from pathways.store import embedded
from pathways.store.base import PathwayFilter
from pathways.store.embedded import EmbeddedStore
from tests.conftest import load_data, write_folder

ROOT = Path(__file__).resolve().parents[2]
PATHWAYS = ROOT / ".venv" / "bin" / "pathways"
if not PATHWAYS.exists():  # an installed script elsewhere (another venv)
    PATHWAYS = Path(sys.executable).with_name("pathways")

GRAPH = {
    "people": [{"id": "lw", "name": "Lee Walker", "role": "link_worker"}],
    "services": [{"id": "svc", "name": "Arts on Prescription"}],
    "relationships": [{"source_id": "lw", "type": "REFERS_TO", "target_id": "svc"}],
}
MORE = {"activities": [{"id": "art", "name": "Art Club"}],
        "relationships": [{"source_id": "svc", "type": "OFFERS", "target_id": "art"}]}
BUSY = "another load is running on this store"


def counts(store):
    stats = store.stats()
    return {k: v for part in stats.values() for k, v in part.items() if v}


def temp_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.glob(".graph-*.tmp"))


def cli(home: Path, *args, timeout=300) -> subprocess.CompletedProcess:
    env = dict(os.environ, PATHWAYS_HOME=str(home), PATHWAYS_STORE="embedded")
    return subprocess.run([str(PATHWAYS), *map(str, args)], env=env, capture_output=True,
                          text=True, timeout=timeout)


# ---- one writer at a time -------------------------------------------------------------------
def test_second_writer_is_refused_while_a_load_holds_the_store(tmp_path):
    path = tmp_path / "graph.json"
    first, second = EmbeddedStore(path), EmbeddedStore(path)
    with first.load_lock():
        load_data(first, GRAPH)
        with pytest.raises(StoreBusyError, match=BUSY) as refused, second.load_lock():
            pass
        assert f"pid {os.getpid()}, started " in str(refused.value)
        assert "nothing was written" in str(refused.value)
        with pytest.raises(StoreBusyError, match=BUSY):  # a bare write takes the lock too
            load_data(second, MORE)
        with pytest.raises(StoreBusyError, match=BUSY):
            second.reset()
    assert second.get_node("art") is None
    load_data(second, MORE)  # free again: the second writer builds on the first one's data
    assert counts(EmbeddedStore(path)) == {"Person": 1, "Service": 1, "Activity": 1,
                                           "REFERS_TO": 1, "OFFERS": 1}


def test_load_lock_is_reentrant_in_its_thread_and_refuses_other_threads(tmp_path):
    store = EmbeddedStore(tmp_path / "graph.json")
    refused: list[BaseException] = []
    with store.load_lock():
        with store.load_lock("a reset"):  # nested: the same load
            load_data(store, GRAPH)
        thread = threading.Thread(target=lambda: _catch(refused, lambda: load_data(store, MORE)))
        thread.start()
        thread.join()
        load_data(store, MORE)  # still held by this thread: fine
    assert len(refused) == 1 and isinstance(refused[0], StoreBusyError), refused
    assert f"pid {os.getpid()}" in str(refused[0])
    assert counts(EmbeddedStore(tmp_path / "graph.json"))["OFFERS"] == 1


def _catch(found: list, fn) -> None:
    try:
        fn()
    except StoreBusyError as exc:
        found.append(exc)


def test_a_stale_instance_writes_on_top_of_the_latest_file(tmp_path):
    path = tmp_path / "graph.json"
    stale, other = EmbeddedStore(path), EmbeddedStore(path)
    assert counts(stale) == {}
    load_data(other, GRAPH)
    stale.retire([], remove=False, stamp="2026-01-01")  # a write that changes nothing
    load_data(stale, MORE)
    assert counts(EmbeddedStore(path)) == {"Person": 1, "Service": 1, "Activity": 1,
                                           "REFERS_TO": 1, "OFFERS": 1}


# ---- readers see one version ----------------------------------------------------------------
def named(version: str) -> dict:
    return {
        "people": [{"id": "lw", "name": f"{version} Lee", "role": "link_worker"}],
        "organisations": [{"id": "org", "name": f"{version} Calder Arts", "kind": "cultural"}],
        "services": [{"id": "svc", "name": f"{version} Arts on Prescription"}],
        "activities": [{"id": "art", "name": f"{version} Art Club"}],
        "needs": [{"id": "loneliness", "name": f"{version} Loneliness"}],
        "localities": [{"id": "north", "name": f"{version} North"}],
        "relationships": [
            {"source_id": "lw", "type": "REFERS_TO", "target_id": "org"},
            {"source_id": "org", "type": "PROVIDES", "target_id": "svc"},
            {"source_id": "svc", "type": "OFFERS", "target_id": "art"},
            {"source_id": "art", "type": "ADDRESSES", "target_id": "loneliness"},
            {"source_id": "art", "type": "LOCATED_IN", "target_id": "north"},
        ],
    }


def names_in(paths, details) -> set[str]:
    found = {node["name"] for path in paths for node in path}
    for info in details.values():
        found |= {info["name"], *info["providers"], *info["localities"], *info["needs"]}
    return {name.split()[0] for name in found}


def test_a_load_landing_between_two_reads_is_not_seen_by_the_reader(tmp_path):
    path = tmp_path / "graph.json"
    reader, loader = EmbeddedStore(path), EmbeddedStore(path)
    load_data(loader, named("v1"))
    runs = []

    def two_reads():
        runs.append(1)
        paths = reader.pathway_candidates("lw", 4, PathwayFilter())
        load_data(loader, named(f"v{len(runs) + 1}"))  # another process's load lands here
        return paths, reader.activity_details(["art"])

    paths, details = reader.consistent(two_reads)
    assert names_in(paths, details) == {"v1"}  # all before the load, never a mixture
    assert len(runs) == 1  # and the reader was not sent round again (loads can run all day)
    again = reader.consistent(lambda: (reader.pathway_candidates("lw", 4, PathwayFilter()),
                                       reader.activity_details(["art"])))
    assert names_in(*again) == {"v2"}  # the next request sees the load


def test_version_changes_with_each_save_and_costs_no_reread(tmp_path, monkeypatch):
    path = tmp_path / "graph.json"
    reader, loader = EmbeddedStore(path), EmbeddedStore(path)
    empty = reader.version()
    load_data(loader, named("v1"))
    first = reader.version()
    load_data(loader, named("v2"))
    second = reader.version()
    assert len({empty, first, second}) == 3
    reads = []
    real = embedded.parse_graph  # the whole file (a chunk of records at a time)
    monkeypatch.setattr(embedded, "parse_graph",
                        lambda raw, path: reads.append(1) or real(raw, path))
    for _ in range(3):
        assert reader.version() == second
    assert reads == []  # a stat, not a parse of the whole file
    assert names_in(reader.pathway_candidates("lw", 4, PathwayFilter()), {}) == {"v2"}
    assert reads == [1]


# ---- full disk, read-only home --------------------------------------------------------------
def _mount(target: Path, options: str) -> bool:
    if os.geteuid() != 0:
        return False
    target.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(target)],
                          capture_output=True)
    return done.returncode == 0


def _umount(target: Path) -> None:
    subprocess.run(["umount", "-l", str(target)], check=True, capture_output=True)


@contextlib.contextmanager
def small_disk(target: Path, size: str):
    if not _mount(target, f"size={size},mode=0755"):
        pytest.skip("cannot mount a small tmpfs here (needs root); the injected-fault test runs")
    try:
        yield target
    finally:
        _umount(target)


def test_full_disk_gives_a_plain_message_and_keeps_the_old_graph(tmp_path):
    data = write_folder(tmp_path / "more", {"people": [["id", "name", "role"]] + [
        [f"p{i}", f"Person {i} " + "x" * 200, "volunteer"] for i in range(2000)]})
    with small_disk(tmp_path / "home", "128k") as home:
        store = EmbeddedStore(home / "graph.json")
        load_data(store, GRAPH)
        before = (home / "graph.json").read_bytes()
        done = cli(home, "load", data)
        assert done.returncode == 1
        assert "Traceback" not in done.stderr
        assert (f"could not save the graph to {home / 'graph.json'}: the disk is full;"
                " nothing was changed") in done.stderr
        assert (home / "graph.json").read_bytes() == before
        assert temp_files(home) == []
        assert counts(EmbeddedStore(home / "graph.json")) == {"Person": 1, "Service": 1,
                                                              "REFERS_TO": 1}


def test_full_disk_injected_at_write_keeps_graph_file_and_answers(tmp_path, monkeypatch):
    path = tmp_path / "graph.json"
    store = EmbeddedStore(path)
    load_data(store, GRAPH)
    before = path.read_bytes()
    real_write = os.write

    def full_after_a_little(fd, data):
        real_write(fd, bytes(data[:10]))  # what a disk that fills up mid-file does
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(embedded.os, "write", full_after_a_little)
    with pytest.raises(StoreUnavailableError) as failed:
        load_data(store, MORE)
    monkeypatch.undo()
    assert str(failed.value) == (f"could not save the graph to {path}: the disk is full;"
                                 " nothing was changed")
    assert path.read_bytes() == before
    assert temp_files(tmp_path) == []
    assert store.get_node("art") is None
    load_data(store, MORE)  # and all is well once there is room again
    assert counts(EmbeddedStore(path))["OFFERS"] == 1


@pytest.fixture
def read_only_home(tmp_path):
    """A home holding a graph, that this process (and its children) cannot write."""
    home = tmp_path / "home"
    if os.geteuid() == 0:  # root writes through permissions: use a read-only mount
        if not _mount(home, "size=4m,mode=0755"):
            pytest.skip("running as root and cannot mount a read-only tmpfs here")
        try:
            load_data(EmbeddedStore(home / "graph.json"), GRAPH)
            subprocess.run(["mount", "-o", "remount,ro", str(home)], check=True)
            yield home
        finally:
            _umount(home)
        return
    load_data(EmbeddedStore(home / "graph.json"), GRAPH)
    home.chmod(0o555)
    try:
        yield home
    finally:
        home.chmod(0o755)


def test_read_only_home_can_be_read_and_refuses_loads_plainly(tmp_path, read_only_home):
    home = read_only_home
    before = (home / "graph.json").read_bytes()
    listed = cli(home, "list", "people", "--format", "csv")
    assert listed.returncode == 0, listed.stderr
    assert "Lee Walker" in listed.stdout

    done = cli(home, "load", write_folder(tmp_path / "more", {"needs": [["id", "name"],
                                                                        ["n1", "Need one"]]}))
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert f"could not save the graph to {home / 'graph.json'}: " in done.stderr
    assert "is read-only" in done.stderr and "nothing was changed" in done.stderr
    reset = cli(home, "reset", "--yes")
    assert reset.returncode == 1 and "is read-only" in reset.stderr
    assert (home / "graph.json").read_bytes() == before
    assert counts(EmbeddedStore(home / "graph.json")) == {"Person": 1, "Service": 1,
                                                          "REFERS_TO": 1}


def test_home_that_is_a_file_is_refused_plainly(tmp_path):
    home = tmp_path / "home"
    home.write_text("not a folder", encoding="utf-8")
    store = EmbeddedStore(home / "graph.json")  # reading: nothing there yet
    assert counts(store) == {}
    with pytest.raises(StoreUnavailableError, match=r"could not save the graph to .*nothing was changed"):
        load_data(store, GRAPH)


# ---- kill -9 during a save ------------------------------------------------------------------
@pytest.fixture(scope="module")
def big_folders(tmp_path_factory) -> tuple[Path, Path]:
    """Two versions of a 20k-node graph (v2 renames every node): saves take a while."""
    folder = tmp_path_factory.mktemp("big")
    tables = generate(20_000, seed=3)
    write(tables, folder / "v1")
    for rows in tables.values():
        for row in rows:
            if row.get("name"):
                row["name"] = "v2 " + row["name"]
    write(tables, folder / "v2")
    return folder / "v1", folder / "v2"


def _kill_during_save(home: Path, data: Path, delay: float) -> bool:
    """Start a load; kill -9 it ``delay`` s after its temporary file appears.  True when
    the kill landed while the temporary file was there."""
    env = dict(os.environ, PATHWAYS_HOME=str(home), PATHWAYS_STORE="embedded")
    process = subprocess.Popen([str(PATHWAYS), "load", str(data)], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while process.poll() is None and time.monotonic() < deadline:
            if temp_files(home):
                time.sleep(delay)
                landed = bool(temp_files(home))
                process.send_signal(signal.SIGKILL)
                process.wait()
                return landed
            time.sleep(0.001)
        return False
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_kill_during_save_leaves_old_or_new_graph_and_no_temp_files(tmp_path, big_folders):
    v1, v2 = big_folders
    home = tmp_path / "home"
    assert cli(home, "load", v1).returncode == 0
    rng = random.Random(11)
    landed, now_v2 = 0, False
    for attempt in range(4):
        landed += _kill_during_save(home, v1 if now_v2 else v2,
                                    0 if attempt == 0 else rng.uniform(0, 0.05))
        reader = EmbeddedStore(home / "graph.json")  # old or new, never damaged
        names = {a["props"]["name"].startswith("v2 ") for _, a in reader.snapshot().nodes(data=True)}
        assert len(names) == 1 and reader.stats()["nodes"]["Activity"] > 10_000
        now_v2 = names.pop()
    assert landed >= 1, "no kill landed during a save; the test proved nothing"
    done = cli(home, "load", v2)
    assert done.returncode == 0, done.stderr
    assert temp_files(home) == []
    assert sorted(p.name for p in home.iterdir() if not p.name.endswith(".lock")) == [
        "graph.history", "graph.json"]
    # the load history beside the graph: whole records only, no part a killed writer left
    assert list((home / "graph.history").glob(".*.part")) == []
    assert all(a["props"]["name"].startswith("v2 ")
               for _, a in EmbeddedStore(home / "graph.json").snapshot().nodes(data=True))


# ---- the cycle collector pause is shared by threads -----------------------------------------
def test_gc_stays_paused_until_the_last_overlapping_pause_ends():
    assert gc.isenabled()
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()
    seen = {}

    def second():
        first_in.wait()
        with gcpause.gc_paused():
            second_in.set()
            first_out.wait()
            seen["while second still runs"] = gc.isenabled()

    thread = threading.Thread(target=second)
    thread.start()
    with gcpause.gc_paused():
        first_in.set()
        second_in.wait()
    first_out.set()
    thread.join()
    assert seen == {"while second still runs": False}
    assert gc.isenabled()
