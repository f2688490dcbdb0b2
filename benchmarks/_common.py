"""Shared by the benchmark scripts: timing, and a Neo4j to measure against."""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from pathways.config import Neo4jSettings
from pathways.store.neo4j import Neo4jStore

T = TypeVar("T")


def timed(fn: Callable[..., T], *args: Any, **kwargs: Any) -> tuple[float, T]:
    """``(seconds, fn(*args, **kwargs))``."""
    began = time.perf_counter()
    value = fn(*args, **kwargs)
    return time.perf_counter() - began, value


def server_cpu() -> float:
    """CPU seconds of the local Neo4j server started by ``neo4j_store`` (0 if not known)."""
    pid = os.environ.get("PATHWAYS_BENCH_NEO4J_PID")
    if not pid:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def neo4j_store() -> Iterator[Neo4jStore]:
    """``NEO4J_URI`` if set (that database is emptied), else a throwaway local server."""
    if os.environ.get("NEO4J_URI"):
        with Neo4jStore(Neo4jSettings.from_env()) as store:
            yield store
        return
    from pathways import neo4j_runtime as rt

    rt.ensure_jars()
    with tempfile.TemporaryDirectory() as tmp:
        seconds, info = timed(lambda: rt.start_server(home=Path(tmp) / "neo4j",
                                                    dies_with_caller=True))
        print(f"neo4j     server start (jars cached):  {seconds:6.1f} s")
        os.environ["PATHWAYS_BENCH_NEO4J_PID"] = str(info.pid)
        try:
            with Neo4jStore(Neo4jSettings(info.uri, info.user, info.password, "neo4j")) as store:
                yield store
        finally:
            rt.stop_server(info)
