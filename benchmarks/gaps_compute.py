"""Benchmark: computing the gap report on a snapshot (issue 18 item 5), the first version
(tests/unit/gaps_before.py) against now (pathways/analysis/gaps.py), each in a fresh process
(so each builds the per-snapshot indexes it needs, as the first call after a load does),
interleaved, answers compared to the byte (a hash of the report's JSON).

Prints wall and CPU seconds of the computing alone (the snapshot is read before the clock
starts) with the load average next to each, then medians; asserts nothing.

``--old DIR``: a third contender, the code of an earlier commit unpacked in DIR (``git archive
<commit> | tar -x -C DIR``), run the same way in the same rounds: old against new on one busy
machine, where figures from separate runs do not compare.

    .venv/bin/python benchmarks/gaps_compute.py --nodes 100000 [--rounds 3]
    .venv/bin/python benchmarks/gaps_compute.py --graph /path/to/graph.json   # an embedded store
    .venv/bin/python benchmarks/gaps_compute.py --nodes 100000 --old /tmp/old   # and DIR's code
"""

from __future__ import annotations

import argparse
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

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the oracle in tests/
if "--root" in sys.argv:  # the "old" contender: DIR's pathways, imported before this checkout's
    sys.path.insert(0, sys.argv[sys.argv.index("--root") + 1])

from generate import generate, write
from pathways.analysis.gaps import GapQuery, compute_gaps
from pathways.gcpause import gc_paused
from pathways.loading import load_paths
from pathways.store.embedded import EmbeddedStore
from tests.unit.gaps_before import compute_gaps_before

QUERY = GapQuery(as_of=dt.date(2026, 11, 29))


def one(graph_file: Path, contender: str) -> None:
    """In this process: read the snapshot, then time one contender's report on it."""
    graph = EmbeddedStore(graph_file).snapshot()
    compute = compute_gaps_before if contender == "before" else compute_gaps  # now, or old
    with gc_paused():  # as cached_analysis computes it
        wall, cpu = time.perf_counter(), time.process_time()
        report = compute(graph, QUERY)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    digest = hashlib.sha256(json.dumps(report).encode()).hexdigest()[:16]
    print(json.dumps({"contender": contender, "wall": wall, "cpu": cpu,
                      "load": os.getloadavg()[0], "digest": digest}), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--graph", type=Path, help="an embedded store's graph.json")
    parser.add_argument("--nodes", type=int, default=10000)
    parser.add_argument("--rounds", type=int, default=3, help="before/now pairs, interleaved")
    parser.add_argument("--old", type=Path, help="an earlier commit's code, unpacked here")
    parser.add_argument("--contender", choices=("before", "old", "now"), help=argparse.SUPPRESS)
    parser.add_argument("--root", help=argparse.SUPPRESS)  # read before the imports above
    args = parser.parse_args()
    if args.contender:
        one(args.graph, args.contender)
        return
    with tempfile.TemporaryDirectory() as tmp:
        graph = args.graph
        if graph is None:
            write(generate(args.nodes), Path(tmp) / "data")
            graph = Path(tmp) / "graph.json"
            load_paths(EmbeddedStore(graph), [Path(tmp) / "data"])
        contenders = ("before", "old", "now") if args.old else ("before", "now")
        runs: dict[str, list[dict]] = {c: [] for c in contenders}
        for _ in range(args.rounds):
            for contender in contenders:
                root = ["--root", str(args.old.resolve())] if contender == "old" else []
                done = subprocess.run([sys.executable, __file__, "--graph", str(graph),
                                       "--contender", contender, *root],
                                      check=True, capture_output=True, text=True)
                run = json.loads(done.stdout.strip().splitlines()[-1])
                runs[contender].append(run)
                print(f"gap report computing {contender.upper():6}: {run['wall']:6.2f} s wall,"
                      f" {run['cpu']:5.2f} s CPU (load {run['load']:.1f})", flush=True)
    same = {r["digest"] for rs in runs.values() for r in rs}
    for contender, rs in runs.items():
        print(f"median {contender:6}: {statistics.median(r['wall'] for r in rs):6.2f} s wall,"
              f" {statistics.median(r['cpu'] for r in rs):5.2f} s CPU")
    print(f"same report (JSON, to the byte) every run: {'yes' if len(same) == 1 else 'NO'}")


if __name__ == "__main__":
    main()
