"""Scale benchmark: load rates, pathway latency, gap report, consortia, app callbacks, memory.

Prints a table and writes it to benchmarks/RESULTS.md.  Asserts nothing.

    cd benchmarks && ../.venv/bin/python scale.py --sizes 1k,10k,100k,1m
    make bench SIZES=1k,10k,100k,1m

Neo4j: a throwaway local server (heap from PATHWAYS_NEO4J_HEAP, default 4g here), or
NEO4J_URI if set (that database is emptied).  At 100k the offline bulk import
(``pathways load --import``: the streaming check writing neo4j-admin's files, then
neo4j-admin) is measured too, on a second throwaway server.  At 1m both routes run, one after
the other and nothing else of this script's running: the embedded store (``pathways load``,
in a process of its own so its peak memory is its own) and the bulk import into its own
server (6g heap, 4g page cache: PATHWAYS_BENCH_1M_HEAP and PATHWAYS_BENCH_1M_PAGECACHE
change them, e.g. on a shared machine); the online loader is not run at 1m.
``--results PATH`` writes the table there instead of benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import targets
from _common import neo4j_store, timed
from generate import generate, write
from pathways.analysis.consortia import Opportunity, consortia
from pathways.analysis.gaps import GapQuery, gap_report
from pathways.analysis.pathways import pathways_from
from pathways.config import Neo4jSettings
from pathways.gcpause import gc_paused
from pathways.loading import plan_for_store
from pathways.model import COMMON_NEEDS, NodeKind
from pathways.store import PathwayFilter
from pathways.store.embedded import EmbeddedStore
from pathways.store.neo4j import Neo4jStore
from queries import graph as q

HERE = Path(__file__).parent
RESULTS: list[tuple[str, str, str, str]] = []  # (size, store, measure, value)


def record(size: str, store: str, measure: str, value: str) -> None:
    RESULTS.append((size, store, measure, value))
    print(f"{size:>5} {store:9} {measure:42} {value}", flush=True)


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"p50 {statistics.median(ordered) * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms"


def parse_size(text: str) -> int:
    text = text.strip().lower()
    factor = {"k": 1_000, "m": 1_000_000}.get(text[-1], 1)
    return int(float(text.rstrip("km")) * factor)


def bench_paths(label, size, store, workers, rng, samples=200):
    """Full pathways_from calls, each (worker, filter) asked once: results are cached per
    data version, and a repeated question would time the cache."""
    # Warm up first: right after a large load Neo4j re-plans as its statistics settle.
    asked: set[tuple[str, tuple[str, ...]]] = set()
    warm: tuple[tuple[str, ...], ...] = (("loneliness",), ())
    for worker in workers[:20]:
        for first in warm:
            pathways_from(store, worker, PathwayFilter(needs=first), 4)
            asked.add((worker, first))
    picks: list[tuple[str, tuple[str, ...]]] = []
    possible = len(workers) * (len(COMMON_NEEDS) + 1) - len(asked)
    while len(picks) < min(samples, possible):
        worker = rng.choice(workers)
        needs: tuple[str, ...] = (rng.choice(COMMON_NEEDS),) if rng.random() < 0.5 else ()
        if (worker, needs) not in asked:
            asked.add((worker, needs))
            picks.append((worker, needs))
    times = []
    for worker, asked_needs in picks:
        seconds, _ = timed(pathways_from, store, worker, PathwayFilter(needs=asked_needs), 4)
        times.append(seconds)
    record(size, label, f"pathways latency ({len(picks)} questions, none cached)", percentiles(times))


def bench_analyses(label, size, store, rng):
    report_s, _ = timed(gap_report, store, GapQuery())
    record(size, label, "gap report (snapshot + compute)", f"{report_s:.2f} s")
    places = [n["id"] for n in store.list_nodes(NodeKind.LOCALITY)]
    opp = Opportunity(("loneliness", "mental_health"), tuple(rng.sample(places, min(3, len(places)))))
    seconds, result = timed(lambda: consortia(store, opp))
    record(size, label, "consortium suggestion", f"{seconds:.2f} s ({len(result['suggestions'])} suggestions)")


def naive_load_rate(store, plan, sample=1000) -> float:
    """One transaction per row, the same CREATE the batched loader runs: what batching saves.

    Runs on an empty store (then emptied again), as the batched load does.
    """
    store.reset()
    store.ensure_constraints()
    rows = plan.nodes[:sample]
    began = time.perf_counter()
    with store.driver.session(database=store.settings.database) as session:
        for node in rows:
            session.execute_write(
                lambda tx, n=node: q.upsert_nodes(tx, n.kind, [n.props], "naive", new=True))
    rate = len(rows) / (time.perf_counter() - began)
    store.reset()
    return rate


def bulk_import(label: str, folder: Path, rows: int, heap: str, pagecache: str):
    """``pathways load --import`` (or ``neo4j start --import``): the Living Database checked
    and neo4j-admin's files written in one streaming pass, then neo4j-admin into a fresh
    server; returns it running."""
    from pathways import neo4j_runtime as rt
    from pathways.neo4j_runtime import bulk
    from pathways.store.base import now_iso

    home = Path(tempfile.mkdtemp(prefix=f"bulk-{label}-"))
    check_s, files = timed(bulk.prepare_import, [folder], home / "import-files", now_iso())
    info = rt.start_server(home=home / "neo4j", heap=heap, pagecache=pagecache, import_plan=files,
                           dies_with_caller=True)
    whole = check_s + info.import_seconds
    record(label, "neo4j", "load, bulk import (--import: check + files + neo4j-admin)",
           f"{whole:.1f} s, {rows / whole:,.0f} rows/s")
    record(label, "neo4j", "of which checking and writing the files (one pass)", f"{check_s:.1f} s")
    record(label, "neo4j", "of which neo4j-admin (bare, same files)",
           f"{info.import_seconds:.1f} s, {rows / info.import_seconds:,.0f} rows/s")
    record(label, "neo4j", "server start after the import + constraints",
           f"{info.started_seconds - info.import_seconds:.1f} s")
    return info


EMBEDDED_CHILD = "--embedded-child"


def embedded_child(folder: Path, home: Path, label: str, size: int, phase: str) -> None:
    """The embedded route in processes of their own, so their peak memory is their own:
    ``load`` (``pathways load``), then ``query`` (open graph.json afresh as a one-off command
    does, then pathways).  Prints this phase's rows as JSON on the last line."""
    if phase == "load":
        from pathways.loading import load_paths

        store = EmbeddedStore(home / "graph.json")
        with gc_paused():  # as pathways load does
            seconds, _ = timed(load_paths, store, [folder])
        record(label, "embedded", "load (pathways load: read, validate, write, save)", f"{seconds:.1f} s")
    else:
        began = time.perf_counter()
        store = EmbeddedStore(home / "graph.json")
        opened = time.perf_counter()
        store.stats()
        record(label, "embedded", "open graph.json afresh + stats (a one-off command)",
               f"{time.perf_counter() - began:.1f} s (open {opened - began:.1f} s)")
        bench_queries("embedded", label, size, store, random.Random(size))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    record(label, "embedded", f"{phase} process peak RSS", f"{peak:,.0f} MiB")
    print(json.dumps(RESULTS), flush=True)
    # Done: skip freeing the graph object by object on the way out (at 1m, 1-3 minutes of
    # the next step's time, and memory the next step could use meanwhile).
    sys.stderr.flush()
    os._exit(0)


def memory_cap() -> int:
    """Bytes the embedded route's process may take: PATHWAYS_BENCH_MAX_GB, else 90 % of the
    memory available now, so a route too big for a shared machine fails alone (MemoryError)
    instead of waking the kernel's OOM killer among other people's processes."""
    if os.environ.get("PATHWAYS_BENCH_MAX_GB"):
        return int(float(os.environ["PATHWAYS_BENCH_MAX_GB"]) * 2**30)
    available = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                     if line.startswith("MemAvailable"))
    return int(available * 1024 * 0.9)


def embedded_in_child(folder: Path, home: Path, label: str, size: int) -> None:
    for phase in ("load", "query"):
        cap = memory_cap()

        def limit(cap: int = cap) -> None:
            resource.setrlimit(resource.RLIMIT_AS, (cap, cap))

        done = subprocess.run([sys.executable, __file__, EMBEDDED_CHILD, str(folder), str(home),
                               label, str(size), phase], capture_output=True, text=True,
                              cwd=HERE, preexec_fn=limit)
        printed = [line for line in done.stdout.splitlines() if line.startswith("[")]
        for row in json.loads(printed[-1]) if printed else []:
            record(*row)
        if done.returncode != 0:
            why = " ".join(done.stderr.split())[-300:]
            if "MemoryError" in done.stderr or "Not enough memory" in done.stderr:
                why = f"did not fit the {cap / 2**30:.1f} GiB free on the machine ({why[-120:]})"
            record(label, "embedded", f"the embedded route stopped ({phase})", "failed: " + why)
            return


def bench_app(size, store, workers):
    """Dash callback latency through the app's own HTTP endpoint (Flask test client), with
    the request bodies the Dash renderer sends (app_pages.Browser builds them from the app's
    callback map, so a page change cannot leave this benchmark calling stale ids)."""
    from app_pages import HOPS, ROWS, SELECTED, Browser
    from pathways.webstore import set_store

    set_store(store)
    from app import app

    client = app.server.test_client()
    client.get("/")  # pages register their callbacks on the first request
    browser = Browser(app, client)
    times, draw_times, elements = [], [], []
    for worker in workers[:50]:
        form = {"pw-worker.value": worker, "pw-needs.value": [], "pw-locality.value": None,
                "pw-free.value": [], "pw-access.value": [], "pw-hops.value": HOPS,
                f"pw-table.{SELECTED}": []}
        seconds, _ = timed(browser.call, f"pw-table.{ROWS}", form, "pw-worker.value")
        times.append(seconds)
        seconds, response = timed(browser.call, "pw-graph.elements", form, "pw-worker.value")
        draw_times.append(seconds)
        elements.append(len(response.get("pw-graph", {}).get("elements", [])))
    for worker in workers[50:]:  # the largest view: every link worker's, not the first 50's
        form = {"pw-worker.value": worker, "pw-needs.value": [], "pw-locality.value": None,
                "pw-free.value": [], "pw-access.value": [], "pw-hops.value": HOPS,
                f"pw-table.{SELECTED}": []}
        response = browser.call("pw-graph.elements", form, "pw-worker.value")
        elements.append(len(response.get("pw-graph", {}).get("elements", [])))
    set_store(None)
    if browser.failures:
        raise SystemExit("app callbacks failed: " + "; ".join(browser.failures[:5]))
    record(size, store.name, "app: pathways callback", percentiles(times))
    record(size, store.name, "app: network callback", percentiles(draw_times))
    record(size, store.name, f"app: elements per view ({len(elements)} link workers)",
           f"median {statistics.median(elements):.0f}, max {max(elements)}")


def app_rss(size_label: str, store_choice: str, home: Path, workers: list[str],
            env: dict | None = None) -> None:
    """Peak RSS of a fresh process doing what the app does: open, pathways, gap report."""
    code = f"""
import resource, os
os.environ['PATHWAYS_STORE'] = {store_choice!r}
from pathways.store import open_store
from pathways.analysis.pathways import pathways_from
from pathways.analysis.gaps import gap_report
s = open_store()
for w in {workers[:20]!r}:
    pathways_from(s, w)
gap_report(s)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""
    env = dict(os.environ, PATHWAYS_HOME=str(home), **(env or {}))
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    if done.returncode == 0:
        record(size_label, store_choice, "app process peak RSS", f"{int(done.stdout.split()[-1]) / 1024:.0f} MiB")
    else:
        record(size_label, store_choice, "app process peak RSS", "failed: " + done.stderr[-200:])


def rt_stop(info) -> None:
    from pathways import neo4j_runtime as rt

    rt.stop_server(info, remove_home=True)


def jvm_rss(size_label: str, pid: int) -> None:
    """Peak RSS of a local Neo4j JVM this script started."""
    if pid:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM"):
                record(size_label, "neo4j", "Neo4j JVM peak RSS", line.split(":", 1)[1].strip())


def bench_queries(store_label, label, size, store, rng) -> list[str]:
    """What every store is measured on after a load; returns the link worker ids."""
    workers = [p["id"] for p in store.list_nodes(NodeKind.PERSON, "link_worker")]
    bench_paths(store_label, label, store, workers, rng)
    if size <= 100_000:
        bench_analyses(store_label, label, store, rng)
    if size == 10_000:
        bench_app(label, store, workers)
    return workers


def generate_and_write(size: int, folder: Path) -> int:
    tables = generate(size)
    write(tables, folder)
    return sum(len(r) for r in tables.values())


def run_size(size: int, tmp: Path, neo, with_embedded: bool, bulk_only: bool = False) -> None:
    label = f"{size // 1000}k" if size < 1_000_000 else f"{size // 1_000_000}m"
    rng = random.Random(size)
    folder = tmp / f"synthetic-{label}"
    with gc_paused():
        seconds, rows = timed(lambda: generate_and_write(size, folder))
    record(label, "-", "generate + write CSV", f"{seconds:.1f} s, {rows:,} rows")
    home = tmp / f"home-{label}"
    if size >= 1_000_000:
        # A million: each route on its own, holding no plan here (the streaming check
        # writes the importer's files; the embedded route runs in a process of its own).
        if neo is not None or bulk_only:
            info = bulk_import(label, folder, rows,
                               heap=os.environ.get("PATHWAYS_BENCH_1M_HEAP", "6g"),
                               pagecache=os.environ.get("PATHWAYS_BENCH_1M_PAGECACHE", "4g"))
            try:
                with Neo4jStore(Neo4jSettings(info.uri, info.user, info.password, "neo4j")) as big:
                    bench_queries("neo4j", label, size, big, rng)
                jvm_rss(label, info.pid)
            finally:
                rt_stop(info)
        if with_embedded:
            embedded_in_child(folder, home, label, size)
        return
    if with_embedded:
        embedded = EmbeddedStore(home / "graph.json")
        plan_s, plan = timed(lambda: plan_for_store(embedded, [folder]))
        record(label, "-", "read + validate (no store)", f"{plan_s:.1f} s, {rows / plan_s:,.0f} rows/s")
        with gc_paused():  # as pathways load does
            write_s, _ = timed(embedded.write, plan.nodes, plan.rels)
        record(label, "embedded", "load (write + save)", f"{write_s:.1f} s, {rows / write_s:,.0f} rows/s")
        workers = bench_queries("embedded", label, size, embedded, rng)
        if size >= 100_000:
            app_rss(label, "embedded", home, workers)
        del embedded
        for props in itertools.chain((n.props for n in plan.nodes), (r.props for r in plan.rels)):
            props.pop("loaded_at", None)  # as planned, for Neo4j: the embedded store set it
    else:
        plan = None
    if neo is None:
        return
    if plan is None:
        plan_s, plan = timed(lambda: plan_for_store(EmbeddedStore(None), [folder]))
        record(label, "-", "read + validate (no store)", f"{plan_s:.1f} s, {rows / plan_s:,.0f} rows/s")
    assert plan is not None  # read above when the embedded store did not
    naive = naive_load_rate(neo, plan)
    with gc_paused():
        write_s, _ = timed(neo.write, plan.nodes, plan.rels)
    batched = rows / write_s
    record(label, "neo4j", "load, batched (pathways load, online)",
           f"{write_s:.1f} s, {batched:,.0f} rows/s")
    record(label, "neo4j", "load, naive (1 transaction per row, 1,000 nodes)",
           f"{naive:,.0f} rows/s; batched is {batched / naive:.0f}x")
    reload_s, _ = timed(neo.write, plan.nodes, plan.rels)
    record(label, "neo4j", "reload, nothing changed", f"{reload_s:.1f} s")
    del plan
    if size >= 100_000:
        info = bulk_import(label, folder, rows, heap="2g", pagecache="1g")
        rt_stop(info)
    workers = bench_queries("neo4j", label, size, neo, rng)
    if size >= 100_000:
        app_rss(label, "neo4j", home, workers,
                env={"NEO4J_URI": neo.settings.uri, "NEO4J_USER": neo.settings.user,
                     "NEO4J_PASSWORD": neo.settings.password})
        jvm_rss(label, int(os.environ.get("PATHWAYS_BENCH_NEO4J_PID", 0)))


# Sections other benchmark scripts write into RESULTS.md (app_pages.py, stress.py): kept.
OWN_SECTIONS = ("## Targets",)


def kept_sections(path: Path) -> list[str]:
    """The ``## `` sections of ``path`` that this script did not write, in their order."""
    if not path.exists():
        return []
    kept: list[str] = []
    keep = False
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            keep = not line.startswith(OWN_SECTIONS)
        if keep:
            kept.append(line)
    return ([""] + kept) if kept else []


def write_results(path: Path, sizes: str) -> None:
    cores = os.cpu_count()
    mem = next((line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                if line.startswith("MemTotal")), "?")
    lines = [
        "# Benchmark results",
        "",
        (f"Run {time.strftime('%Y-%m-%d %H:%M')} on {platform.machine()}, {cores} cores,"
         f" {int(mem) / 1024 / 1024:.0f} GiB RAM, Python {platform.python_version()}; sizes {sizes}."),
        "Reproduce: `make bench SIZES=" + sizes + "`. One run: figures, not assertions.",
        "",
        "| size | store | measure | value |",
        "|---|---|---|---|",
    ]
    lines += [f"| {s} | {st} | {m} | {v} |" for s, st, m, v in RESULTS]
    lines += targets.section(RESULTS)
    path.write_text("\n".join(lines + kept_sections(path)) + "\n", encoding="utf-8")
    print(f"wrote {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1k,10k,100k")
    parser.add_argument("--no-neo4j", action="store_true")
    parser.add_argument("--results", type=Path, default=HERE / "RESULTS.md",
                        help="where to write the table (default benchmarks/RESULTS.md)")
    if len(sys.argv) == 7 and sys.argv[1] == EMBEDDED_CHILD:
        embedded_child(Path(sys.argv[2]), Path(sys.argv[3]), sys.argv[4], int(sys.argv[5]),
                       sys.argv[6])
        return
    args = parser.parse_args()
    sizes = [parse_size(s) for s in args.sizes.split(",")]
    os.environ.setdefault("PATHWAYS_NEO4J_HEAP", "4g")
    with tempfile.TemporaryDirectory() as tmp:
        if args.no_neo4j:
            for size in sizes:
                run_size(size, Path(tmp), None, True)
        else:
            small = [size for size in sizes if size < 1_000_000]
            if small:
                with neo4j_store() as neo:
                    for size in small:
                        run_size(size, Path(tmp), neo, with_embedded=True)
            for size in sizes:  # a million: each route on its own, nothing else running
                if size >= 1_000_000:
                    run_size(size, Path(tmp), None, with_embedded=True, bulk_only=True)
    write_results(args.results, args.sizes)
    print(json.dumps({"peak_rss_benchmark_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024}))


if __name__ == "__main__":
    main()
