"""Benchmark: the Neo4j loader next to the bare ``UNWIND`` of the same rows, same run.

Issue 18 item 3: the loader (``store.write``: hashes looked up, rows grouped, batches
committed under a load marker and a journal, a big phase from two sessions; and from one)
against the server's ceiling: the same nodes
and relationships, with the same properties the loader stores, written by plain ``UNWIND
$rows CREATE`` statements of 10k rows, committed every :data:`COMMIT_ROWS` rows, from one
session, and from two sessions at once (the 10k statements dealt out in turn).  Also the
old way for comparison: one transaction, every relationship with its "from|TYPE|to" id and
load time.  Runs are interleaved (loader, bare, ... per repeat) and medians printed.

A fair bound for the server's side: the bare rows are the loader's own (node property maps
as given, relationships as ``{source, target, props}`` with the derived properties stripped
by the loader's own function), sent by the same Cypher (``queries.graph.CREATE_*``) in
statements of the same size and commits of the same rows.  They are built before its clock
starts, while the loader's time includes building them (and its hash look-up, journal, lock
checks and publishing): the gap between the two is the loader's own work.  Each loader run
prints the part of it spent before its first batch and waiting in its per-batch lock checks.

Each run also prints its CPU seconds: this process's (all its threads) and the server's (a
server the script started), since the machine is shared.  The last contender is the 2-session
loader with each batch checking the lock as it did before 2026-12-01 (the shared lock node's
write lock, so the sessions' commits took turns), the rest of the loader as now.

Prints figures; asserts nothing.  Writes a section to RESULTS.md with ``--results``.

    PATHWAYS_NEO4J_HEAP=3g .venv/bin/python benchmarks/load_ceiling.py --sizes 100k --repeat 3
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

from _common import neo4j_store, server_cpu, timed  # noqa: E402
from generate import generate  # noqa: E402
from loaders.living_db import plan_load  # noqa: E402
from pathways.gcpause import gc_paused  # noqa: E402
from pathways.store import neo4j_load as load  # noqa: E402
from queries import graph as q  # noqa: E402
from tests.conftest import tables_from  # noqa: E402

BATCH = load.BATCH_SIZE


def parse_size(text: str) -> int:
    text = text.strip().lower()
    return int(float(text[:-1]) * {"k": 1_000, "m": 1_000_000}[text[-1]]) if text[-1] in "km" \
        else int(text)


def bare_rows(plan, old: bool) -> tuple[dict, dict]:
    """The plan's rows as the loader sends them (``old``: with the derived properties)."""
    stamp = "2026-11-30T00:00:00+00:00"
    nodes: dict = defaultdict(list)
    for node in plan.nodes:
        nodes[node.kind].append(node.props)
    rels: dict = defaultdict(list)
    for rel in plan.rels:
        props = (dict(rel.props, loaded_at=stamp) if old else
                 load._strip_derived(rel.source_id, rel.type.value, rel.target_id, rel.props))
        rels[rel.type].append({"source": rel.source_id, "target": rel.target_id, "props": props})
    return nodes, rels


def bare_steps(nodes: dict, rels: dict) -> tuple[list, list]:
    stamp = "2026-11-30T00:00:00+00:00"
    node_steps = [(kind, [rows[i:i + BATCH] for i in range(0, len(rows), BATCH)])
                  for kind, rows in nodes.items()]
    rel_steps = [(rel, [rows[i:i + BATCH] for i in range(0, len(rows), BATCH)])
                 for rel, rows in rels.items()]
    node_calls = [lambda tx, k=kind, c=chunk: tx.run(q.CREATE_NODES[k], rows=c,
                                                     loaded_at=stamp).consume()
                  for kind, chunks in node_steps for chunk in chunks]
    rel_calls = [lambda tx, r=rel, c=chunk: tx.run(q.CREATE_RELATIONSHIPS[r], rows=c,
                                                   loaded_at=stamp).consume()
                 for rel, chunks in rel_steps for chunk in chunks]
    return node_calls, rel_calls


def run_calls(store, calls: list, per_commit: int) -> None:
    """The calls in one session, a commit every ``per_commit`` rows (``BATCH`` per call)."""
    with store.driver.session(database=store.settings.database) as session:
        per = max(1, per_commit // BATCH)
        for start in range(0, len(calls), per):
            with session.begin_transaction() as tx:
                for call in calls[start:start + per]:
                    call(tx)
                tx.commit()


def bare(store, plan, sessions: int, per_commit: int, old: bool = False) -> float:
    node_calls, rel_calls = bare_steps(*bare_rows(plan, old))
    began = time.perf_counter()
    for calls in (node_calls, rel_calls):  # relationships need their nodes
        if sessions == 1:
            run_calls(store, calls, per_commit)
            continue
        parts = [calls[i::sessions] for i in range(sessions)]
        errors: list[BaseException] = []

        def work(part, errors=errors):
            try:
                run_calls(store, part, per_commit)
            except BaseException as exc:  # reported below: a deadlock makes this row void
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(part,)) for part in parts]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if errors:
            raise errors[0]
    return time.perf_counter() - began


# Where the loader's time goes beyond the bare UNWIND's, per loader run: the seconds before its
# journal is sent (hashes, rows, journal built in Python) and the seconds its batches spent in
# the per-batch lock check (since 2026-12-01 each session's own fence node, held until its
# commit; before, the one lock node, so the sessions' commits took turns).
SPLITS: list[tuple[float, float, int]] = []


def loader(store, plan, sessions: int, shared_lock_node: bool = False) -> float:
    """``store.write`` committing a big phase from ``sessions`` sessions; what it spent before
    its first batch and waiting in its lock checks goes to :data:`SPLITS`.
    ``shared_lock_node``: each batch checks the lock as before 2026-12-01 (the lock node's
    write lock, held until its commit) instead of through its session's fence node."""
    was = load.SESSIONS
    load.SESSIONS = sessions
    began = time.perf_counter()
    journal_at: list[float] = []
    waits: list[float] = []
    write, check = store._write, store._check_still_locked

    def noting_write(fn, *args):
        if fn == store._begin:  # the batched load's journal and mark (checked since f2c1263)
            journal_at.append(time.perf_counter())
        return write(fn, *args)

    def noting_check(tx, fence=None):
        start = time.perf_counter()
        try:
            return check(tx, None if shared_lock_node else fence)
        finally:
            waits.append(time.perf_counter() - start)

    store._write, store._check_still_locked = noting_write, noting_check
    try:
        return timed(store.write, plan.nodes, plan.rels)[0]
    finally:
        del store._write, store._check_still_locked  # the class's own again
        load.SESSIONS = was
        SPLITS.append((journal_at[0] - began if journal_at else 0.0, sum(waits), len(waits)))


def counts(store) -> tuple[int, int]:
    """The nodes and relationships the database holds after a contender."""
    records, _, _ = store.driver.execute_query(
        "RETURN COUNT { MATCH (n:Pathways) } AS nodes,"
        " COUNT { MATCH (:Pathways)-[]->(:Pathways) } AS rels",
        database_=store.settings.database)
    return records[0]["nodes"], records[0]["rels"]


def contenders_for(store, plan) -> dict:
    return {
        "loader (`store.write`, batched commits, load marker + journal), 2 sessions":
            lambda: loader(store, plan, 2),
        "bare UNWIND CREATE, same rows, 2 sessions, same commits":
            lambda: bare(store, plan, 2, load.COMMIT_ROWS),
        "loader, 1 session": lambda: loader(store, plan, 1),
        "bare UNWIND CREATE, same rows, 1 session, same commits":
            lambda: bare(store, plan, 1, load.COMMIT_ROWS),
        "bare UNWIND CREATE, old properties (id + load time per relationship),"
        " 1 transaction": lambda: bare(store, plan, 1, 10**9, old=True),
        "loader, 2 sessions, each batch checking the shared lock node (before)":
            lambda: loader(store, plan, 2, shared_lock_node=True),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10k,100k")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--results", action="store_true", help="write a section to RESULTS.md")
    parser.add_argument("--few-at-scale", action="store_true",
                        help="beyond the first size, only the loaders and the bare UNWINDs")
    args = parser.parse_args()
    lines = []
    with neo4j_store() as store:
        budget = store.transaction_budget()
        print(f"transaction memory allowed: {budget and budget / 2**20:.0f} MiB;"
              f" loader commits every {load.COMMIT_ROWS:,} rows, from {load.SESSIONS} sessions"
              f" for a phase of {load.PARALLEL_ROWS:,} rows or more")
        for label in args.sizes.split(","):
            plan = plan_load(tables_from(generate(parse_size(label), seed=7)), {})
            rows = len(plan.nodes) + len(plan.rels)
            runs: dict[str, list[float]] = defaultdict(list)
            loads: dict[str, list[float]] = defaultdict(list)  # the machine's, per run
            cpu: dict[str, list[tuple[float, float]]] = defaultdict(list)  # ours, the server's
            contenders = contenders_for(store, plan)
            if label != args.sizes.split(",")[0] and args.few_at_scale:
                contenders = dict(list(contenders.items())[:4] + list(contenders.items())[-1:])
            warm = plan_load(tables_from(generate(1_000, seed=1)), {})
            for run in contenders_for(store, warm).values():  # plans cached, JIT warm
                store.reset()
                run()
            for repeat in range(args.repeat):
                # every other pass in reverse order: no contender always runs first or last
                order = list(contenders.items())[::-1 if repeat % 2 else 1]
                for name, run in order:
                    store.reset()
                    ours, server = time.process_time(), server_cpu()
                    try:
                        with gc_paused():  # as `pathways load` runs: the same for every one
                            runs[name].append(run())
                    except Exception as exc:  # a failed contender is a figure too
                        print(f"{label} {name}: failed: {exc}")
                        continue
                    loads[name].append(os.getloadavg()[0])
                    landed = counts(store)
                    if landed != (len(plan.nodes), len(plan.rels)):  # every contender the same
                        print(f"{label} {name}: {landed} nodes and relationships in the"
                              f" database, not {len(plan.nodes)} and {len(plan.rels)}")
                    cpu[name].append((time.process_time() - ours, server_cpu() - server))
                    split = ""
                    if name.startswith("loader") and SPLITS:
                        before, waited, checks = SPLITS.pop()
                        split = (f"; {before:.1f} s before its first batch, {waited:.1f} s"
                                 f" waiting in {checks} lock checks")
                    print(f"  {label} {name}: {runs[name][-1]:.1f} s, CPU {cpu[name][-1][0]:.1f} s"
                          f" ours + {cpu[name][-1][1]:.1f} s server's"
                          f" (load average {loads[name][-1]:.1f}{split})", flush=True)
            store.reset()
            two, one = (statistics.median(runs[name]) if runs[name] else 0.0
                        for name in list(contenders)[:3:2])
            for name, times in runs.items():
                seconds = statistics.median(times)
                line = (f"| {label} | {rows:,} | {name} | {seconds:.1f} s | "
                        f"{rows / seconds:,.0f} | {statistics.median(loads[name]):.1f} | "
                        f"{two and seconds / two:.0%} | {one and seconds / one:.0%} |")
                print(line)
                lines.append(line)
            for name, spent in cpu.items():
                print(f"CPU, median: {label} {name}: ours"
                      f" {statistics.median(c for c, _ in spent):.1f} s, the server's"
                      f" {statistics.median(c for _, c in spent):.1f} s"
                      " (the server's: 0 unless this script started it)")
            print(f"transactions run again after a deadlock: {store.load_retries}")
            if args.results:  # after each size: a run cut short keeps what it measured
                write_section(lines, args)


def write_section(lines: list[str], args) -> None:
    path = HERE / "RESULTS.md"
    start, end = "<!-- load_ceiling -->", "<!-- /load_ceiling -->"
    heap = os.environ.get("PATHWAYS_NEO4J_HEAP", "default")
    text = path.read_text()
    measured = {line.split("|")[1] for line in lines}
    if start in text:  # rows of sizes this run did not measure stay (and say when they ran)
        kept = [line for line in text[text.index(start):text.index(end)].splitlines()
                if line.startswith("| ") and not line.startswith("| size")
                and line.split("|")[1] not in measured]
        lines = kept + lines
    section = "\n".join([
        start, "## Neo4j loads next to the server's ceiling (issue 18 item 3)", "",
        (f"Run {dt.datetime.now():%Y-%m-%d %H:%M} on {platform.machine()}, {os.cpu_count()} cores"
        f" (shared with other sessions: load average {os.getloadavg()[0]:.1f} at the end),"
        f" heap {heap}, {args.repeat} interleaved runs, medians.  `benchmarks/load_ceiling.py`."
        " The last two columns are the loader's time (committing from two sessions, then from"
        " one) over the contender's: the loader's share of that contender's speed (goal >= 90 %"
        " of the bare UNWIND).  Load average: the machine's 1-minute figure after each run"
        " (2 cores: above 2 the runs queued for CPU), median."), "",
        ("| size | rows | what | time | rows/s | load avg | 2-session loader vs this |"
         " 1-session loader vs this |"),
        "|---|---|---|---|---|---|---|---|", *lines, end])
    if start in text:
        text = text[:text.index(start)] + section + text[text.index(end) + len(end):]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    path.write_text(text)


if __name__ == "__main__":
    main()
