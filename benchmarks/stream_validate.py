"""Peak memory and time of each way into a store, on one generated Living Database.

Each route runs in a fresh child process, so its peak RSS is its own:

* ``plan``      reading every file and keeping the load plan (what `pathways load` holds
                before it writes; the route that took 7.7 GiB at a million nodes);
* ``validate``  `pathways validate --fresh`: the streaming check, holding ids and digests;
* ``files``     the streaming check writing neo4j-admin's files in the same pass;
* ``embedded``  `pathways load` into an empty embedded store (plan, write, save);
* ``import``    the whole offline import: the streaming check writing the files, then
                neo4j-admin; and bare neo4j-admin again on the same files, for the ratio.

    .venv/bin/python benchmarks/stream_validate.py 100000 [--routes plan,validate,import]

``--late-admin`` starts neo4j-admin only once the check has written its files (as before
:func:`pathways.neo4j_runtime.early_admin.start_admin_early`), ``--early-admin`` during the check
even on a busy machine (default: as `load --import` decides, with a core idle), to measure
what starting it early gives.  ``--check-workers N`` makes the import route's check use N processes whatever the
machine's load (default: the code under test decides; each line says how many it used).
``--before DIR`` (a copy of an earlier version of the source, e.g. ``git archive REV | tar
-x -C DIR``) runs each route with that source too, alternating with this one, ``--rounds``
times: old and new side by side in the same run.  Each line gives the load average.

Prints one line per route; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).parent
ROUTES = ("plan", "validate", "files", "embedded", "import")


def child(route: str, folder: Path, work: Path) -> dict:
    """One route, in this process; returns its figures."""
    began = time.perf_counter()
    out: dict = {"route": route}
    if route == "plan":
        from pathways.loading import plan_for_store
        from pathways.store.embedded import EmbeddedStore

        plan = plan_for_store(EmbeddedStore(None), [folder])
        out.update(nodes=len(plan.nodes), rels=len(plan.rels), problems=len(plan.problems))
    elif route == "validate":
        from loaders.living_stream import check_paths

        checked = check_paths([folder], lambda ids: {}, keep_rejected=False)
        out.update(nodes=checked.nodes, rels=checked.rels, problems=len(checked.problems))
    elif route == "files":
        from pathways.neo4j_runtime import bulk

        files = bulk.prepare_import([folder], work / "import-files", "2026-01-01T00:00:00+00:00")
        out.update(rows=files.rows, workers_peak_mib=_workers_peak())
    elif route == "embedded":
        from pathways.loading import load_paths
        from pathways.store.embedded import EmbeddedStore

        store = EmbeddedStore(work / "home" / "graph.json")
        result = load_paths(store, [folder])
        out.update(summary=str(result.summary))
    elif route == "import":
        from pathways import neo4j_runtime as rt
        from pathways.neo4j_runtime import bulk

        java, libs = rt.java_executable(), rt.ensure_jars()
        classpath = f"{libs}/*"
        used = _count_check_workers()
        forced = os.environ.get("STREAM_CHECK_WORKERS")
        home = work / "neo4j"
        home.mkdir(parents=True)
        # as `load --import` does: the check's workers are decided, then neo4j-admin's JVM
        # starts while the check runs (code that has no start_admin_early, e.g. --before an
        # older version, decides inside prepare_import and starts neo4j-admin after it)
        early = None
        workers = int(forced) if forced else None
        starter = _early_admin_module(bulk)
        if starter is not None and not os.environ.get("STREAM_LATE_ADMIN"):
            import loaders.living_stream as stream
            from pathways.processes import idle_cores

            idle = idle_cores()
            workers = workers or stream.check_workers(idle)
            if starter.admin_early_pays(idle) or os.environ.get("STREAM_EARLY_ADMIN"):
                early = starter.start_admin_early(java, rt.JVM_FLAGS, classpath, home)
        files = bulk.prepare_import([folder], work / "import-files", "2026-01-01T00:00:00+00:00",
                                    workers=workers)
        files.admin = early
        prepared = time.perf_counter() - began
        out["check_workers"] = int(forced) if forced else (used[-1] if used else None)
        out["workers_peak_mib"] = _workers_peak()
        out["check_cpu_s"] = round(_cpu_seconds(), 1)  # this process and its workers'
        out["admin_started_early"] = early is not None
        cpu_before_admin = _cpu_seconds()
        rt._write_config(home, rt.free_port(), "1g", "512m", None)
        admin_began = time.perf_counter()
        bulk.run_import(java, rt.JVM_FLAGS, classpath, home, files)
        admin = time.perf_counter() - admin_began
        out["neo4j_admin_cpu_s"] = round(_cpu_seconds() - cpu_before_admin, 1)
        bare_home = work / "neo4j-bare"
        bare_home.mkdir(parents=True)
        rt._write_config(bare_home, rt.free_port(), "1g", "512m", None)
        bare_began = time.perf_counter()
        bulk.run_import(java, rt.JVM_FLAGS, classpath, bare_home, files)
        bare = time.perf_counter() - bare_began
        out.update(rows=files.rows, check_and_write_s=round(prepared, 1),
                   neo4j_admin_s=round(admin, 1), bare_neo4j_admin_s=round(bare, 1),
                   whole_import_s=round(prepared + admin, 1),
                   ratio_to_bare=round((prepared + admin) / bare, 2))
        began = time.perf_counter() - (prepared + admin)  # wall: check + write + one import
    out["seconds"] = round(time.perf_counter() - began, 1)
    return out


def _early_admin_module(bulk):
    """Where the code under test keeps ``start_admin_early``: its own module, ``bulk``
    (code before it moved), or ``None`` (code from before neo4j-admin started early)."""
    try:
        from pathways.neo4j_runtime import early_admin
    except ImportError:
        return bulk if hasattr(bulk, "start_admin_early") else None
    return early_admin


def _count_check_workers() -> list[int]:
    """How many worker processes the check decides on (filled in when it decides)."""
    import loaders.living_stream as stream

    decided: list[int] = []
    decide = stream.check_workers

    def counted(*args, **kwargs) -> int:
        decided.append(decide(*args, **kwargs))
        return decided[-1]

    stream.check_workers = counted
    return decided


def _cpu_seconds() -> float:
    """CPU time (user + system) of this process and its finished children so far."""
    mine, theirs = (resource.getrusage(who) for who in (resource.RUSAGE_SELF,
                                                         resource.RUSAGE_CHILDREN))
    return mine.ru_utime + mine.ru_stime + theirs.ru_utime + theirs.ru_stime


def _workers_peak() -> int:
    """The largest peak RSS of this process's children so far (the check's workers, before
    neo4j-admin runs), in MiB."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024


def run(route: str, folder: Path, source: Path = HERE.parent) -> dict:
    """``route`` in a child process (importing the project from ``source``): its figures
    and its peak RSS."""
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix=f"stream-{route}-") as work:
        done = subprocess.run(
            [sys.executable, __file__, "--child", route, str(folder), work],
            capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=str(source)))
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # the largest child yet
    if done.returncode != 0:
        return {"route": route, "failed": done.stderr[-800:]}
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    figures["peak_rss_mib"] = figures.pop("self_peak_kib") // 1024
    figures["largest_child_so_far_mib"] = peak // 1024
    figures["load_average"] = f"{load:.1f}-{os.getloadavg()[0]:.1f}"
    if source != HERE.parent:
        figures["source"] = str(source)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("nodes", nargs="?", type=int, default=100_000)
    parser.add_argument("--routes", default="plan,validate,files,embedded,import")
    parser.add_argument("--folder", type=Path, default=None,
                        help="an existing generated Living Database (else one is generated)")
    parser.add_argument("--before", type=Path, default=None,
                        help="an earlier version's source tree, run alternately with this one")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--check-workers", type=int, default=None,
                        help="the import route's check in this many processes (default: as"
                             " many as idle cores, decided by the code under test)")
    parser.add_argument("--late-admin", action="store_true",
                        help="start neo4j-admin after the check, not during it")
    parser.add_argument("--early-admin", action="store_true",
                        help="start neo4j-admin during the check however busy the machine")
    parser.add_argument("--child", nargs=3, metavar=("ROUTE", "FOLDER", "WORK"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.check_workers:
        os.environ["STREAM_CHECK_WORKERS"] = str(args.check_workers)
    if args.late_admin:
        os.environ["STREAM_LATE_ADMIN"] = "1"
    if args.early_admin:
        os.environ["STREAM_EARLY_ADMIN"] = "1"
    if args.child:
        route, folder, work = args.child
        figures = child(route, Path(folder), Path(work))
        figures["self_peak_kib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(json.dumps(figures))
        return
    with tempfile.TemporaryDirectory(prefix="stream-data-") as tmp:
        folder = args.folder
        if folder is None:
            from generate import generate, write

            folder = Path(tmp) / "living-db"
            write(generate(args.nodes), folder)
        for _round in range(args.rounds):
            for route in args.routes.split(","):
                if args.before is not None:
                    print(json.dumps(run(route.strip(), folder, args.before)), flush=True)
                print(json.dumps(run(route.strip(), folder)), flush=True)


if __name__ == "__main__":
    main()
