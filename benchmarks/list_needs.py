"""`pathways list activities|services` on Neo4j: the needs column read from the listed
nodes' own relationships (now) against the whole snapshot (before), on synthetic data.

    PATHWAYS_NEO4J_HEAP=2g .venv/bin/python benchmarks/list_needs.py 10000 100000

Prints, per size, the seconds each read takes (best of three) and checks they agree.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from _common import timed
from generate import generate, write
from pathways import neo4j_runtime as rt
from pathways.cli.data import _needs_of
from pathways.config import Neo4jSettings
from pathways.loading import load_paths
from pathways.model import NodeKind, RelType
from pathways.store.neo4j import Neo4jStore


def needs_from_snapshot(store, kind: NodeKind) -> dict:
    """The list's needs as they were read before: from the whole graph."""
    graph = store.snapshot()
    own: dict[str, dict] = {}
    for source, target, rel, data in graph.edges(keys=True, data=True):
        if rel == RelType.ADDRESSES:
            props = data.get("props", {})
            own.setdefault(source, {})[target] = (
                props.get("evidence") if props.get("inferred") else None)
    if kind != NodeKind.SERVICE:
        return own
    merged: dict[str, dict] = {}
    for source, target, rel in graph.edges(keys=True):
        if rel == RelType.OFFERS:
            merged.setdefault(source, {}).update(own.get(target, {}))
    return merged


def main(sizes: list[int]) -> None:
    rt.ensure_jars()
    with tempfile.TemporaryDirectory() as home:
        (Path(home) / "neo4j").mkdir()  # start_server wants the folder made first
        info = rt.start_server(home=Path(home) / "neo4j", dies_with_caller=True)
        try:
            with Neo4jStore(Neo4jSettings(info.uri, info.user, info.password, "neo4j")) as store:
                measure(store, sizes)
        finally:
            rt.stop_server(info)


def measure(store: Neo4jStore, sizes: list[int]) -> None:
    if True:
        for size in sizes:
            store.reset()
            with tempfile.TemporaryDirectory() as tmp:
                folder = Path(tmp) / "data"
                write(generate(size), folder)
                load_paths(store, [folder])
            for kind in (NodeKind.ACTIVITY, NodeKind.SERVICE):
                ids = [n["id"] for n in store.list_nodes(kind)]
                before = min(timed(needs_from_snapshot, store, kind)[0] for _ in range(3))
                after = min(timed(_needs_of, store, ids)[0] for _ in range(3))
                old, new = needs_from_snapshot(store, kind), _needs_of(store, ids)
                same = {k: set(v) for k, v in old.items() if v} == \
                    {k: set(v) for k, v in new.items() if v}
                print(f"{size:>7,} nodes  list {kind.table:<10} needs: whole snapshot"
                      f" {before:6.2f} s, listed nodes' links {after:6.2f} s"
                      f"  ({len(ids):,} rows; same needs: {same})", flush=True)


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [10_000])
