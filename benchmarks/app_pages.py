"""Benchmark: the app's real page interactions, as a browser drives them, at 10k and 100k.

A generated partnership (generate.py) is loaded into the embedded store (and Neo4j with
``--neo4j``); the app's callbacks are then called through Flask's test client with the
bodies the Dash renderer sends (POST /_dash-update-component), so the figures include Dash's
own work (JSON in and out, layout, figure building), not only the analyses.  Interactions:

Gaps page
    open       the page's layout, the gap report callback (heatmap and tables) and the
               referral network drawn with nothing highlighted
    cell       a click on a heatmap cell: choose_highlight (clickData) then draw
    row        a row selected in a gap table: choose_highlight then draw
Pathways page
    worker     a link worker chosen: the table callback and the network callback
    row        an activity selected in the table: details and network

Each interaction is timed end to end (the callbacks one after the other, as the renderer
chains them); p50 and p95 over distinct samples (different cells, rows, workers), so every
sample after the first open is a first click on that cell or row.  As `pathways serve`
does, a Warmer first computes the default gap report and referral network in the background
(timed as its own row, with no target: no visitor waits for it); "open, first" is then the
first visit after the data changed.

Also the first page's transfer: GET / and every script and stylesheet it references, raw
and gzip-compressed (what a compressing server or proxy sends), and as this server sends it.

Prints figures and, with ``--results``, appends them to RESULTS.md.  Asserts nothing.

    .venv/bin/python benchmarks/app_pages.py --sizes 10k,100k [--neo4j [--neo4j-sizes 10k]] [--results]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import gzip
import json
import os
import platform
import random
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

from generate import generate, write  # noqa: E402
from pathways.analysis.gaps import GapQuery, gap_report  # noqa: E402
from pathways.loading import load_paths  # noqa: E402
from pathways.model import DEFAULT_MAX_HOPS, NodeKind  # noqa: E402
from pathways.store.embedded import EmbeddedStore  # noqa: E402
from pathways.webstore import set_store  # noqa: E402

T = TypeVar("T")

# Targets from issue 12.
TARGET_MS = {"10k": 300.0, "100k": 1000.0}
TARGET_FIRST_PAGE_BYTES = 1.5 * 1024 * 1024
HOPS = DEFAULT_MAX_HOPS
# The tables are dash-ag-grid grids: rows in ``rowData``, the selection as row objects
# (the pages take only each row's ``id`` from it).
ROWS, SELECTED = "rowData", "selectedRows"


def parse_size(text: str) -> int:
    text = text.strip().lower()
    return int(float(text[:-1]) * {"k": 1_000, "m": 1_000_000}[text[-1]]) if text[-1] in "km" \
        else int(text)


# --------------------------------------------------------------------------- callbacks


class Browser:
    """Calls the app's callbacks the way the Dash renderer does (see
    tests/integration/test_app_security.py): the callback writing ``output`` is found in the
    app's callback map, and each of its inputs and states takes its value from ``values``."""

    def __init__(self, app, client):
        self.app, self.client = app, client
        self.failures: list[str] = []

    @staticmethod
    def _split(key: str) -> list[tuple[str, ...]]:
        parts = key[2:-2].split("...") if key.startswith("..") else [key]
        return [tuple(p.rsplit(".", 1)) for p in parts]

    def call(self, output: str, values: dict, changed: str | None = None) -> dict:
        keys = [k for k in self.app.callback_map
                if output in [f"{p[0]}.{p[1]}" for p in self._split(k)]]
        if not keys:
            raise SystemExit(f"no callback writes {output}: the page changed, update "
                             f"benchmarks/app_pages.py")
        key = keys[0]
        spec = self.app.callback_map[key]

        def deps(items):
            return [{"id": d["id"], "property": d["property"],
                     "value": values.get(f"{d['id']}.{d['property']}")} for d in items]

        # An id written as JSON is a dict id (the pages' address-state stores): the renderer
        # sends it as the object itself.
        outputs = [{"id": json.loads(i) if i.startswith("{") else i, "property": p}
                   for i, p in self._split(key)]
        inputs = [f"{d['id']}.{d['property']}" for d in spec["inputs"]]
        body = {
            "output": key,
            "outputs": outputs if key.startswith("..") else outputs[0],
            "inputs": deps(spec["inputs"]),
            "state": deps(spec["state"]),
            "changedPropIds": [changed] if changed in inputs else inputs[:1],
        }
        response = self.client.post("/_dash-update-component", json=body)
        if response.status_code == 204:
            return {}
        if response.status_code != 200:
            self.failures.append(f"{output}: HTTP {response.status_code}")
            return {}
        return response.get_json().get("response", {})


def timed_ms(fn: Callable[..., T], *args: Any, **kwargs: Any) -> tuple[float, T]:
    """``(milliseconds, fn(*args, **kwargs))``."""
    began = time.perf_counter()
    value = fn(*args, **kwargs)
    return (time.perf_counter() - began) * 1000, value


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


# --------------------------------------------------------------------------- interactions


def gaps_interactions(browser: Browser, store, samples: int, rng: random.Random) -> dict:
    """{interaction: [ms, ...]} for the Gaps page."""
    form = {"gp-hops.value": HOPS}
    found: dict[str, list[float]] = {"gaps: open, first": [], "gaps: open": [],
                                     "gaps: click a heatmap cell": [],
                                     "gaps: select a table row": []}

    shown: dict = {}

    def open_page():
        browser.call("_pages_content.children",
                     {"_pages_location.pathname": "/gaps", "_pages_location.search": ""},
                     "_pages_location.pathname")
        shown.update(browser.call("gp-heatmap.figure", form, "gp-hops.value"))
        browser.call("gp-graph.elements", {**form, "gp-highlight.data": None}, "gp-hops.value")

    for run in range(1 + samples):
        ms, _ = timed_ms(open_page)
        found["gaps: open, first" if run == 0 else "gaps: open"].append(ms)

    # Clicks as Plotly reports them: the labels of the clicked cell, taken from the figure
    # the page sent (whatever its orientation); cells with some provision first.
    heatmap = shown.get("gp-heatmap", {}).get("figure", {}).get("data", [{}])[0]
    xs, ys, zs = heatmap.get("x", []), heatmap.get("y", []), heatmap.get("z", [])
    cells = [(x, y) for i, y in enumerate(ys) for j, x in enumerate(xs) if zs[i][j]] \
        or [(x, y) for y in ys for x in xs]
    if not cells:
        browser.failures.append("gp-heatmap.figure: no heatmap cells to click")
    for x, y in rng.sample(cells, min(samples, len(cells))):
        def click_cell(click: dict) -> None:
            chosen = browser.call("gp-highlight.data",
                                  {**form, "gp-heatmap.clickData": click}, "gp-heatmap.clickData")
            selection = chosen.get("gp-highlight", {}).get("data")
            if not selection:
                browser.failures.append("gp-highlight.data: a heatmap click selected nothing")
            browser.call("gp-graph.elements", {**form, "gp-highlight.data": selection},
                         "gp-highlight.data")

        click = {"points": [{"x": x, "y": y, "curveNumber": 0}]}
        found["gaps: click a heatmap cell"].append(timed_ms(click_cell, click)[0])

    report = gap_report(store, GapQuery(max_hops=HOPS))  # the cached one the page shows
    tables: dict[str, Sequence[Mapping[str, Any]]] = {
        "gp-spof": report["single_points_of_failure"], "gp-unreached": report["unreached"],
        "gp-thin": report["thin_options"]["link_workers"],
        "gp-places": report["thin_options"]["localities"], "gp-data": report["data_gaps"]}
    rows = [(table, row["id"]) for table, rows in tables.items() for row in rows]
    for table, row_id in rng.sample(rows, min(samples, len(rows))):
        def select_row(table: str, row_id: str) -> None:
            chosen = browser.call("gp-highlight.data",
                                  {**form, f"{table}.{SELECTED}": [{"id": row_id}]},
                                  f"{table}.{SELECTED}")
            selection = chosen.get("gp-highlight", {}).get("data") \
                or {"table": table, "id": row_id}
            browser.call("gp-graph.elements", {**form, "gp-highlight.data": selection},
                         "gp-highlight.data")

        found["gaps: select a table row"].append(timed_ms(select_row, table, row_id)[0])
    return found


def pathways_interactions(browser: Browser, store, samples: int, rng: random.Random) -> dict:
    """{interaction: [ms, ...]} for the Pathways page."""
    from pathways.analysis.pathways import pathways_from
    from pathways.store import PathwayFilter

    found: dict[str, list[float]] = {"pathways: choose a link worker": [],
                                     "pathways: select a table row": []}
    workers = [p["id"] for p in store.list_nodes(NodeKind.PERSON, "link_worker")]
    for worker in rng.sample(workers, min(samples, len(workers))):
        form = {"pw-worker.value": worker, "pw-needs.value": [], "pw-locality.value": None,
                "pw-free.value": [], "pw-access.value": [], "pw-hops.value": HOPS,
                f"pw-table.{SELECTED}": []}

        def choose(form: dict) -> None:
            browser.call(f"pw-table.{ROWS}", form, "pw-worker.value")
            browser.call("pw-graph.elements", form, "pw-worker.value")

        found["pathways: choose a link worker"].append(timed_ms(choose, form)[0])
        activities = pathways_from(store, worker, PathwayFilter(), HOPS)["activities"]
        if not activities:
            continue
        picked = rng.choice(activities)["id"]
        selected = {**form, f"pw-table.{SELECTED}": [{"id": picked}]}

        def select(selected: dict) -> None:
            browser.call("pw-details.children", selected, f"pw-table.{SELECTED}")
            browser.call("pw-graph.elements", selected, f"pw-table.{SELECTED}")

        found["pathways: select a table row"].append(timed_ms(select, selected)[0])
    return found


# --------------------------------------------------------------------------- first page


def first_page(client) -> dict:
    """Bytes of GET / and of every script and stylesheet it references, plus the layout and
    callback list the renderer fetches first: raw, gzip (level 6) and as served."""
    items = []

    def fetch(path: str) -> bytes:
        response = client.get(path, headers={"Accept-Encoding": "gzip"})
        if response.status_code != 200:
            raise SystemExit(f"GET {path}: HTTP {response.status_code}")
        sent = response.get_data()
        raw = gzip.decompress(sent) if response.headers.get("Content-Encoding") == "gzip" else sent
        items.append((path, len(raw), len(gzip.compress(raw, 6)), len(sent)))
        return raw

    html = fetch("/").decode("utf-8")
    references = re.findall(r'<script[^>]+src="([^"]+)"', html)
    references += re.findall(r'<link[^>]+rel="stylesheet"[^>]+href="([^"]+)"', html)
    for ref in references:
        if ref.startswith("/"):
            fetch(ref)
    for path in ("/_dash-layout", "/_dash-dependencies"):
        fetch(path)
    return {
        "files": len(items),
        "raw": sum(i[1] for i in items),
        "gzip": sum(i[2] for i in items),
        "served": sum(i[3] for i in items),
        "largest": sorted(items, key=lambda i: -i[1])[:3],
    }


# --------------------------------------------------------------------------- main


@contextlib.contextmanager
def neo4j_store(home: Path):
    """``NEO4J_URI`` if set (that database is emptied), else a throwaway local server."""
    from pathways.config import Neo4jSettings
    from pathways.store.neo4j import Neo4jStore

    if os.environ.get("NEO4J_URI"):
        with Neo4jStore(Neo4jSettings.from_env()) as store:
            yield store
        return
    from pathways import neo4j_runtime as rt

    rt.ensure_jars()
    home.mkdir(parents=True, exist_ok=True)
    info = rt.start_server(home=home, dies_with_caller=True)
    try:
        with Neo4jStore(Neo4jSettings(info.uri, info.user, info.password, "neo4j")) as store:
            yield store
    finally:
        rt.stop_server(info)


def bench_store(label: str, size: str, store, samples: int, seed: int) -> tuple[list, list]:
    """Rows (size, store, interaction, n, p50, p95, max) for one loaded store, and the
    callbacks that failed."""
    set_store(store)
    from app import app

    client = app.server.test_client()
    assert client.get("/").status_code == 200  # registers the pages' callbacks
    browser = Browser(app, client)
    rng = random.Random(seed)
    # As `pathways serve` does: the Warmer computes the default gap report and the referral
    # network in the background as soon as a load lands; measured here as its own figure
    # (no target: nobody waits for it unless they open Gaps within that time of a load).
    from pathways.analysis.warm import Warmer

    warm_ms, _ = timed_ms(Warmer(lambda: store).warm_once)
    print(f"{size:5} {label:9} background warm-up after a load {warm_ms:8.1f} ms", flush=True)
    timings = {"background warm-up after a load (no visitor waits)": [warm_ms],
               **gaps_interactions(browser, store, samples, rng),
               **pathways_interactions(browser, store, samples, rng)}
    rows = []
    for name, values in timings.items():
        if not values:
            continue
        rows.append((size, label, name, len(values), statistics.median(values),
                     percentile(values, 0.95), max(values)))
        print(f"{size:5} {label:9} {name:34} n={len(values):3}  p50 {rows[-1][4]:8.1f} ms"
              f"  p95 {rows[-1][5]:8.1f} ms  max {rows[-1][6]:8.1f} ms", flush=True)
    for failure in sorted(set(browser.failures)):
        print(f"      FAILED: {failure}")
    set_store(None)
    return rows, [f"{size} {label} {f}" for f in sorted(set(browser.failures))]


def results_markdown(rows: list[tuple], page: dict, failures: list[str]) -> str:
    when = dt.date.today().isoformat()
    lines = [
        "",
        f"## App page interactions ({when}, benchmarks/app_pages.py)",
        "",
        (f"Python {platform.python_version()}, {os.cpu_count()} cores, load average "
         f"{os.getloadavg()[0]:.1f} at the end (other work on the machine slows every figure). "
         "The app's callbacks called "
         "through Flask's test client with the Dash renderer's request bodies, one after the "
         "other as the renderer chains them; distinct cells, rows and workers per sample. "
         "As in `pathways serve`, a background Warmer computes the default gap report and "
         "the referral network once per data version (its own row); \"open, first\" is the "
         "first visit after that, every later visit, click and row reuses the same report."),
        "",
        "| size | store | interaction | n | p50 | p95 | target (p95) | met |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for size, store, name, n, p50, p95, _max in rows:
        target = None if name.startswith("background") else TARGET_MS.get(size)
        met = "" if target is None else ("yes" if p95 <= target else "no")
        lines.append(f"| {size} | {store} | {name} | {n} | {p50:,.1f} ms | {p95:,.1f} ms | "
                     f"{'' if target is None else f'≤ {target:,.0f} ms'} | {met} |")
    lines += [
        "",
        f"First page (GET / with its {page['files'] - 3} scripts and stylesheets, the layout and "
        f"the callback list): {page['raw'] / 1e6:.2f} MB uncompressed, {page['gzip'] / 1e6:.2f} MB "
        f"gzip-compressed, {page['served'] / 1e6:.2f} MB as this server sends it; target ≤ 1.5 MB "
        f"transferred: {'met' if page['served'] <= TARGET_FIRST_PAGE_BYTES else 'not met'} as "
        f"served, {'met' if page['gzip'] <= TARGET_FIRST_PAGE_BYTES else 'not met'} with "
        "compression. Largest: " + ", ".join(
            f"{p.split('?')[0].rsplit('/', 1)[-1]} {r / 1e6:.2f} MB" for p, r, _g, _s in page["largest"])
        + ".",
    ]
    if failures:
        lines += ["", "Callbacks that failed during the run: " + "; ".join(failures) + "."]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10k,100k")
    parser.add_argument("--samples", type=int, default=20, help="samples per interaction")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--neo4j", action="store_true", help="also on a throwaway Neo4j")
    parser.add_argument("--neo4j-sizes", default="10k", help="sizes to run on Neo4j [10k]")
    parser.add_argument("--results", action="store_true", help="append to RESULTS.md")
    args = parser.parse_args()
    rows: list[tuple] = []
    failures: list[str] = []
    page: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        for size in [s.strip() for s in args.sizes.split(",")]:
            folder = Path(tmp) / f"synthetic-{size}"
            began = time.perf_counter()
            write(generate(parse_size(size), args.seed), folder)
            store = EmbeddedStore(Path(tmp) / f"graph-{size}.json")
            load_paths(store, [folder])
            print(f"{size:5} embedded  generate + load {time.perf_counter() - began:6.1f} s, "
                  f"{store.snapshot().number_of_nodes():,} nodes", flush=True)
            found, failed = bench_store("embedded", size, store, args.samples, args.seed)
            rows, failures = rows + found, failures + failed
            if args.neo4j and size in args.neo4j_sizes.split(","):
                with neo4j_store(Path(tmp) / "neo4j") as neo:
                    neo.reset()
                    seconds, _ = timed_ms(load_paths, neo, [folder])
                    print(f"{size:5} neo4j     load {seconds / 1000:6.1f} s", flush=True)
                    found, failed = bench_store("neo4j", size, neo, args.samples, args.seed)
                    rows, failures = rows + found, failures + failed
        set_store(EmbeddedStore(Path(tmp) / "empty.json"))
        from app import app

        page = first_page(app.server.test_client())
        set_store(None)
    print(f"first page: {page['files']} files, {page['raw'] / 1e6:.2f} MB raw, "
          f"{page['gzip'] / 1e6:.2f} MB gzip, {page['served'] / 1e6:.2f} MB as served; largest "
          + ", ".join(f"{p} {r / 1e6:.2f} MB" for p, r, _g, _s in page["largest"]))
    text = results_markdown(rows, page, failures)
    print(text)
    if args.results:
        with (HERE / "RESULTS.md").open("a", encoding="utf-8") as handle:
            handle.write(text)
        print(f"appended to {HERE / 'RESULTS.md'}")


if __name__ == "__main__":
    main()
