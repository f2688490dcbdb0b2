"""`pathways keep-open` (issue 18 item 1): read-only commands answered by a process that
keeps the embedded graph open give exactly the answers the CLI gives on its own; writes
and the Neo4j store never go there; a dead keep-open process costs nothing but speed."""

from __future__ import annotations

import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pathways import kept_open
from pathways.store.embedded import EmbeddedStore
from tests.conftest import load_data

PATHWAYS = [sys.executable, "-c", "from pathways.kept_open import main; main()"]
WORKER = "person-lw-pat-example"


def run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([*PATHWAYS, *args], env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=300)


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    folder = tmp_path_factory.mktemp("keep-open-home")
    env = {**os.environ, "PATHWAYS_HOME": str(folder), "PATHWAYS_STORE": "embedded"}
    assert run(["demo"], env, folder).returncode == 0
    return folder


@pytest.fixture
def env(home):
    return {**os.environ, "PATHWAYS_HOME": str(home), "PATHWAYS_STORE": "embedded"}


def start(env: dict[str, str], home: Path) -> subprocess.Popen:
    process = subprocess.Popen([*PATHWAYS, "keep-open"], env=env, cwd=home,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    sock = kept_open.socket_path(home / "graph.json")
    for _ in range(600):
        if listening(sock):
            return process
        if process.poll() is not None:
            raise AssertionError(f"keep-open stopped: {process.stderr.read() if process.stderr else ''}")
        time.sleep(0.1)
    process.kill()
    raise AssertionError("keep-open never listened")


def listening(sock: Path) -> bool:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        try:
            probe.connect(str(sock))
        except OSError:
            return False
        return True


@pytest.fixture
def kept(env, home):
    process = start(env, home)
    yield process
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=30)


COMMANDS = [
    ["stats"],
    ["list", "organisations"],
    ["paths", "--from", WORKER, "--max-hops", "3"],
    ["paths", "--from", WORKER, "--need", "loneliness", "--format", "json"],
    ["show", "act-active-nordic-walking-hebden", "--from", WORKER, "--as-of", "2026-11-30"],
    ["search", "walk"],
    ["paths", "--from", "nobody-at-all"],  # an error: same message, same status
    ["list", "unicorns"],  # click's own usage error
]


def _without_review_count(stdout: str) -> str:
    return "\n".join(line for line in stdout.splitlines() if "not reviewed" not in line)


def test_read_only_commands_answer_exactly_as_without_it(env, home, tmp_path):
    today = dt.date.today()
    alone = [run(args, env, tmp_path) for args in COMMANDS]
    assert alone[-2].returncode == 1 and "nobody-at-all" in alone[-2].stderr
    process = start(env, home)
    try:
        kept = [run(args, env, tmp_path) for args in COMMANDS]
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    for args, before, after in zip(COMMANDS, alone, kept, strict=True):
        outputs = [before.stdout, after.stdout]
        if args == ["stats"] and dt.date.today() != today:
            # midnight passed: each run counted "not reviewed for 12 months" on its own day
            outputs = [_without_review_count(out) for out in outputs]
        assert (after.returncode, outputs[1], after.stderr) == \
            (before.returncode, outputs[0], before.stderr), args
    assert not kept_open.socket_path(home / "graph.json").exists()  # tidied on SIGTERM


def test_commands_are_answered_by_the_kept_open_process(kept, env, tmp_path, monkeypatch, capfd):
    monkeypatch.chdir(tmp_path)
    assert kept_open.forward(["stats"], env) == 0
    assert "Activity" in capfd.readouterr().out
    # the client's folder: a relative --output lands where the user is
    code = kept_open.forward(["paths", "--from", WORKER, "--format", "csv", "-o", "mine.csv"], env)
    assert code == 0 and (tmp_path / "mine.csv").read_text(encoding="utf-8-sig").startswith("id,")
    assert kept_open.forward(["paths", "--from", "nobody-at-all"], env) == 1
    assert "nobody-at-all" in capfd.readouterr().err


def test_a_load_by_another_process_is_seen_at_once(kept, env, home, capfd):
    assert kept_open.forward(["list", "activities"], env) == 0
    assert "Kept-open test club" not in capfd.readouterr().out
    store = EmbeddedStore(home / "graph.json")
    load_data(store, {"activities": [{"id": "act-kept-open-test", "name": "Kept-open test club"}]})
    assert kept_open.forward(["list", "activities"], env) == 0
    assert "Kept-open test club" in capfd.readouterr().out


@pytest.mark.parametrize("argv", [
    ["load", "somewhere.csv"], ["reset"], ["demo"], ["serve"], ["keep-open"], ["--version"],
    ["--store", "neo4j", "stats"], ["--store=neo4j", "stats"], ["--neo4j-uri", "bolt://x", "stats"],
    ["stats", "--help"][:0] + ["--help"], [],
])
def test_writes_and_other_stores_never_go_there(argv, env):
    assert kept_open.command_of(argv, env) is None
    assert kept_open.forward(argv, env) is None


def test_the_environment_choosing_neo4j_is_not_forwarded(env):
    assert kept_open.command_of(["stats"], {**env, "PATHWAYS_STORE": "neo4j"}) is None
    assert kept_open.command_of(["--store", "embedded", "stats"],
                                {**env, "PATHWAYS_STORE": "neo4j"}) == "stats"


def test_a_killed_keep_open_costs_only_speed(env, home, tmp_path):
    process = start(env, home)
    process.send_signal(signal.SIGKILL)  # no tidying up: the socket file stays
    process.wait(timeout=30)
    sock = kept_open.socket_path(home / "graph.json")
    assert sock.exists()
    assert kept_open.forward(["stats"], env) is None  # nobody listens: run here
    done = run(["stats"], env, tmp_path)
    assert done.returncode == 0 and "Activity" in done.stdout
    again = start(env, home)  # a new keep-open replaces the stale socket
    try:
        assert kept_open.forward(["stats"], env) == 0
    finally:
        again.send_signal(signal.SIGTERM)
        again.wait(timeout=30)


def test_a_second_keep_open_is_refused(kept, env, home, tmp_path):
    second = run(["keep-open"], env, tmp_path)
    assert second.returncode == 1 and "already serving this store" in second.stderr


def test_each_new_version_is_prepared_in_the_background(env, home):
    """keep-open computes the gap report and consortium groupings for the graph it opened and
    again after another process's load, and says so on its own terminal only."""
    import queue
    import threading

    process = start(env, home)
    lines: queue.Queue[str] = queue.Queue()
    assert process.stderr is not None
    threading.Thread(target=lambda: [lines.put(line) for line in process.stderr],
                     daemon=True).start()

    def prepared(timeout: float = 120) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = lines.get(timeout=1)
            except queue.Empty:
                continue
            if line.startswith("Prepared the gap report"):
                return line
            assert "Could not prepare" not in line, line
        raise AssertionError("keep-open never said it prepared this version")

    try:
        assert " s" in prepared()
        load_data(EmbeddedStore(home / "graph.json"),
                  {"activities": [{"id": "act-kept-warm-test", "name": "Warm test club"}]})
        prepared()  # the new version, without any command asking
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
