"""A throwaway Neo4j ends with the process that started it, even one killed outright.

A test run or benchmark killed with ``kill -9`` (a CI job cancelled, Ctrl-C twice, the
machine's OOM killer) used to leave its server running: a port, a heap of a gigabyte or
more and a core taken until someone found it.  ``start_server(dies_with_caller=True)``
(the tests' fixture and the benchmarks) has Linux stop it; ``pathways neo4j start`` keeps
its server running after the command returns, by design, and so must not be tied.

Each test starts a real server in a child Python process, kills that process with SIGKILL
(nothing of it runs afterwards) and watches the server's process.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from pathways import neo4j_runtime as rt
from pathways.processes import alive

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="PR_SET_PDEATHSIG is Linux's")

CHILD = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from pathways import neo4j_runtime as rt
    info = rt.start_server(home=Path(sys.argv[1]), heap="512m",
                           dies_with_caller=sys.argv[2] == "tied")
    print(info.pid, flush=True)
    time.sleep(600)
""")


def _server_of_killed_child(home: Path, tied: bool) -> int:
    """Start a server from a child process, SIGKILL the child; the server's pid."""
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(home), "tied" if tied else "free"],
                             stdout=subprocess.PIPE, text=True, cwd=Path(__file__).parents[2])
    try:
        assert child.stdout is not None
        ready, _, _ = select.select([child.stdout], [], [], 240)
        assert ready, "the child did not start its Neo4j in time"
        line = child.stdout.readline()
        assert line.strip().isdigit(), f"the child printed {line!r}"
        server = int(line)
        assert alive(server)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    return server


def _gone_within(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not alive(pid):
            return True
        time.sleep(0.25)
    return False


def test_a_throwaway_server_stops_when_the_process_that_started_it_is_killed(tmp_path):
    server = _server_of_killed_child(tmp_path / "neo4j", tied=True)
    try:
        assert _gone_within(server, 90), "Neo4j kept running after its test process was killed"
    finally:
        if alive(server):
            os.killpg(server, signal.SIGKILL)


def test_a_server_started_for_the_user_outlives_the_command_that_started_it(tmp_path):
    home = tmp_path / "neo4j"
    server = _server_of_killed_child(home, tied=False)
    try:
        time.sleep(3)  # a tied server has had its SIGTERM by now (the test above)
        assert alive(server), "an untied server stopped with the process that started it"
    finally:
        rt.stop_server({"pid": server, "home": str(home)}, remove_home=False)
    assert not alive(server)
