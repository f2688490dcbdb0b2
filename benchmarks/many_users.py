"""Many users: 50 people using the app at once on a 100k-node graph, with
``pathways serve --workers N`` (N = 1, 2, 4), on both stores.

For each store a generated graph (``generate.py``) is loaded, an account is added (so
every request goes through sign-in, the session cookie and the CSRF header, as in a real
deployment), and for each worker count the app is started as a real server.  Then each
simulated user signs in and, until the time is up, does one of these, as its browser would
(the Dash callback POSTs, with ``X-CSRFToken``), pausing ``--think`` seconds on average
between them:

- pathways (60 %): a link worker, needs, a locality and filters chosen at random: the results
  table callback, then the referral network callback;
- gaps (20 %): the Gaps page's report (heatmap, tables) at the default hop limit;
- consortia (20 %): one or two needs and one or two localities at random: the consortium
  suggestions.

Counted per run: errors (HTTP status other than 200/204, a timeout, or an error alert in the
answer; must be 0), latency p50 / p95 / max per interaction, requests per second, the
server's start-up time (reading and warming the data before forking), and memory per process
from ``/proc/PID/smaps_rollup``: RSS, PSS (shared pages divided among the processes that
share them: what each really costs) and USS (pages only that process has), for the master
and each worker, when the server is ready and at the end of the run.

Why not locust: the users here are ~150 lines that reuse the app's own callback
declarations (``/_dash-dependencies``) and the sign-in form, run under the project's venv and
print the figures RESULTS.md wants (PSS per worker, per-interaction percentiles) without a
second process tree, a web UI or a new dependency; locust would add gevent and still need
the same Dash-specific request building.

    .venv/bin/python benchmarks/many_users.py [--size 100000] [--users 50] [--seconds 60]
        [--workers 1,2,4] [--stores embedded,neo4j] [--think 1.0] [--no-results]
        [--old DIR] [--code LABEL=DIR ...]

``--old DIR`` compares this code with an older checkout (``git archive COMMIT | tar -x -C
DIR``) on the same loaded data: for each worker count the old code's server runs first, then
this code's, one after the other (so both meet the same machine), and each row says which.
``--code LABEL=DIR`` (repeatable) adds further checkouts the same way, labelled LABEL (e.g.
this code with another helper's patch applied).  Per row also: the servers' CPU seconds
(master and workers, from ``/proc/PID/stat``), CPU per request, the users' own CPU, and the
load average at the end.

Neo4j: a throwaway local server (``--heap``), or ``NEO4J_URI`` if set (that database is
emptied).  Prints the figures and writes them as a section of benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

from generate import generate, write
from pathways.accounts import Accounts
from pathways.model import COMMON_ACCESS_TAGS
from stress import alert_in, free_port

HERE = Path(__file__).resolve().parent
PATHWAYS = Path(sys.executable).with_name("pathways")
SECTION = "## Many users: `pathways serve --workers N` (issue 18 item 6)"
PASSWORD = "a long enough password for the benchmark"
CALLBACK = "/_dash-update-component"
ALERT_MARK = b'"role":"alert"'  # in every answer with an alert (Dash writes compact JSON)
INTERACTIONS = (("pathways", 0.6), ("gaps", 0.2), ("consortia", 0.2))
MIB = 1024


# ---- memory ----------------------------------------------------------------------------------
def smaps(pid: int) -> dict[str, int]:
    """RSS, PSS and USS of a process, in KiB (``/proc/PID/smaps_rollup``)."""
    fields: dict[str, int] = {}
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return {}
    for line in text.splitlines():
        name, _, rest = line.partition(":")
        parts = rest.split()
        if parts and parts[-1] == "kB":
            fields[name] = int(parts[0])
    return {"rss": fields.get("Rss", 0), "pss": fields.get("Pss", 0),
            "uss": fields.get("Private_Clean", 0) + fields.get("Private_Dirty", 0)}


def children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return sorted(found)


def memory(master: int) -> dict[str, dict[str, int]]:
    """{"master": {...}, "worker 1": {...}, ...} for the server's processes now."""
    taken = {"master": smaps(master)}
    for n, pid in enumerate(children(master), 1):
        taken[f"worker {n}"] = smaps(pid)
    return taken


def cpu_seconds(master: int) -> float:
    """User + system CPU seconds the server's processes (master and workers) have used."""
    total = 0.0
    for pid in [master, *children(master)]:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


# ---- figures ---------------------------------------------------------------------------------
@dataclass
class Run:
    store: str
    workers: int
    code: str = "this"
    cpu: float = 0.0   # seconds of CPU the server's processes used during the run
    users_cpu: float = 0.0  # seconds of CPU this process (the simulated users) used
    load: float = 0.0  # the machine's 1-minute load average at the end
    startup: float = 0.0
    seconds: float = 0.0
    requests: int = 0
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)
    latencies: dict[str, list[float]] = field(default_factory=dict)
    ready_memory: dict[str, dict[str, int]] = field(default_factory=dict)
    end_memory: dict[str, dict[str, int]] = field(default_factory=dict)
    peak_pss: int = 0  # KiB, all the server's processes together, highest sample
    lock: threading.Lock = field(default_factory=threading.Lock)

    def percentile(self, name: str, share: float) -> float:
        ordered = sorted(self.latencies.get(name, [])) or [0.0]
        return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))] * 1000

    def record(self, name: str, seconds: float, problem: str | None) -> None:
        with self.lock:
            self.requests += 1
            self.latencies.setdefault(name, []).append(seconds)
            if problem:
                self.errors += 1
                if len(self.error_samples) < 5:
                    self.error_samples.append(problem)


# ---- the app ---------------------------------------------------------------------------------
def start_app(env: dict, workers: int, threads: int, port: int,
              log: Path) -> subprocess.Popen:
    with log.open("w") as handle:
        server = subprocess.Popen(
            [str(PATHWAYS), "serve", "--workers", str(workers), "--threads", str(threads),
             "--port", str(port)], env=env, stdout=handle, stderr=subprocess.STDOUT,
            start_new_session=True)
    deadline = time.monotonic() + 900
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the app exited:\n{log.read_text()[-3000:]}")
        try:
            if requests.get(f"http://127.0.0.1:{port}/login", timeout=5).status_code == 200:
                return server
        except requests.RequestException:
            pass
        time.sleep(0.5)
    stop_app(server)
    raise SystemExit(f"the app did not answer within 900 s:\n{log.read_text()[-3000:]}")


def stop_app(server: subprocess.Popen) -> None:
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=120)


def sign_in(base: str, name: str) -> requests.Session:
    session = requests.Session()
    form = session.get(f"{base}/login", timeout=60).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form)
    if not token:
        raise SystemExit(f"no sign-in form at {base}/login")
    answer = session.post(f"{base}/login", timeout=60, allow_redirects=False,
                          data={"name": name, "password": PASSWORD, "next": "/",
                                "csrf_token": token[1]})
    if answer.status_code != 302:
        raise SystemExit(f"sign-in refused: {answer.status_code} {answer.text[:300]}")
    session.headers["X-CSRFToken"] = session.cookies["_csrf_token"] or ""
    return session


def callbacks(session: requests.Session, base: str) -> dict[str, dict]:
    """The callbacks each interaction fires, as the app declares them."""
    deps = session.get(f"{base}/_dash-dependencies", timeout=60).json()

    def writing(output: str) -> dict:
        found = [d for d in deps if output in d["output"].strip(".").split("...")]
        if not found:
            raise SystemExit(f"the app has no callback writing {output}")
        return found[0]

    return {"pathways": writing("pw-message.children"), "network": writing("pw-graph.elements"),
            "gaps": writing("gp-heatmap.figure"), "consortia": writing("co-cells.rowData")}


def body(dep: dict, values: dict, changed: str) -> dict:
    def values_of(items):
        return [{**item, "value": values.get(f"{item['id']}.{item['property']}")}
                for item in items]

    parts = [p.rsplit(".", 1) for p in dep["output"].strip(".").split("...")]
    # an id written as JSON (the pages' address-state stores) is sent as the object itself
    outputs = [{"id": json.loads(i) if i.startswith("{") else i, "property": p}
               for i, p in parts]
    return {"output": dep["output"],
            "outputs": outputs if dep["output"].startswith("..") else outputs[0],
            "inputs": values_of(dep["inputs"]), "state": values_of(dep.get("state", [])),
            "changedPropIds": [changed]}


def post(session: requests.Session, base: str, name: str, request: dict, run: Run) -> None:
    began = time.perf_counter()
    problem = None
    try:
        answer = session.post(f"{base}{CALLBACK}", json=request, timeout=120)
        if answer.status_code not in (200, 204):
            problem = f"{name}: HTTP {answer.status_code}: {answer.text[:200]}"
        # Only an answer holding an alert's marker is parsed and walked: the users share the
        # server's cores, and walking every 5.7 MB Gaps answer (38,000 rows) in Python cost
        # the users' process more CPU than the server spent making it.
        elif (answer.status_code == 200 and ALERT_MARK in answer.content
              and alert_in(answer.json())):
            problem = f"{name}: alert: {answer.text[:300]}"
    except (requests.RequestException, ValueError) as exc:
        problem = f"{name}: {type(exc).__name__}: {exc}"
    run.record(name, time.perf_counter() - began, problem)


@dataclass
class Choices:
    workers: list[str]
    needs: list[str]
    places: list[str]


def user(session: requests.Session, base: str, deps: dict, choices: Choices, deadline: float,
         seed: int, think: float, run: Run) -> None:
    rng = random.Random(seed)
    time.sleep(rng.uniform(0, think))  # not all at the same instant
    names = [n for n, _ in INTERACTIONS]
    weights = [w for _, w in INTERACTIONS]
    while time.monotonic() < deadline:
        what = rng.choices(names, weights)[0]
        if what == "pathways":
            values = {
                "pw-worker.value": rng.choice(choices.workers),
                "pw-needs.value": rng.sample(choices.needs, rng.choice([0, 0, 1, 2])),
                "pw-locality.value": rng.choice([None, None, rng.choice(choices.places)]),
                "pw-free.value": ["free"] if rng.random() < 0.3 else [],
                "pw-access.value": (rng.sample(COMMON_ACCESS_TAGS, 1) if rng.random() < 0.1
                                    else []),
                "pw-hops.value": 4,
            }
            post(session, base, "pathways table", body(deps["pathways"], values,
                                                       "pw-worker.value"), run)
            post(session, base, "pathways network", body(deps["network"], values,
                                                         "pw-worker.value"), run)
        elif what == "gaps":
            post(session, base, "gaps report",
                 body(deps["gaps"], {"gp-hops.value": 4}, "gp-hops.value"), run)
        else:
            values = {"co-needs.value": rng.sample(choices.needs, rng.choice([1, 2])),
                      "co-places.value": rng.sample(choices.places, rng.choice([1, 2])),
                      "co-access.value": [], "co-free.value": [], "co-size.value": 4}
            post(session, base, "consortia", body(deps["consortia"], values, "co-needs.value"),
                 run)
        time.sleep(rng.uniform(0.5, 1.5) * think)


def sampler(master: int, stop: threading.Event, run: Run) -> None:
    while not stop.wait(5):
        taken = memory(master)
        run.peak_pss = max(run.peak_pss, sum(m.get("pss", 0) for m in taken.values()))


def run_workers(store: str, workers: int, env: dict, choices: Choices, args,
                tmp: Path, code: tuple[str, str | None] = ("this", None)) -> Run:
    """One row: the server for ``code`` (a label, and the checkout put first on PYTHONPATH,
    None for this one) with ``workers`` workers, and the users."""
    run = Run(store, workers, code=code[0])
    if code[1]:
        env = dict(env, PYTHONPATH=code[1])
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    began = time.monotonic()
    log = tmp / f"app-{store}-{workers}-{code[0]}.log"
    server = start_app(env, workers, args.threads, port, log)
    run.startup = time.monotonic() - began
    try:
        time.sleep(2)  # the workers finish booting
        run.ready_memory = memory(server.pid)
        sessions = [sign_in(base, "user") for _ in range(args.users)]
        deps = callbacks(sessions[0], base)
        stop = threading.Event()
        watch = threading.Thread(target=sampler, args=(server.pid, stop, run), daemon=True)
        watch.start()
        deadline = time.monotonic() + args.seconds
        threads = [threading.Thread(target=user, args=(s, base, deps, choices, deadline, n,
                                                      args.think, run))
                   for n, s in enumerate(sessions)]
        started, cpu, users_cpu = time.monotonic(), cpu_seconds(server.pid), time.process_time()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        run.seconds = time.monotonic() - started
        run.cpu = cpu_seconds(server.pid) - cpu
        run.users_cpu = time.process_time() - users_cpu
        run.load = os.getloadavg()[0]
        stop.set()
        run.end_memory = memory(server.pid)
        run.peak_pss = max(run.peak_pss,
                           sum(m.get("pss", 0) for m in run.end_memory.values()))
    finally:
        stop_app(server)
    if run.errors:  # what the server said about them (worker timeouts, tracebacks)
        run.error_samples += [f"server log: {line}" for line in log.read_text().splitlines()
                              if any(w in line for w in ("[ERROR]", "[CRITICAL]", "[WARNING]",
                                                         "Error"))][:10]
    return run


# ---- stores ----------------------------------------------------------------------------------
def load(env: dict, data: Path) -> float:
    began = time.monotonic()
    done = subprocess.run([str(PATHWAYS), "load", str(data)], env=env, capture_output=True,
                          text=True)
    if done.returncode:
        raise SystemExit(f"the load failed: {done.stderr[-2000:]}")
    return time.monotonic() - began


def run_store(store: str, data: Path, choices: Choices, args, tmp: Path) -> list[Run]:
    env = dict(os.environ, PATHWAYS_HOME=str(tmp / "home"), PATHWAYS_STORE=store)
    for name in ("PATHWAYS_TRUSTED_HEADERS", "GUNICORN_CMD_ARGS"):
        env.pop(name, None)
    neo = None
    if store == "neo4j" and not os.environ.get("NEO4J_URI"):
        from pathways import neo4j_runtime as rt

        neo = rt.start_server(home=tmp / "neo4j", heap=args.heap, dies_with_caller=True)
        env.update(NEO4J_URI=neo.uri, NEO4J_USER=neo.user, NEO4J_PASSWORD=neo.password)
    runs = []
    try:
        if store == "neo4j":
            subprocess.run([str(PATHWAYS), "reset", "--yes"], env=env, check=True,
                           capture_output=True)
        print(f"{store}: loading {args.size:,} nodes...", flush=True)
        print(f"  loaded in {load(env, data):.0f} s", flush=True)
        Accounts(tmp / "home" / "accounts.json").add("user", "link-worker", PASSWORD)
        codes: list[tuple[str, str | None]] = [("this", None)]
        if args.old:
            codes.insert(0, ("old", str(args.old)))
        for given in args.code:
            label, _, folder = given.partition("=")
            codes.append((label, folder))
        for workers in args.workers:
            for code in codes:
                print(f"{store}, {workers} worker(s), {code[0]} code: {args.users} users for "
                      f"{args.seconds} s...", flush=True)
                run = run_workers(store, workers, env, choices, args, tmp, code)
                if neo is not None:
                    run.ready_memory["neo4j (JVM)"] = smaps(neo.pid)
                runs.append(run)
                for line in lines_of(run):
                    print(f"  {line}", flush=True)
                for sample in run.error_samples:
                    print(f"  error sample: {sample}", flush=True)
    finally:
        if neo is not None:
            from pathways import neo4j_runtime as rt

            rt.stop_server(neo)
    return runs


# ---- report ----------------------------------------------------------------------------------
def mib(kib: int) -> str:
    return f"{kib / MIB:,.0f}"


def latency_cells(run: Run) -> list[str]:
    return [f"{run.percentile(name, 0.5):,.0f} / {run.percentile(name, 0.95):,.0f}"
            for name in ("pathways table", "pathways network", "gaps report", "consortia")]


def memory_cell(taken: dict[str, dict[str, int]]) -> str:
    """Per process 'RSS/PSS/USS' in MiB: master first, then the workers."""
    return "; ".join(f"{name} {mib(m.get('rss', 0))}/{mib(m.get('pss', 0))}/"
                     f"{mib(m.get('uss', 0))}" for name, m in taken.items() if m)


def lines_of(run: Run) -> list[str]:
    return [
        f"start-up (read and warm, fork) {run.startup:.1f} s",
        (f"requests {run.requests:,} in {run.seconds:.0f} s "
        f"({run.requests / max(run.seconds, 0.001):.1f}/s), errors {run.errors}"),
        (f"server CPU {run.cpu:.0f} s ({1000 * run.cpu / max(run.requests, 1):.0f} ms a "
         f"request), the users' process {run.users_cpu:.0f} s; load average {run.load:.1f} "
         "at the end"),
        "p50 / p95 ms: " + ", ".join(f"{n} {c}" for n, c in zip(
            ("pathways table", "network", "gaps", "consortia"), latency_cells(run), strict=True)),
        f"memory RSS/PSS/USS MiB when ready: {memory_cell(run.ready_memory)}",
        f"memory RSS/PSS/USS MiB at the end: {memory_cell(run.end_memory)}",
        f"all the server's processes, PSS: {mib(run.peak_pss)} MiB at most",
    ]


def section(runs: list[Run], args) -> str:
    head = [
        SECTION,
        "",
        (f"Run {time.strftime('%Y-%m-%d %H:%M')} on {platform.machine()}, {os.cpu_count()} "
         f"cores, Python {platform.python_version()}: {args.users} signed-in users (session "
         f"cookie and CSRF header on every request) for {args.seconds} s per row on a "
         f"{args.size:,}-node graph, each doing a pathways search (table, then network: 60 %),"
         f" the Gaps report (20 %) or a consortium search (20 %) with random choices, and "
         f"pausing {args.think:g} s on average between them. `pathways serve --workers N "
         f"--threads {args.threads}`. Errors = HTTP status other than 200/204, timeouts, "
         "error alerts. Memory from /proc/PID/smaps_rollup: RSS/PSS/USS in MiB (PSS divides "
         "shared pages among the processes sharing them; USS is what only that process "
         "holds). Other work shared the machine: figures are indicative."),
        (f"Reproduce: `.venv/bin/python benchmarks/many_users.py --size {args.size} --users "
         f"{args.users} --seconds {args.seconds} --workers "
         f"{','.join(map(str, args.workers))}`."),
        "",
        ("| store | workers | code | start-up s | requests/s | errors | p50 / p95 ms: "
         "pathways table | network | gaps | consortia | CPU ms a request | load | "
         "PSS, all processes (MiB, peak) |"),
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for run in runs:
        head.append(
            f"| {run.store} | {run.workers} | {run.code} | {run.startup:.0f} | "
            f"{run.requests / max(run.seconds, 0.001):.1f} | {run.errors} | "
            + " | ".join(latency_cells(run))
            + f" | {1000 * run.cpu / max(run.requests, 1):.0f} | {run.load:.1f} | "
            f"{mib(run.peak_pss)} |")
    head += ["", "Memory per process (RSS/PSS/USS MiB), at the end of each run:", ""]
    head += [f"- {run.store}, {run.workers} worker(s), {run.code} code: "
             f"{memory_cell(run.end_memory)}" for run in runs]
    return "\n".join(head) + "\n"


def write_section(path: Path, text_of_section: str) -> None:
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    if SECTION in text:  # replace the earlier run's section, keep everything else
        before, _, rest = text.partition(SECTION)
        after = rest.find("\n## ")
        text = before.rstrip("\n") + "\n\n" + text_of_section + (rest[after:] if after >= 0
                                                                   else "")
    else:
        text = text.rstrip("\n") + "\n\n" + text_of_section
    path.write_text(text, encoding="utf-8")
    print(f"wrote the many-users section of {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=100_000, help="nodes in the graph")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--think", type=float, default=1.0,
                        help="average seconds a user pauses between interactions")
    parser.add_argument("--stores", default="embedded,neo4j")
    parser.add_argument("--heap", default="3g", help="the throwaway Neo4j server's heap")
    parser.add_argument("--results", type=Path, default=HERE / "RESULTS.md")
    parser.add_argument("--no-results", action="store_true", help="print only")
    parser.add_argument("--old", type=Path, default=None,
                        help="an older checkout to run before this code for each row")
    parser.add_argument("--code", action="append", default=[], metavar="LABEL=DIR",
                        help="another checkout to run after this code for each row")
    args = parser.parse_args()
    args.workers = [int(n) for n in args.workers.split(",")]
    runs: list[Run] = []
    with tempfile.TemporaryDirectory() as tmp:
        tables = generate(args.size, seed=31)
        write(tables, Path(tmp) / "data")
        choices = Choices(
            workers=[p["id"] for p in tables["people"] if p["role"] == "link_worker"],
            needs=[n["id"] for n in tables["needs"]],
            places=[p["id"] for p in tables["localities"]])
        for store in args.stores.split(","):
            folder = Path(tmp) / store
            folder.mkdir()
            runs += run_store(store, Path(tmp) / "data", choices, args, folder)
    if not args.no_results:
        write_section(args.results, section(runs, args))
    summary = {f"{r.store}/{r.workers}/{r.code}": {"errors": r.errors, "requests": r.requests,
                                          "peak_pss_mib": round(r.peak_pss / MIB)}
               for r in runs}
    print(summary)
    if any(r.errors for r in runs):
        print("errors: see the samples above", file=sys.stderr)


if __name__ == "__main__":
    main()
