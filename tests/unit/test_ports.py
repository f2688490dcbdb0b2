"""The ports test and throwaway servers listen on (:func:`pathways.neo4j_runtime.free_port`):
the web servers of ``dash_duo`` and ``pathways serve``, and a local Neo4j when every
browser-blocked port is taken.

A port from ``bind(0)`` (what ``free_port`` used to hand out) or dash's own 58050, 58051, ...
lies in the kernel's ephemeral range: any outgoing connection on the machine (a Bolt socket,
Chromium) may hold it as its local port when the server binds, and the server fails with
"Address already in use"."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from pathways import neo4j_runtime as rt


@pytest.fixture
def fresh(monkeypatch):
    """No port given yet in this process, as far as ``free_port`` knows."""
    monkeypatch.setattr(rt, "_GIVEN_PORTS", set())


def test_free_ports_lie_outside_the_kernels_ephemeral_range_and_can_be_listened_on():
    kernels = Path("/proc/sys/net/ipv4/ip_local_port_range")
    if not kernels.exists():
        pytest.skip("no Linux ephemeral port range to compare with")
    low, high = (int(word) for word in kernels.read_text().split())
    for _ in range(50):
        port = rt.free_port()
        assert not low <= port <= high, f"{port} is in the ephemeral range {low}-{high}"
        with socket.socket() as server:
            server.bind(("127.0.0.1", port))
            server.listen()


def test_free_ports_follow_the_kernels_range_and_skip_ports_browsers_block(fresh, monkeypatch,
                                                                          tmp_path):
    # A kernel handing out 20000-40000: the pool is 1024-19999, where the browser-blocked
    # ports lie (a browser could not open a page served on one).
    (tmp_path / "range").write_text("20000\t40000\n")
    monkeypatch.setattr(rt, "EPHEMERAL_RANGE_FILE", tmp_path / "range")
    assert rt.port_pool() == range(1024, 20000)
    given = [rt.free_port() for _ in range(30)]
    assert all(1024 <= port < 20000 for port in given), given
    # All in a stretch where a third of the ports are browser-blocked: none of those.
    monkeypatch.setattr(rt, "port_pool", lambda: range(6660, 6700))
    given = [rt.free_port() for _ in range(20)]
    assert not set(given) & set(rt.BROWSER_BLOCKED_PORTS), given


def test_an_unreadable_range_is_taken_for_linuxs_default(tmp_path):
    assert rt.ephemeral_port_range(tmp_path / "missing") == (32768, 60999)
    (tmp_path / "odd").write_text("32768\n")
    assert rt.ephemeral_port_range(tmp_path / "odd") == (32768, 60999)


def test_a_free_port_is_never_given_twice_in_a_process(fresh, monkeypatch):
    # 20 picks at random from 30 ports would repeat one almost surely (birthday odds > 99.9 %).
    start = rt.free_port()  # a stretch of the real pool, likely quiet
    monkeypatch.setattr(rt, "port_pool", lambda: range(start, start + 30))
    given = [rt.free_port() for _ in range(20)]
    assert len(set(given)) == 20 and start not in given, given


def test_a_port_something_listens_on_is_skipped(monkeypatch):
    port = rt.free_port()
    monkeypatch.setattr(rt, "_GIVEN_PORTS", set())  # not skipped for having been given
    monkeypatch.setattr(rt, "port_pool", lambda: range(port, port + 2))
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port))
        taken.listen()
        assert rt.free_port() == port + 1
        with pytest.raises(rt.Neo4jRuntimeError, match="no free port"):
            rt.free_port()  # the one listened on, and the one just given
