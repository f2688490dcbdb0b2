"""The local Neo4j's bookkeeping, without a server: secrets on disk, which server is running
or recoverable, memory and port choices, and the CLI's words when the server is down."""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess

import pytest
from click.testing import CliRunner

from pathways import neo4j_runtime as rt
from pathways.cli import cli


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("PATHWAYS_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def _dead_pid() -> int:
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def _record(server_home, pid: int) -> rt.ServerInfo:
    info = rt.ServerInfo("bolt://127.0.0.1:6665", "neo4j", rt.new_password(), pid,
                         str(server_home), "5.26.0", 1.0)
    info.save(rt.state_file())
    return info


def _with_database(path):
    (path / "data" / "databases" / "neo4j").mkdir(parents=True)
    return path


def test_passwords_are_random_and_long():
    passwords = {rt.new_password() for _ in range(50)}
    assert len(passwords) == 50
    assert all(len(p) >= 32 and p != "pathways-dev" for p in passwords)


def test_no_password_looks_like_a_command_line_option():
    # token_urlsafe began one password in 64 with "-"; 2,000 draws miss that 1 time in 10^13.
    assert not any(rt.new_password().startswith("-") for _ in range(2000))


def test_server_file_is_readable_by_its_owner_only(home):
    path = rt.state_file()
    path.parent.mkdir(parents=True)
    path.write_text("{}")
    os.chmod(path, 0o644)  # an old file, world-readable
    os.chmod(path.parent, 0o755)
    info = _record(home / "neo4j" / "server-x", 1)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert json.loads(path.read_text())["password"] == info.password


def test_a_dead_server_with_its_database_on_disk_is_recoverable_not_running(home, tmp_path):
    _record(_with_database(tmp_path / "server-a"), _dead_pid())
    assert rt.running_state() is None
    assert rt.recoverable_state()["home"] == str(tmp_path / "server-a")


def test_a_pid_reused_by_another_process_is_not_the_server(home, tmp_path):
    _record(_with_database(tmp_path / "server-b"), os.getpid())  # alive, but not Neo4j
    assert rt.running_state() is None
    assert rt.recoverable_state() is not None


def test_a_dead_server_whose_data_is_gone_is_neither(home, tmp_path):
    _record(tmp_path / "deleted-home", _dead_pid())
    assert rt.running_state() is None and rt.recoverable_state() is None


def test_status_and_stop_point_to_recovery_and_delete_nothing(home, tmp_path):
    server_home = _with_database(tmp_path / "server-c")
    _record(server_home, _dead_pid())
    status = CliRunner().invoke(cli, ["neo4j", "status"])
    assert status.exit_code == 3
    assert f"the last server's database is at {server_home}" in status.output
    assert "`pathways neo4j start` recovers it" in status.output
    stop = CliRunner().invoke(cli, ["neo4j", "stop"])
    assert stop.exit_code == 0 and "--fresh" in stop.output
    assert server_home.exists() and rt.state_file().exists()


def test_import_refuses_to_bury_a_recoverable_database(home, tmp_path, demo_dir):
    server_home = _with_database(tmp_path / "server-d")
    _record(server_home, _dead_pid())
    result = CliRunner().invoke(cli, ["neo4j", "start", "--import", str(demo_dir)])
    assert result.exit_code != 0
    assert str(server_home) in result.output and "--fresh" in result.output
    assert server_home.exists()


def test_start_refuses_a_home_that_already_holds_a_database(tmp_path):
    with pytest.raises(rt.Neo4jRuntimeError, match="already holds a Neo4j database"):
        rt.start_server(home=_with_database(tmp_path / "server-e"))


def test_heap_is_half_the_memory_within_bounds():
    assert rt.default_heap(24 * 1024) == "12288m"
    assert rt.default_heap(1024) == "1024m"  # never below 1 GB
    assert rt.default_heap(512 * 1024) == "31744m"  # compressed pointers end at 32 GB
    assert int(rt.default_heap()[:-1]) >= 1024


def test_ports_are_ones_browsers_refuse_and_taken_ones_are_skipped():
    # The Fetch standard's bad ports (https://fetch.spec.whatwg.org/#port-blocking) above 1023.
    fetch_bad_ports = {1719, 1720, 1723, 2049, 3659, 4045, 4190, 5060, 5061, 6000, 6566, 6665,
                       6666, 6667, 6668, 6669, 6679, 6697, 10080}
    assert set(rt.BROWSER_BLOCKED_PORTS) <= fetch_bad_ports
    free = rt.browser_blocked_ports()
    if not free:
        pytest.skip("every browser-blocked port is in use on this machine")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", free[0]))
        taken.listen()
        assert free[0] not in rt.browser_blocked_ports()


def test_written_config_has_no_fixed_password_and_no_lockout(tmp_path):
    rt._write_config(tmp_path, 6665, "1g", "256m", {"db.memory.transaction.max": "4MiB"})
    conf = (tmp_path / "conf" / "neo4j.conf").read_text()
    assert "server.bolt.listen_address=127.0.0.1:6665" in conf
    assert "server.http.enabled=false" in conf
    assert "server.memory.heap.max_size=1g" in conf
    assert "db.memory.transaction.max=4MiB" in conf
    assert "dbms.security.auth_max_failed_attempts=0" in conf
    assert "pathways-dev" not in conf
