"""Benchmark: the Map page's callbacks (pages/map.py) at 10k and 100k activities.

A generated graph (benchmarks/generate.py, sized to the number of activities asked for) gets
coordinates here: each locality a centre on a grid over northern England, each activity a
point within ~3 km of its locality's centre (whole-area activities none), from a separate
seeded generator so the graph itself is the one the other benchmarks use.  The app's
callbacks are then called through Flask's test client with the request bodies Dash's
renderer sends (benchmarks/app_pages.py's Browser), map tiles off.

Per size and store: the Warmer's work after a load (the gap report the shading reads, in
the background in the app), then the first map (the map's activity table computed), the
same map again (cached), a need filter (a new query: one pass over the cached table), a
locality clicked, the response's size and the number of elements drawn (never above 1,500:
beyond that the points are aggregated).  Prints figures; asserts nothing.

    .venv/bin/python benchmarks/map_page.py --sizes 10k,100k [--neo4j]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

from _common import neo4j_store  # noqa: E402
from app_pages import Browser, parse_size  # noqa: E402
from generate import generate, write  # noqa: E402
from pathways.analysis.warm import Warmer  # noqa: E402
from pathways.loading import load_paths  # noqa: E402
from pathways.store.embedded import EmbeddedStore  # noqa: E402
from pathways.webstore import set_store  # noqa: E402

# generate() gives about this share of its nodes as activities
ACTIVITY_SHARE = 0.7475


def with_coordinates(tables: dict[str, list[dict]], seed: int = 17) -> None:
    """Locality centres on a grid (53.0-54.6 N, 3.0-0.4 W), activities near their locality."""
    rng = random.Random(seed)
    places = tables["localities"]
    side = max(1, math.ceil(math.sqrt(len(places))))
    centre = {}
    for i, place in enumerate(places):
        lat = 53.0 + 1.6 * (i // side + 0.5) / side
        lon = -3.0 + 2.6 * (i % side + 0.5) / side
        place["latitude"], place["longitude"] = f"{lat:.5f}", f"{lon:.5f}"
        centre[place["id"]] = (lat, lon)
    located = {r["source_id"]: r["target_id"] for r in tables["relationships"]
               if r["type"] == "LOCATED_IN"}
    for activity in tables["activities"]:
        if activity.get("serves_whole_area") == "yes" or activity["id"] not in located:
            continue
        lat, lon = centre[located[activity["id"]]]
        activity["latitude"] = f"{lat + rng.uniform(-0.027, 0.027):.5f}"
        activity["longitude"] = f"{lon + rng.uniform(-0.045, 0.045):.5f}"


def values(need: list[str]) -> dict:
    return {"mp-shade.value": "loneliness", "mp-needs.value": need, "mp-access.value": [],
            "mp-free.value": [], "mp-age.value": None, "mp-days.value": [],
            "mp-worker.value": "", "mp-picked.data": None}


def timed_call(browser: Browser, output: str, vals: dict, changed: str) -> tuple[float, dict, int]:
    began = time.perf_counter()
    answer = browser.call(output, vals, changed)
    ms = (time.perf_counter() - began) * 1000
    return ms, answer, len(json.dumps(answer))


def drawn(answer: dict) -> tuple[int, int]:
    figure = answer.get("mp-map", {}).get("figure", {})
    kinds: dict[str, int] = {}
    for trace in figure.get("data", []):
        for custom in trace.get("customdata") or []:
            kinds[custom[0]] = kinds.get(custom[0], 0) + 1
    return kinds.get("activity", 0) + kinds.get("cluster", 0), kinds.get("locality", 0)


def bench(label: str, store, folder: Path, size: str) -> None:
    store.reset()
    began = time.perf_counter()
    load_paths(store, [folder])
    load_s = time.perf_counter() - began
    set_store(store)
    from app import app

    # The app's Warmer computes the gap report (which the map's shading reads) in the
    # background after a load; timed here on its own.
    warm_s = time.perf_counter()
    Warmer(lambda: store).warm_once()
    warm_s = time.perf_counter() - warm_s

    client = app.server.test_client()
    page_ms = time.perf_counter()
    client.get("/map")  # Dash sets up its callbacks on the first request
    page_ms = (time.perf_counter() - page_ms) * 1000
    browser = Browser(app, client)
    first_ms, first, first_bytes = timed_call(browser, "mp-map.figure", values([]),
                                              "mp-shade.value")
    again_ms, _, _ = timed_call(browser, "mp-map.figure", values([]), "mp-shade.value")
    need_ms, need, need_bytes = timed_call(browser, "mp-map.figure", values(["creativity"]),
                                           "mp-needs.value")
    place = next((r["id"] for r in first.get("mp-places", {}).get("rowData", [])), None)
    click = {**values([]), "mp-places.selectedRows": [{"id": place}]}
    click_ms, _, _ = timed_call(browser, "mp-place.children", click, "mp-places.selectedRows")
    points, areas = drawn(first)
    npoints, _ = drawn(need)
    print(f"{label:8} {size:>5} activities (load {load_s:6.1f} s, warmer {warm_s:5.1f} s): "
          f"page {page_ms:5.0f} ms, "
          f"first map {first_ms:7.0f} ms "
          f"({first_bytes / 1024:6.0f} KB, {points} points/clusters + {areas} areas); "
          f"same again {again_ms:5.0f} ms; need filter {need_ms:6.0f} ms "
          f"({need_bytes / 1024:5.0f} KB, {npoints} drawn); locality click {click_ms:5.0f} ms"
          + (f"; FAILED {browser.failures}" if browser.failures else ""), flush=True)
    set_store(None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10k,100k", help="numbers of activities")
    parser.add_argument("--neo4j", action="store_true", help="also on a throwaway Neo4j")
    args = parser.parse_args()
    os.environ["PATHWAYS_MAP_TILES"] = "off"
    with tempfile.TemporaryDirectory() as tmp:
        folders = {}
        for size in args.sizes.split(","):
            tables = generate(round(parse_size(size) / ACTIVITY_SHARE))
            with_coordinates(tables)
            folders[size] = Path(tmp) / size
            write(tables, folders[size])
            print(f"{size}: {len(tables['activities']):,} activities, "
                  f"{len(tables['localities']):,} localities", flush=True)
        for size, folder in folders.items():
            bench("embedded", EmbeddedStore(Path(tmp) / f"graph-{size}.json"), folder, size)
        if args.neo4j:
            with neo4j_store() as store:
                for size, folder in folders.items():
                    bench("neo4j", store, folder, size)


if __name__ == "__main__":
    main()
