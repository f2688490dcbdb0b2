"""The ``pathways`` console script's front door: read-only commands go to a kept-open graph.

Opening the embedded store means reading ``graph.json`` (at 100k nodes ~1.6 s) and many
answers then compute a whole-graph index or analysis (seconds more).  ``pathways keep-open``
(:mod:`pathways.cli.keep_open`) holds the graph and those caches in one local process; this
module, which imports almost nothing, sends it the command line of a read-only command
(``stats``, ``list``, ``show``, ``paths``, ``search``, ``postcode``, ``gaps``, ``consortia``)
over a Unix socket beside the graph, and prints what it answers, exit status included.

Everything else runs here as before (``load``, ``reset``, ``demo``, ``serve``, ``--help``,
the Neo4j store, any root option but ``--store embedded``), and so does a read-only command
when no kept-open process answers: the socket is missing, not a socket, not the user's own,
or nobody listens (a process killed without tidying up).  Only ``PATHWAYS_*`` variables are
sent, never ``NEO4J_PASSWORD`` or anything else from the environment.
"""

from __future__ import annotations

import importlib
import json
import os
import socket
import stat
import struct
import sys
from pathlib import Path

READ_ONLY = frozenset({"stats", "list", "show", "paths", "search", "postcode", "gaps",
                       "consortia"})
_FRAME = struct.Struct(">Q")
SOCKET_SUFFIX = ".sock"
MAX_SOCKET_PATH = 100  # sockaddr_un's sun_path is 108 bytes on Linux, 104 on macOS


def socket_path(graph_path: Path) -> Path:
    """Where the kept-open process for ``graph_path`` listens: ``graph.json.sock``."""
    return graph_path.with_name(graph_path.name + SOCKET_SUFFIX)


def send_frame(conn: socket.socket, payload: bytes) -> None:
    conn.sendall(_FRAME.pack(len(payload)) + payload)


def read_frame(conn: socket.socket, limit: int = 1 << 34) -> bytes:
    """One length-prefixed frame; ConnectionError when the peer goes away mid-way."""
    size = _FRAME.unpack(_read_exactly(conn, _FRAME.size))[0]
    if size > limit:
        raise ConnectionError("frame too large")
    return _read_exactly(conn, size)


def _read_exactly(conn: socket.socket, size: int) -> bytes:
    chunks, left = [], size
    while left:
        chunk = conn.recv(min(left, 1 << 20))
        if not chunk:
            raise ConnectionError("closed")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def command_of(argv: list[str], env: dict[str, str]) -> str | None:
    """The read-only command ``argv`` runs on the embedded store, else None (run it here)."""
    store = env.get("PATHWAYS_STORE", "").strip().lower() or "embedded"
    i = 0
    while i < len(argv) and argv[i].startswith("-"):
        option, _, value = argv[i].partition("=")
        if option != "--store":
            return None  # --neo4j-*, --version, --help: not for the kept-open process
        if not value:
            i += 1
            if i >= len(argv):
                return None
            value = argv[i]
        store = value.strip().lower()
        i += 1
    if store != "embedded" or i >= len(argv) or argv[i] not in READ_ONLY:
        return None
    return argv[i]


def forward(argv: list[str], env: dict[str, str] | None = None) -> int | None:
    """Run ``argv`` in the kept-open process, printing its output; its exit status, or None
    when it must run here (see the module docstring)."""
    env = dict(os.environ) if env is None else env
    if command_of(argv, env) is None:
        return None
    from pathways.config import Settings  # light (no store, no networkx)

    try:
        where = socket_path(Settings.from_env(env).embedded_path)
        info = os.stat(where)
    except (OSError, ValueError):
        return None
    if not stat.S_ISSOCK(info.st_mode) or info.st_uid != os.getuid() or \
            len(os.fsencode(where)) > MAX_SOCKET_PATH:
        return None
    request = json.dumps({
        "argv": argv, "cwd": os.getcwd(),
        "env": {k: v for k, v in env.items() if k.startswith("PATHWAYS_")},
    }).encode()
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.settimeout(2.0)
            conn.connect(os.fspath(where))
            send_frame(conn, request)
            conn.settimeout(None)  # a gap report may take a while the first time
            head = json.loads(read_frame(conn, limit=1 << 16))
            out = read_frame(conn)
            err = read_frame(conn)
    except (OSError, ValueError):
        return None  # nobody there, or it went away before answering: run here
    sys.stdout.flush()
    sys.stderr.buffer.write(err)
    sys.stderr.flush()
    sys.stdout.buffer.write(out)
    sys.stdout.flush()
    code = head.get("code", 1)
    return code if isinstance(code, int) else 1


def main() -> None:
    """The ``pathways`` console script: forwarded, or the CLI run here.

    The CLI is found by name (as ``pathways serve`` finds the app), so that this module
    stays in a layer below the CLI, whose ``keep-open`` command uses the helpers above.
    """
    code = forward(sys.argv[1:])
    if code is not None:
        sys.exit(code)
    importlib.import_module("pathways.cli").main()
