"""Benchmark: the Warmer after a load (issue 18 items 5 and 6), on each store, this checkout's
code against an earlier commit's, each run in a fresh process on one loaded graph,
interleaved, the answers compared (a hash of everything the Warmer computed).

One run = ``Warmer.warm_once()`` on an empty cache, as the web server's background thread
after a data version change: the analyses' snapshot (on Neo4j read from the server, on the
embedded store parsed from its file), the default gap report, the referral network, the
search index, the Map page's default view, the consortium reports' communities and cells.
Both stores start from nothing built (the embedded graph is parsed afresh, so no index built
on an earlier snapshot is reused).  Prints wall, our CPU and, for a server this script
started, the server's CPU, with the load average next to each figure; asserts nothing.

    .venv/bin/python benchmarks/warm.py --nodes 100000 --old DIR [--rounds 3] [--store neo4j]
    (DIR: ``git archive <commit> | tar -x -C DIR``; NEO4J_URI=... to use that database,
    which is emptied and loaded)
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

if "--root" in sys.argv:  # the "old" contender: DIR's pathways, imported before this checkout's
    sys.path.insert(0, sys.argv[sys.argv.index("--root") + 1])

import numpy as np

from _common import server_cpu  # (this script's folder is first on sys.path)
from pathways.analysis.consortia import communities, covers_index
from pathways.analysis.gaps import GapQuery, gap_report, referral_network
from pathways.analysis.geo import MapQuery, map_data
from pathways.analysis.search import search_index
from pathways.analysis.snapshot import cached_analysis
from pathways.analysis.warm import Warmer
from pathways.config import Neo4jSettings
from pathways.model import DEFAULT_MAX_HOPS
from pathways.store.base import GraphStore
from pathways.store.embedded import EmbeddedStore
from pathways.store.neo4j import Neo4jStore


def plain(value: Any) -> Any:
    """``value`` as JSON can hold it, the same for the same answer (for the digest)."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return [[plain(k), plain(v)] for k, v in value.items()]
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted((plain(v) for v in value), key=repr)
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if hasattr(value, "_asdict"):
        return plain(value._asdict())
    return repr(value)


def digest(store: GraphStore) -> str:
    """A hash of everything the Warmer computed (each found in the cache, not recomputed)."""
    with_hops = DEFAULT_MAX_HOPS
    values = [gap_report(store, GapQuery(max_hops=with_hops, as_of=dt.date.today())),
              referral_network(store), search_index(store),
              map_data(store, MapQuery(max_hops=with_hops)),
              cached_analysis(store, "communities", communities),
              cached_analysis(store, "consortium cells", covers_index)]
    text = json.dumps(plain(values), default=repr)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def one(which: str, graph_file: str) -> None:
    """In this process: one ``warm_once`` on an empty cache, then the digest."""
    store: GraphStore
    if which == "neo4j":
        store = Neo4jStore(Neo4jSettings.from_env())
        store.version()  # connected before the clock starts
    else:
        store = EmbeddedStore(Path(graph_file))  # parsed inside warm_once, as after a load
    wall, cpu, server = time.perf_counter(), time.process_time(), server_cpu()
    Warmer(lambda: store).warm_once()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    server = server_cpu() - server if which == "neo4j" else 0.0
    load = os.getloadavg()[0]
    print(json.dumps({"wall": wall, "cpu": cpu, "server": server, "load": load,
                      "digest": digest(store)}), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nodes", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--old", type=Path, help="an earlier commit's code, unpacked here")
    parser.add_argument("--store", choices=["both", "neo4j", "embedded"], default="both")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--graph-file", help=argparse.SUPPRESS)
    parser.add_argument("--root", help=argparse.SUPPRESS)  # read before the imports above
    args = parser.parse_args()
    if args.one:
        one(args.one, args.graph_file or "")
        return
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import contextlib

    from _common import neo4j_store
    from generate import generate, write
    from pathways.loading import load_paths

    stores = ["embedded", "neo4j"] if args.store == "both" else [args.store]
    print(f"load average at the start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        write(generate(args.nodes), Path(tmp) / "data")
        graph_file = Path(tmp) / "graph.json"
        # some answers list what a set holds in the order of its string hashes: one seed
        # for every run, so the digests compare the answers, not each process's hash seed
        env = {**os.environ, "PYTHONHASHSEED": "0"}
        if "embedded" in stores:
            load_paths(EmbeddedStore(graph_file), [Path(tmp) / "data"])
        if "neo4j" in stores:
            store = stack.enter_context(neo4j_store())
            store.reset()
            load_paths(store, [Path(tmp) / "data"])
            env.update(NEO4J_URI=store.settings.uri, NEO4J_USER=store.settings.user,
                       NEO4J_PASSWORD=store.settings.password,
                       NEO4J_DATABASE=store.settings.database,
                       PATHWAYS_BENCH_NEO4J_PID=os.environ.get("PATHWAYS_BENCH_NEO4J_PID", ""))
        contenders = ("old", "new") if args.old else ("new",)
        runs: dict[tuple[str, str], list[dict]] = {}
        for number in range(args.rounds):
            order = contenders if number % 2 == 0 else contenders[::-1]
            for which in stores:
                for contender in order:
                    root = ["--root", str(args.old.resolve())] if contender == "old" else []
                    done = subprocess.run(
                        [sys.executable, __file__, "--one", which, "--graph-file",
                         str(graph_file), *root],
                        env=env, check=True, capture_output=True, text=True)
                    run = json.loads(done.stdout.strip().splitlines()[-1])
                    runs.setdefault((which, contender), []).append(run)
                    server = f", {run['server']:5.2f} s server CPU" if which == "neo4j" else ""
                    print(f"{which:8} Warmer {contender.upper():3}: {run['wall']:6.2f} s wall,"
                          f" {run['cpu']:5.2f} s CPU{server} (load {run['load']:.1f});"
                          f" answers {run['digest']}", flush=True)
    for (which, contender), rs in runs.items():
        print(f"median {which:8} {contender:3}: {statistics.median(r['wall'] for r in rs):6.2f}"
              f" s wall, {statistics.median(r['cpu'] for r in rs):5.2f} s CPU,"
              f" {statistics.median(r['server'] for r in rs):5.2f} s server CPU")
    for which in stores:
        same = {r["digest"] for (w, _), rs in runs.items() if w == which for r in rs}
        print(f"{which}: same answers every run, old and new: {'yes' if len(same) == 1 else 'NO'}")
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
