"""Benchmark: the Neo4j snapshot read (issue 18 item 5), before against now, interleaved in
one run on one loaded graph, the two snapshots compared whole (nodes, relationships, every
property, in order).

Before: every node and relationship read in one read transaction (``queries.graph.snapshot``).
Now: ``Neo4jStore.snapshot`` (the sorted ids split over two read transactions at once when
two cores are idle or the server is remote, else one; each checked against the version the
ids were read at); and the two transactions forced, whatever the cores.

Lean (issue 18 item 5): ``Neo4jStore.analysis_snapshot``, the relationships without their
provenance and hash (which no analysis reads), read the same ways; checked equal to the full
snapshot minus those, every round.  Full and lean take turns, in one and two transactions.

Prints wall seconds, this process's CPU seconds and the server's (the Neo4j JVM's, from
/proc: most of the read is the server's work), and the load average next to each; asserts
nothing.  On a busy 2-core box the parallel read cannot gain (no idle core): the CPU columns
say whether the work changed; the wall column needs a quiet machine.

    .venv/bin/python benchmarks/snapshot_read.py [--nodes 100000] [--rounds 3]
    NEO4J_URI=... (that database is emptied and loaded)
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _common import neo4j_store
from generate import generate, write
from pathways.gcpause import gc_paused
from pathways.graphs import build_snapshot
from pathways.loading import load_paths
from queries import graph as q


def server_cpu() -> float:
    """CPU seconds of the local Neo4j server started by ``neo4j_store`` (0 if remote)."""
    pid = os.environ.get("PATHWAYS_BENCH_NEO4J_PID")
    if not pid or os.environ.get("NEO4J_URI"):
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def clocked(label: str, fn: Callable[[], Any]) -> Any:
    wall, cpu, server = time.perf_counter(), time.process_time(), server_cpu()
    with gc_paused():  # as cached_snapshot reads it
        value = fn()
    print(f"{label:44} {time.perf_counter() - wall:6.2f} s wall, {time.process_time() - cpu:5.2f}"
          f" s CPU here, {server_cpu() - server:5.2f} s CPU server"
          f" (load {os.getloadavg()[0]:.1f})", flush=True)
    return value


def same_graph(one, other) -> bool:
    return (dict(one.nodes(data=True)) == dict(other.nodes(data=True))
            and list(one.edges(keys=True, data=True)) == list(other.edges(keys=True, data=True)))


def lean_of(graph) -> tuple[dict, list]:
    """A full snapshot as the lean read should give it: relationships minus provenance."""
    drop = q.RELATIONSHIP_PROVENANCE
    return (dict(graph.nodes(data=True)),
            [(u, v, k, {p: x for p, x in d["props"].items() if p not in drop})
             for u, v, k, d in graph.edges(keys=True, data=True)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--nodes", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(f"load average at the start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as tmp, neo4j_store() as store:
        synthetic = Path(tmp) / "synthetic"
        write(generate(args.nodes), synthetic)
        store.reset()
        load_paths(store, [synthetic])
        same = lean_same = True
        for round_number in range(args.rounds):
            before = clocked("snapshot BEFORE (one read transaction)",
                             lambda: build_snapshot(*store._read(q.snapshot)))
            expected = lean_of(before)
            reads = [  # full and lean take turns; their order flips every round
                ("full", f"snapshot NOW (store.snapshot, {store._snapshot_sessions()} if asked now)",
                 store.snapshot),
                ("lean", "LEAN (store.analysis_snapshot, as above)", store.analysis_snapshot),
                ("full", "full in two transactions (forced)",
                 lambda: build_snapshot(*store._snapshot_rows(2))),
                ("lean", "LEAN in two transactions (forced)",
                 lambda: build_snapshot(*store._snapshot_rows(2, lean=True))),
                ("full", "full in one transaction (forced)",
                 lambda: build_snapshot(*store._snapshot_rows(1))),
                ("lean", "LEAN in one transaction (forced)",
                 lambda: build_snapshot(*store._snapshot_rows(1, lean=True))),
            ]
            if round_number % 2:
                reads = [reads[i ^ 1] for i in range(len(reads))]
            for kind, label, read in reads:
                now = clocked(label, read)
                if kind == "full":
                    same = same and same_graph(before, now)
                else:
                    lean_same = lean_same and lean_of(now) == expected
                del now  # one or two snapshots alive at a time, as in the app
            print(f"  {before.number_of_nodes()} nodes, {before.number_of_edges()} relationships")
            del before, expected
        print(f"same snapshot before and now, every round: {'yes' if same else 'NO'}")
        print(f"lean = full minus relationship provenance, every round: {'yes' if lean_same else 'NO'}")
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
