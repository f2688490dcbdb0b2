"""Benchmark: the first gap report on Neo4j (issue 18 item 5: < 5 s at 100k), this checkout's
code against an earlier commit's, each call in a fresh process on one loaded graph,
interleaved, the reports compared to the byte (a hash of their JSON).

One call = ``gap_report(store, query)`` on an empty cache, as the first request after a load:
the analyses' snapshot read (``Neo4jStore.analysis_snapshot``) and computing the report, until
the call returns, including the cycle collector's work when the pause ends.  Then, still
timed apart, a little allocation afterwards (what the next request pays for the collector's
catch-up on the objects the call made), a full collection once the report and its snapshot
are dropped, and the snapshot read once more
alone (wall, our CPU and, for a server this script started, the server's CPU).  The load average is printed
next to each figure; asserts nothing.

    .venv/bin/python benchmarks/gaps_first_call.py --nodes 100000 --old DIR [--rounds 3]
    (DIR: ``git archive <commit> | tar -x -C DIR``; NEO4J_URI=... to use that database,
    which is emptied and loaded; with --as-loaded, used as it is)
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

if "--root" in sys.argv:  # the "old" contender: DIR's pathways, imported before this checkout's
    sys.path.insert(0, sys.argv[sys.argv.index("--root") + 1])

import pathways.analysis.snapshot as snapshots
from _common import server_cpu  # (this script's folder is first on sys.path)
from pathways.analysis.gaps import GapQuery, gap_report
from pathways.config import Neo4jSettings
from pathways.gcpause import gc_paused
from pathways.store.neo4j import Neo4jStore

QUERY = GapQuery(as_of=dt.date(2026, 11, 29))


def one() -> None:
    """In this process: the first gap report, then what the collector does after it."""
    with Neo4jStore(Neo4jSettings.from_env()) as store:
        store.version()  # connected before the clock starts
        wall, cpu = time.perf_counter(), time.process_time()
        report = gap_report(store, QUERY)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        after = time.process_time()
        junk: list[list[int]] = [[] for _ in range(20_000)]  # the next request's first allocations
        after = time.process_time() - after
        del junk
        digest = hashlib.sha256(json.dumps(report).encode()).hexdigest()[:16]
        del report  # and the cached snapshot: the read below is alone in memory, as the first
        snapshots._cache.pop(store, None)
        full = time.process_time()
        gc.collect()
        full = time.process_time() - full
        # the analyses' snapshot read alone, once more (ours and, if local, the server's CPU)
        read, read_cpu, server = time.perf_counter(), time.process_time(), server_cpu()
        with gc_paused():
            store.analysis_snapshot()
        read, read_cpu = time.perf_counter() - read, time.process_time() - read_cpu
        server = server_cpu() - server
    print(json.dumps({"wall": wall, "cpu": cpu, "after": after, "full": full, "read": read,
                      "read_cpu": read_cpu, "server": server,
                      "load": os.getloadavg()[0], "digest": digest}), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nodes", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--old", type=Path, help="an earlier commit's code, unpacked here")
    parser.add_argument("--as-loaded", action="store_true",
                        help="with NEO4J_URI: measure that database as it is (no reset, no load)")
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--root", help=argparse.SUPPRESS)  # read before the imports above
    args = parser.parse_args()
    if args.one:
        one()
        return
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from _common import neo4j_store
    from generate import generate, write
    from pathways.loading import load_paths

    print(f"load average at the start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as tmp, neo4j_store() as store:
        if not (args.as_loaded and os.environ.get("NEO4J_URI")):
            write(generate(args.nodes), Path(tmp) / "data")
            store.reset()
            load_paths(store, [Path(tmp) / "data"])
        env = {**os.environ, "NEO4J_URI": store.settings.uri, "NEO4J_USER": store.settings.user,
               "NEO4J_PASSWORD": store.settings.password,
               "NEO4J_DATABASE": store.settings.database}
        contenders = ("old", "new") if args.old else ("new",)
        runs: dict[str, list[dict]] = {c: [] for c in contenders}
        for number in range(args.rounds):
            order = contenders if number % 2 == 0 else contenders[::-1]
            for contender in order:
                root = ["--root", str(args.old.resolve())] if contender == "old" else []
                done = subprocess.run([sys.executable, __file__, "--one", *root], env=env,
                                      check=True, capture_output=True, text=True)
                run = json.loads(done.stdout.strip().splitlines()[-1])
                runs[contender].append(run)
                print(f"first gap report {contender.upper():3}: {run['wall']:6.2f} s wall,"
                      f" {run['cpu']:5.2f} s CPU; next allocation {run['after']:5.2f} s,"
                      f" then a full collection {run['full']:5.2f} s (load {run['load']:.1f});"
                      f" the snapshot read alone {run['read']:5.2f} s wall, {run['read_cpu']:5.2f}"
                      f" s CPU, {run['server']:5.2f} s server CPU", flush=True)
    for contender, rs in runs.items():
        print(f"median {contender:3}: {statistics.median(r['wall'] for r in rs):6.2f} s wall,"
              f" {statistics.median(r['cpu'] for r in rs):5.2f} s CPU")
    same = {r["digest"] for rs in runs.values() for r in rs}
    print(f"same report (JSON, to the byte) every run: {'yes' if len(same) == 1 else 'NO'}")
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
