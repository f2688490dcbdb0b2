"""What recording a load's history costs (issue 16 item 2): extra time and space per load.

For each size, on the embedded store (and Neo4j with ``--neo4j``), on the synthetic Living
Database (benchmarks/generate.py):

- a first load into an empty store, recorded (``load_paths``) and not (the same load
  without its recorder), the history's size (its compressed before-image), and its undo;
- a reload with 10 % of the activities renamed, recorded and not, and its undo.

    .venv/bin/python benchmarks/load_history.py 10000 100000 [--neo4j]

Each load runs ``--repeat`` times (default 2) on a fresh store; the fastest counts. Prints
figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from _common import timed
from generate import generate, write
from pathways import history
from pathways.config import Neo4jSettings
from pathways.loading import _load_paths, load_paths
from pathways.store.embedded import EmbeddedStore
from pathways.store.neo4j import Neo4jStore


@contextlib.contextmanager
def neo4j_store() -> Iterator[Neo4jStore]:
    """A throwaway local server (as _common.neo4j_store, whose home folder start_server now
    wants to exist)."""
    from pathways import neo4j_runtime as rt

    rt.ensure_jars()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "neo4j"
        home.mkdir()
        info = rt.start_server(home=home, dies_with_caller=True)
        try:
            with Neo4jStore(Neo4jSettings(info.uri, info.user, info.password, "neo4j")) as store:
                yield store
        finally:
            rt.stop_server(info)


def renamed(folder: Path, into: Path, share: float = 0.1) -> Path:
    """A copy of ``folder`` with every tenth activity renamed (a typical update)."""
    into.mkdir(parents=True, exist_ok=True)
    for file in folder.iterdir():
        rows = list(csv.reader(file.open(encoding="utf-8", newline="")))
        if file.name == "activities.csv":
            step = round(1 / share)
            for row in rows[1::step]:
                row[1] += " (renamed)"
        with (into / file.name).open("w", encoding="utf-8", newline="") as handle:
            csv.writer(handle).writerows(rows)
    return into


def plain_load(store, folder: Path):
    """The same load without its recorder (what a load cost before history)."""
    with store.load_lock():
        return _load_paths(store, [folder], False, None, None, None)


def forget_history(store) -> None:
    for record in store.history_records():
        store.drop_history(record["id"])


def image_bytes(store) -> int:
    return sum(len(store.history_image(r["id"]) or b"") for r in store.history_records())


def best(repeat: int, fresh, prepare, load) -> tuple[float, Any, Any]:
    """The fastest of ``repeat`` runs of ``load(store)`` on a fresh store ``prepare``d first:
    ``(seconds, result, store)`` (the machine is shared, so the minimum is the figure)."""
    runs = []
    for _ in range(repeat):
        store = fresh()
        prepare(store)
        seconds, result = timed(load, store)
        runs.append((seconds, result, store))
    return min(runs, key=lambda run: run[0])


def bench(label: str, fresh, size: int, folder: Path, changed: Path, repeat: int) -> None:
    def nothing(_store):
        return None

    def first(store):
        plain_load(store, folder)

    plain, _, _ = best(repeat, fresh, nothing, lambda s: plain_load(s, folder))
    seconds, result, store = best(repeat, fresh, nothing, lambda s: load_paths(s, [folder]))
    kept = image_bytes(store)
    rows = result.summary.nodes_new + result.summary.rels_new
    print(f"{label:9} {size:>7,} first load: {plain:6.1f} s plain, {seconds:6.1f} s"
          f" recorded ({seconds - plain:+5.1f} s); history {kept / 2**20:6.1f} MB"
          f" for {rows:,} rows")
    seconds_undo, _ = timed(history.undo, store, history.records(store)[0]["id"])
    print(f"{label:9} {size:>7,} undo of the first load: {seconds_undo:6.1f} s")

    plain, _, _ = best(repeat, fresh, first, lambda s: plain_load(s, changed))
    seconds, result, store = best(repeat, fresh, first, lambda s: load_paths(s, [changed]))
    kept = image_bytes(store)
    print(f"{label:9} {size:>7,} reload, 10% of activities renamed"
          f" ({result.summary.nodes_changed:,} nodes changed): {plain:6.1f} s plain,"
          f" {seconds:6.1f} s recorded ({seconds - plain:+5.1f} s);"
          f" history {kept / 2**20:6.2f} MB")
    seconds_undo, _ = timed(history.undo, store, history.records(store)[0]["id"])
    print(f"{label:9} {size:>7,} undo of the reload: {seconds_undo:6.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sizes", type=int, nargs="+")
    parser.add_argument("--neo4j", action="store_true", help="also on a throwaway Neo4j")
    parser.add_argument("--repeat", type=int, default=2, help="runs of each load (the best)")
    parser.add_argument("--skip-embedded", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        data = {}
        for size in args.sizes:
            folder = root / f"v1-{size}"
            write(generate(size), folder)
            data[size] = folder, renamed(folder, root / f"v2-{size}")
        for size, (folder, changed) in ({} if args.skip_embedded else data).items():
            homes = iter(range(1_000))

            def fresh_embedded(size=size, homes=homes):
                return EmbeddedStore(root / f"home-{size}-{next(homes)}" / "graph.json")

            bench("embedded", fresh_embedded, size, folder, changed, args.repeat)
        if args.neo4j:
            with neo4j_store() as store:
                def fresh_neo4j(store=store):
                    store.reset()
                    forget_history(store)
                    return store

                for size, (folder, changed) in data.items():
                    bench("neo4j", fresh_neo4j, size, folder, changed, args.repeat)


if __name__ == "__main__":
    main()
