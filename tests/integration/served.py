"""A real ``pathways serve --workers 2`` (gunicorn, two worker processes) for the tests that
need one, with gunicorn's access log naming the worker that answered each request."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

from pathways.neo4j_runtime import free_port

ROOT = Path(__file__).resolve().parents[2]
PATHWAYS = ROOT / ".venv" / "bin" / "pathways"
if not PATHWAYS.exists():
    PATHWAYS = Path(sys.executable).with_name("pathways")
# gunicorn's access log as GUNICORN_CMD_ARGS sets it below: worker pid, method, path, status
LOG_LINE = re.compile(r"^<?(\d+)>? (\S+) (\S+) (\d{3})$")


class WorkersServer:
    """``pathways serve --workers 2 --threads 2`` on a free loopback port (outside the
    kernel's ephemeral range: :func:`~pathways.neo4j_runtime.free_port`), with ``env``; its
    output and access log in ``folder``."""

    def __init__(self, env: dict, folder: Path) -> None:
        self.env = env
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.access_log = folder / "access.log"
        self.env["GUNICORN_CMD_ARGS"] = (f"--access-logfile {self.access_log} "
                                         "--access-logformat '%(p)s %(m)s %(U)s %(s)s'")
        self.output = folder / "serve.log"
        self.server: subprocess.Popen | None = None

    def start(self) -> None:
        """Start it (again: output is appended) and wait until it answers."""
        with self.output.open("a") as handle:
            self.server = subprocess.Popen(
                [str(PATHWAYS), "serve", "--workers", "2", "--threads", "2", "--port",
                 str(self.port)], env=self.env, stdout=handle, stderr=subprocess.STDOUT,
                start_new_session=True)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            assert self.server.poll() is None, self.output.read_text()
            try:
                requests.get(f"{self.base}/login", timeout=5)
                return
            except requests.RequestException:
                time.sleep(0.3)
        raise AssertionError(f"the server did not answer:\n{self.output.read_text()}")

    def stop(self) -> None:
        if self.server is not None and self.server.poll() is None:
            os.killpg(self.server.pid, signal.SIGTERM)
            self.server.wait(timeout=60)

    def log_lines(self) -> list[tuple[int, str, str, int]]:
        """(worker pid, method, path, status) of every request answered so far."""
        if not self.access_log.exists():
            return []
        found = (LOG_LINE.match(line) for line in self.access_log.read_text().splitlines())
        return [(int(m[1]), m[2], m[3], int(m[4])) for m in found if m]
