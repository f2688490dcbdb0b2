"""Stress benchmark: 50 concurrent app users while loads rename everything, on both stores.

For each store: a generated graph is loaded ("v1 ..." names), the app is started as a real
server (``pathways serve``), then simulated link workers change the Pathways page's form
again and again, each change POSTing the callbacks a browser fires for it
(``/_dash-update-component``: the results table, then the referral network) with random
workers and filters, while ``pathways load`` runs in a loop, switching every name between
"v1 ..." and "v2 ...".  The callbacks' ids and inputs are read from the app itself
(``/_dash-dependencies``).  Counted per store:

- errors: an HTTP status other than 200 (or 204, "nothing changed"), a timeout, or an
  error alert (``role="alert"``) in the answer;
- mixed answers: one answer holding both "v1 " and "v2 " names (half of a load seen);
- latency p50 / p95 / max per callback, and how many loads landed during the run.

Prints the figures and writes them as a section of benchmarks/RESULTS.md (replacing an
earlier stress section).  Asserts nothing: the tests assert; this measures.

    .venv/bin/python benchmarks/stress.py [--users 50] [--seconds 60] [--size 2000]
                                          [--stores embedded,neo4j] [--no-results]

Neo4j: a throwaway local server (``pathways.neo4j_runtime``), or ``NEO4J_URI`` if set
(that database is emptied).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

from generate import generate, write
from pathways.model import COMMON_ACCESS_TAGS, COMMON_NEEDS

HERE = Path(__file__).resolve().parent
PATHWAYS = Path(sys.executable).with_name("pathways")
SECTION = "## Stress: concurrent app users during loads"
VERSION_MARK = re.compile(r"\bv([12]) ")


@dataclass
class Figures:
    store: str
    requests: int = 0
    errors: int = 0
    mixed: int = 0
    latencies: dict[str, list[float]] = field(default_factory=dict)  # per callback
    loads: int = 0
    load_failures: int = 0
    load_seconds: list[float] = field(default_factory=list)
    seconds: float = 0.0
    load_average: float = 0.0  # of the machine (1 min) when the users stopped
    error_samples: list[str] = field(default_factory=list)
    by_version: dict[str, int] = field(default_factory=lambda: {"v1": 0, "v2": 0})
    lock = threading.Lock()

    def percentile(self, share: float, callback: str = "table") -> float:
        ordered = sorted(self.latencies.get(callback, [])) or [0.0]
        return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))] * 1000


# ---- data ------------------------------------------------------------------------------------
def write_versions(size: int, folder: Path) -> tuple[Path, Path, list[str], list[str]]:
    """The same graph twice, every name starting "v1 " in one copy and "v2 " in the other."""
    tables = generate(size, seed=17)
    for version in ("v1", "v2"):
        for rows in tables.values():
            for row in rows:
                if row.get("name"):
                    row["name"] = f"{version} {row['name'].removeprefix('v1 ')}"
        write(tables, folder / version)
    workers = [p["id"] for p in tables["people"] if p["role"] == "link_worker"]
    places = [p["id"] for p in tables["localities"]]
    return folder / "v1", folder / "v2", workers, places


# ---- the app ---------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_app(env: dict, port: int, log: Path) -> subprocess.Popen:
    handle = log.open("w")
    server = subprocess.Popen([str(PATHWAYS), "serve", "--port", str(port)], env=env,
                              stdout=handle, stderr=subprocess.STDOUT, start_new_session=True)
    handle.close()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the app exited:\n{log.read_text()[-3000:]}")
        try:
            if requests.get(f"http://127.0.0.1:{port}/", timeout=5).status_code == 200:
                return server
        except requests.RequestException:
            pass  # not listening yet
        time.sleep(0.3)
    server.terminate()
    raise SystemExit(f"the app did not answer within 120 s:\n{log.read_text()[-3000:]}")


def form_callbacks(base: str) -> list[dict]:
    """The Pathways page's callbacks that a change of its form fires, as the app declares
    them: the results table (first) and the referral network (if the page has one)."""
    deps = requests.get(f"{base}/_dash-dependencies", timeout=30).json()
    fired = [dep for dep in deps if {"id": "pw-worker", "property": "value"} in dep["inputs"]]
    table = [dep for dep in fired if "pw-message.children" in dep["output"]]
    network = [dep for dep in fired if "pw-graph.elements" in dep["output"]]
    if not table:
        raise SystemExit("the app has no callback from pw-worker to pw-message (Pathways page);"
                         f" it has: {[dep['output'] for dep in deps]}")
    return table[:1] + network[:1]


def request_body(dep: dict, values: dict) -> dict:
    outputs = [{"id": json.loads(i) if i.startswith("{") else i, "property": p} for i, p in
               (part.rsplit(".", 1) for part in dep["output"].strip(".").split("..."))]
    return {
        "output": dep["output"],
        "outputs": outputs if dep["output"].startswith("..") else outputs[0],
        "inputs": [{**item, "value": values.get(item["id"])} for item in dep["inputs"]],
        "changedPropIds": ["pw-worker.value"],
        "state": [{**item, "value": values.get(item["id"])} for item in dep.get("state", [])],
    }


def alert_in(payload) -> bool:
    """Whether the answer shows an error alert (a dash html.Div with role="alert")."""
    if isinstance(payload, dict):
        props = payload.get("props")
        if isinstance(props, dict) and props.get("role") == "alert":
            return True
        return any(alert_in(v) for v in payload.values())
    if isinstance(payload, list):
        return any(alert_in(v) for v in payload)
    return False


# ---- users and loads -------------------------------------------------------------------------
def user(base: str, deps: list[dict], workers, places, deadline: float, seed: int,
         fig: Figures):
    """One link worker changing the form again and again; each change fires the page's
    callbacks (table, then network), one after the other as a browser on HTTP/1.1 may."""
    rng = random.Random(seed)
    session = requests.Session()
    while time.monotonic() < deadline:
        values = {
            "pw-worker": rng.choice(workers),
            "pw-needs": rng.sample(COMMON_NEEDS, rng.choice([0, 0, 1, 2])),
            "pw-locality": rng.choice([None, None, rng.choice(places)]),
            "pw-free": ["free"] if rng.random() < 0.3 else [],
            "pw-access": rng.sample(COMMON_ACCESS_TAGS, 1) if rng.random() < 0.1 else [],
            "pw-hops": 4,
        }
        for name, dep in zip(("table", "network"), deps, strict=False):  # network: if any
            post(session, base, name, request_body(dep, values), fig)


def post(session, base: str, name: str, body: dict, fig: Figures) -> None:
    began = time.perf_counter()
    problem, seen = None, set()
    try:
        answer = session.post(f"{base}/_dash-update-component", json=body, timeout=60)
        if answer.status_code not in (200, 204):  # 204: the callback left everything as it was
            problem = f"{name}: HTTP {answer.status_code}: {answer.text[:200]}"
        elif answer.status_code == 200 and alert_in(answer.json()):
            problem = f"{name}: alert: {answer.text[:300]}"
        else:
            seen = set(VERSION_MARK.findall(answer.text))
    except (requests.RequestException, ValueError) as exc:
        problem = f"{name}: {type(exc).__name__}: {exc}"
    seconds = time.perf_counter() - began
    with fig.lock:
        fig.requests += 1
        fig.latencies.setdefault(name, []).append(seconds)
        if len(seen) > 1:
            fig.mixed += 1
        elif seen:
            fig.by_version["v" + seen.pop()] += 1
        if problem:
            fig.errors += 1
            if len(fig.error_samples) < 5:
                fig.error_samples.append(problem)


def loader(env: dict, folders: tuple[Path, Path], stop: threading.Event, fig: Figures):
    turn = 0
    while not stop.is_set():
        turn += 1
        began = time.monotonic()
        done = subprocess.run([str(PATHWAYS), "load", str(folders[turn % 2])], env=env,
                              capture_output=True, text=True)
        fig.load_seconds.append(time.monotonic() - began)
        fig.loads += 1
        if done.returncode != 0:
            fig.load_failures += 1
            print(f"  load failed: {done.stderr.strip()[-500:]}", flush=True)


def run_store(store: str, args, tmp: Path) -> Figures:
    fig = Figures(store)
    v1, v2, workers, places = write_versions(args.size, tmp / "data")
    env = dict(os.environ, PATHWAYS_HOME=str(tmp / "home"), PATHWAYS_STORE=store)
    neo = None
    if store == "neo4j" and not os.environ.get("NEO4J_URI"):
        from pathways import neo4j_runtime as rt

        (tmp / "neo4j").mkdir()
        neo = rt.start_server(home=tmp / "neo4j", dies_with_caller=True)
        env.update(NEO4J_URI=neo.uri, NEO4J_USER=neo.user, NEO4J_PASSWORD=neo.password)
        print(f"neo4j started in {neo.started_seconds:.1f} s", flush=True)
    server = None
    try:
        if store == "neo4j":
            reset = subprocess.run([str(PATHWAYS), "reset", "--yes"], env=env,
                                   capture_output=True, text=True)
            if reset.returncode:
                raise SystemExit(f"could not empty Neo4j: {reset.stderr}")
        first = subprocess.run([str(PATHWAYS), "load", str(v1)], env=env, capture_output=True,
                               text=True)
        if first.returncode:
            raise SystemExit(first.stderr)
        port = free_port()
        server = start_app(env, port, tmp / f"app-{store}.log")
        base = f"http://127.0.0.1:{port}"
        deps = form_callbacks(base)
        warm = requests.post(f"{base}/_dash-update-component", timeout=60,
                             json=request_body(deps[0], {"pw-worker": workers[0], "pw-hops": 4}))
        if warm.status_code != 200 or "v1 " not in warm.text:
            raise SystemExit(f"the callback does not answer as expected: {warm.status_code}"
                             f" {warm.text[:500]}")
        stop = threading.Event()
        loads = threading.Thread(target=loader, args=(env, (v1, v2), stop, fig))
        deadline = time.monotonic() + args.seconds
        users = [threading.Thread(target=user, args=(base, deps, workers, places, deadline, n, fig))
                 for n in range(args.users)]
        began = time.monotonic()
        loads.start()
        for thread in users:
            thread.start()
        for thread in users:
            thread.join()
        fig.seconds = time.monotonic() - began
        fig.load_average = os.getloadavg()[0]
        stop.set()
        loads.join()
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        if neo is not None:
            from pathways import neo4j_runtime as rt

            rt.stop_server(neo)
    return fig


# ---- report ----------------------------------------------------------------------------------
def rows_of(fig: Figures) -> list[tuple[str, str]]:
    load_median = statistics.median(fig.load_seconds) if fig.load_seconds else 0
    return [
        ("callback requests", (f"{fig.requests:,} in {fig.seconds:.0f} s"
                               f" ({fig.requests / max(fig.seconds, 0.001):.0f}/s)")),
        ("errors (HTTP not 200/204, timeout, error alert)", f"{fig.errors}"),
        ("answers mixing old and new names", f"{fig.mixed}"),
        ("answers all-old / all-new names", f"{fig.by_version['v1']:,} / {fig.by_version['v2']:,}"),
        *((f"latency, {name} callback", (f"p50 {fig.percentile(0.5, name):.0f} ms,"
           f" p95 {fig.percentile(0.95, name):.0f} ms, max {fig.percentile(1.0, name):.0f} ms"))
          for name in fig.latencies),
        ("loads during the run (each renames every node)",
         f"{fig.loads} ({fig.load_failures} failed), median {load_median:.1f} s each"),
        ("machine load average (1 min) at the end", f"{fig.load_average:.1f}"),
    ]


def write_section(path: Path, figures: list[Figures], args) -> None:
    lines = [
        SECTION,
        "",
        (f"Run {time.strftime('%Y-%m-%d %H:%M')} on {platform.machine()}, {os.cpu_count()} cores,"
         f" Python {platform.python_version()}: {args.users} simulated users firing the"
         f" Pathways page's form callbacks (table, network) for {args.seconds} s per store"
         f" on a {args.size:,}-node graph, while"
         " `pathways load` renames every node in a loop. App: `pathways serve` (one process)."
         " Users send their next request as soon as an answer arrives (no think time), so"
         " latency is mostly queueing (about users / throughput); the load-average row says"
         " how busy the machine was (other work shared it)."),
        (f"Reproduce: `.venv/bin/python benchmarks/stress.py --users {args.users}"
         f" --seconds {args.seconds} --size {args.size}`."),
        "",
        "| store | measure | value |",
        "|---|---|---|",
    ]
    for fig in figures:
        lines += [f"| {fig.store} | {measure} | {value} |" for measure, value in rows_of(fig)]
    section = "\n".join(lines) + "\n"
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    if SECTION in text:  # replace the earlier run's section, keep everything else
        head, _, rest = text.partition(SECTION)
        after = rest.find("\n## ")
        text = head.rstrip("\n") + "\n\n" + section + (rest[after:] if after >= 0 else "")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.write_text(text, encoding="utf-8")
    print(f"wrote the stress section of {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--size", type=int, default=2000, help="nodes in the generated graph")
    parser.add_argument("--stores", default="embedded,neo4j")
    parser.add_argument("--results", type=Path, default=HERE / "RESULTS.md")
    parser.add_argument("--no-results", action="store_true", help="print only")
    args = parser.parse_args()
    figures = []
    for store in args.stores.split(","):
        print(f"{store}: {args.users} users for {args.seconds} s while loads run...", flush=True)
        with tempfile.TemporaryDirectory() as tmp:
            fig = run_store(store, args, Path(tmp))
        figures.append(fig)
        for measure, value in rows_of(fig):
            print(f"  {measure:50} {value}", flush=True)
        for sample in fig.error_samples:
            print(f"  error sample: {sample}", flush=True)
    if not args.no_results:
        write_section(args.results, figures, args)
    print(json.dumps({f.store: {"errors": f.errors, "mixed": f.mixed, "requests": f.requests,
                                "p50_ms": round(f.percentile(0.5), 1),
                                "p95_ms": round(f.percentile(0.95), 1)} for f in figures}))


if __name__ == "__main__":
    main()
