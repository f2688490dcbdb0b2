"""Benchmark: names, search by words and how to refer on a generated graph (issue 14).

Services and organisations get real council directory descriptions (cycled from
../shared/fixtures/oruk-council-sample), activities a sentence, so that the search index has
realistic text.  Prints figures; asserts nothing.

    .venv/bin/python benchmarks/lookup_search.py [--nodes 100000] [--neo4j]
"""

from __future__ import annotations

import argparse
import itertools
import json
import tempfile
from pathlib import Path

from _common import neo4j_store, timed
from generate import generate, write
from pathways.analysis.lookup import ACCESS, name_index, resolve_match
from pathways.analysis.pathways import pathways_from
from pathways.analysis.referral import how_to_refer
from pathways.analysis.search import search, search_index
from pathways.errors import PathwaysError
from pathways.loading import load_paths
from pathways.model import NodeKind, PersonRole
from pathways.store.base import PathwayFilter
from pathways.store.embedded import EmbeddedStore

COUNCILS = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "oruk-council-sample"


def descriptions() -> list[str]:
    found = []
    for path in sorted(COUNCILS.glob("*.json")):
        for item in json.loads(path.read_text(encoding="utf-8")):
            if isinstance(item, dict) and isinstance(item.get("description"), str):
                found.append(" ".join(item["description"].split()))
    return [d for d in found if d] or ["A friendly group for anyone who would like company."]


def with_text(tables: dict[str, list[dict]]) -> dict[str, list[dict]]:
    texts = itertools.cycle(descriptions())
    for table in ("services", "organisations"):
        for row in tables[table]:
            row["description"] = next(texts)
    for n, row in enumerate(tables["activities"]):
        row["description"] = ("A weekly walking group with tea after." if n % 3 == 0 else
                              "Art and craft sessions for adults; materials provided.")
    return tables


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.1f} ms"


def attempt(store, kind, text, role=None) -> str:
    try:
        found = resolve_match(store, kind, text, role)
        return f"{found.how} -> {found.id}"
    except PathwaysError as error:
        return type(error).__name__


def bench(label: str, store, folder: Path) -> None:
    store.reset()
    load_seconds, _ = timed(load_paths, store, [folder])
    print(f"{label:9} load {load_seconds:6.1f} s, nodes {sum(store.stats()['nodes'].values())}")
    for kind in (NodeKind.ACTIVITY, NodeKind.LOCALITY):
        seconds, index = timed(name_index, store, kind)
        print(f"{label:9} name index {kind.table:11} {len(index):6} names: {ms(seconds)}")
    seconds, _ = timed(name_index, store, ACCESS)
    print(f"{label:9} name index access tags (reads every activity): {ms(seconds)}")
    worker = store.list_nodes(NodeKind.PERSON, PersonRole.LINK_WORKER.value)[0]
    activity = store.list_nodes(NodeKind.ACTIVITY)[0]
    for what, text, role in ((NodeKind.PERSON, worker["name"], PersonRole.LINK_WORKER.value),
                             (NodeKind.ACTIVITY, activity["name"], None),
                             (NodeKind.ACTIVITY, activity["name"][:-1] + "q", None),
                             (NodeKind.ACTIVITY, "zzqx nothing like it", None),
                             (ACCESS, "stepfree", None)):
        seconds, result = timed(attempt, store, what, text, role)
        print(f"{label:9} resolve {text[:28]!r:31} {ms(seconds)}  {result}")
    seconds, words = timed(search_index, store)
    print(f"{label:9} search index {len(words.ids)} nodes, {len(words.words)} words: {ms(seconds)}")
    for typed in ("walk", "art group", "lonliness", "mental helth support", "synthetic"):
        seconds, hits = timed(search, store, typed)
        print(f"{label:9} search {typed!r:24} {ms(seconds)}  {len(hits)} hits")
    reachable = pathways_from(store, worker["id"], PathwayFilter())["activities"]
    if reachable:
        seconds, _ = timed(how_to_refer, store, worker["id"], reachable[-1]["id"])
        again, _ = timed(how_to_refer, store, worker["id"], reachable[-1]["id"])
        print(f"{label:9} how_to_refer first {ms(seconds)}, cached {ms(again)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--nodes", type=int, default=100_000)
    parser.add_argument("--neo4j", action="store_true", help="also measure on a local Neo4j")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "synthetic"
        write(with_text(generate(args.nodes)), folder)
        bench("embedded", EmbeddedStore(Path(tmp) / "graph.json"), folder)
        if args.neo4j:
            with neo4j_store() as store:
                bench("neo4j", store, folder)


if __name__ == "__main__":
    main()
