"""Pathways on Neo4j at 100k next to their bounds, through bolt:// and neo4j:// (routing).

Issue 18 item 2 (Neo4j half): p95 of the full :func:`pathways_from` call < 20 ms at 100k.
A throwaway server gets the synthetic graph by bulk import (the quickest way to 100k), then
each of ``--workers`` link workers is asked once (no answer from the cache), interleaved:

- the full call as the CLI and app make it (``pathways_from``: checks, query, best path per
  activity, sorted rows), with no filter and with one need;
- the store's query alone (``pathway_candidates``: one read transaction, the records);
- the server's own time for that query (the driver's ``result_available_after`` +
  ``result_consumed_after``), and the naive bound the issue names: variable-length
  ``DISTINCT`` activity ids within the same hops, no paths, no filter.

The same figures through ``neo4j://`` (item 7) show what routing costs on one server, and
through a store that checks every read on its own (:class:`ChecksPerRead`, the code before
``Neo4jStore.consistent`` held one read transaction for all of a call's reads), and through a
store whose query returns every path step as a map, one record per path (:class:`PathsAsMaps`,
the code before paths came back as ids with each node's name and kind once per answer), and
through the call as it was before it became one read transaction (:class:`TwoTransactions`
and :func:`pathways_from_before`: the cache's version read in a transaction of its own, then
the link worker and each of the filter's ids by a query each, then the pathway query).
``--quick`` measures only bolt:// now and two transactions (before).
Answers are checked against the embedded store on the same rows (``--no-check`` skips it).
``--server FILE`` uses a running server (a ``ServerInfo`` JSON, e.g. from
``pathways.neo4j_runtime.start_server(...).save(FILE)``) holding the same generated graph.

    .venv/bin/python benchmarks/neo4j_pathways.py --nodes 100000 [--workers 300] [--heap 4g]
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from pathlib import Path

from generate import generate, write
from pathways import neo4j_runtime as rt
from pathways.analysis.pathways import (
    Pathways,
    check_filter,
    check_link_worker,
    choose_paths,
    pathways_from,
)
from pathways.analysis.snapshot import cached_per_version
from pathways.config import Neo4jSettings
from pathways.loading import plan_for_store
from pathways.model import COMMON_NEEDS, PATHWAY_RELS, NodeKind
from pathways.store.base import GraphStore, PathwayFilter
from pathways.store.embedded import EmbeddedStore
from pathways.store.neo4j import Neo4jStore
from queries import graph as q
from queries.pathways import PATHWAYS_FROM_LINK_WORKER

TYPES = "|".join(rel.value for rel in PATHWAY_RELS)
NAIVE = {hops: f"""
MATCH (w:Person {{id: $worker_id}})-[:{TYPES}*1..{hops}]->(a:Activity)
RETURN DISTINCT a.id AS id
""" for hops in range(1, 7)}


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] * 1000


def server_ms(store: Neo4jStore, query: str, **params) -> float:
    """The server's time for one query (planning cached), as its summary reports it."""
    with store.driver.session(database=store.settings.database) as session:
        summary = session.execute_read(lambda tx: tx.run(query, **params).consume())
    return (summary.result_available_after or 0) + (summary.result_consumed_after or 0)


class ChecksPerRead(Neo4jStore):
    """The store as it was before issue 18: every read in its own transaction with the load
    checks around it, and the version read as a query of its own (for the comparison)."""

    def consistent(self, fn, attempts=5):
        return GraphStore.consistent(self, fn, attempts)

    def version(self):
        return self._read(q.graph_version)


# The pathway query as it was before paths came back as ids: one record per path, each step
# a map of id, name and kind (for the before/after comparison).
PATHS_AS_MAPS = {
    hops: query.split("WITH collect(nodes(p)) AS paths")[0]
    + "RETURN [n IN nodes(p) | {id: n.id, name: n.name,"
      " kind: [l IN labels(n) WHERE l <> 'Pathways'][0]}] AS path\n"
    for hops, query in PATHWAYS_FROM_LINK_WORKER.items()
}


class PathsAsMaps(Neo4jStore):
    """The store before issue 18's ids-only paths: every path step decoded as a map."""

    def pathway_candidates(self, worker_id, max_hops, where):
        def read(tx):
            result = tx.run(PATHS_AS_MAPS[int(max_hops)], worker_id=worker_id,
                            needs=list(where.needs), locality=where.locality,
                            free_only=where.free_only, access=list(where.access), age=where.age,
                            times=[{"day": t.day, "start": t.start, "end": t.end}
                                   for t in where.times],
                            self_referral_only=where.self_referral_only)
            return [record["path"] for record in result]
        return self._read(read)


class TwoTransactions(Neo4jStore):
    """The store before a call became one read transaction (for the comparison): the
    version a query of its own even inside :meth:`consistent`, every node read by a query of
    its own, and the pathway query as it was (:data:`IDS_BEFORE`: no checked ids, no state)."""

    def _read(self, fn, *args, versioned=False):
        pinned = getattr(self._pinned, "tx", None)
        if pinned is not None and fn is None:
            return q.graph_version(pinned)
        return super()._read(fn, *args, versioned=versioned)

    def get_node(self, node_id):
        return self._read(q.get_node, node_id)

    def pathway_candidates(self, worker_id, max_hops, where):
        def read(tx):
            record = tx.run(IDS_BEFORE[int(max_hops)], **params(worker_id, where)).single()
            about = {node_id: (name, kind) for node_id, name, kind in record["nodes"]}
            return [[{"id": i, "name": about[i][0], "kind": about[i][1]} for i in path]
                    for path in record["paths"]]
        return self._read(read)


# The pathway query before it read the checked ids and the state (paths as ids, names once).
IDS_BEFORE = {
    hops: query.split("WITH collect(nodes(p)) AS paths")[0]
    + """WITH collect(nodes(p)) AS paths
RETURN [path IN paths | [n IN path | n.id]] AS paths,
       COLLECT { UNWIND paths AS path UNWIND path AS n
                 RETURN DISTINCT [n.id, n.name, [l IN labels(n) WHERE l <> 'Pathways'][0]] }
         AS nodes
"""
    for hops, query in PATHWAYS_FROM_LINK_WORKER.items()
}


def params(worker_id: str, where: PathwayFilter) -> dict:
    return {"worker_id": worker_id, "needs": list(where.needs), "locality": where.locality,
            "free_only": where.free_only, "access": list(where.access), "age": where.age,
            "times": [{"day": t.day, "start": t.start, "end": t.end} for t in where.times],
            "self_referral_only": where.self_referral_only}


def pathways_from_before(store: GraphStore, worker_id: str, where: PathwayFilter,
                         max_hops: int) -> Pathways:
    """:func:`pathways_from` before (no times filter): the cache's version read on its own
    (one transaction), then the checks and the pathway query (a second)."""
    def read():
        worker = check_link_worker(store, worker_id)
        check_filter(store, where)
        return worker, store.pathway_candidates(worker_id, max_hops, where)

    def compute() -> Pathways:
        worker, candidates = store.consistent(read)
        return {"from": {"id": worker_id, "name": worker["name"]},
                "activities": choose_paths(candidates)}

    return cached_per_version(store, ("pathways_from", worker_id, where, max_hops), compute)


def measure(stores: dict[str, Neo4jStore], picks: list[str], hops: int, rng: random.Random,
            expected: dict[str, Pathways] | None) -> list[tuple[str, str, float, float]]:
    """Each worker asked of every store in turn (the order rotating), so a busy machine
    slows all alike."""
    first = next(iter(stores.values()))
    for worker in rng.sample(picks, min(30, len(picks))):  # plans compiled, page cache warm
        for store in stores.values():
            store.pathway_candidates(worker, hops, PathwayFilter())
        server_ms(first, NAIVE[hops], worker_id=worker)
    samples: dict[tuple[str, str], list[float]] = {}

    def add(label: str, what: str, seconds: float) -> None:
        samples.setdefault((label, what), []).append(seconds)

    labels = list(stores)
    for turn, worker in enumerate(picks):
        need = PathwayFilter(needs=(rng.choice(COMMON_NEEDS),))
        for label in labels[turn % len(labels):] + labels[:turn % len(labels)]:
            store = stores[label]
            call = pathways_from_before if isinstance(store, TwoTransactions) else pathways_from
            began = time.perf_counter()
            answer = call(store, worker, PathwayFilter(), hops)
            add(label, "pathways_from, no filter (full call)", time.perf_counter() - began)
            began = time.perf_counter()
            call(store, worker, need, hops)
            add(label, "pathways_from, one need (full call)", time.perf_counter() - began)
            began = time.perf_counter()
            store.pathway_candidates(worker, hops, PathwayFilter())
            add(label, "the store's query alone (one read transaction)",
                time.perf_counter() - began)
            if expected is not None and answer != expected[worker]:
                raise SystemExit(f"{label}: a different answer from the embedded store for {worker}")
        params: dict[str, object] = {"worker_id": worker, "needs": [], "locality": None,
                                     "free_only": False, "access": [], "age": None,
                                     "times": [], "self_referral_only": False,
                                     "checked": [worker]}
        add("server", "server time of the pathway query",
            server_ms(first, PATHWAYS_FROM_LINK_WORKER[hops], **params) / 1000)
        add("server", "server time of the pathway query before (no checked ids, no state)",
            server_ms(first, IDS_BEFORE[hops], **params) / 1000)
        add("server", "server time of the pathway query, paths as maps (before)",
            server_ms(first, PATHS_AS_MAPS[hops], **params) / 1000)
        add("server", "server time, naive var-length DISTINCT ids",
            server_ms(first, NAIVE[hops], worker_id=worker) / 1000)
    return [(label, what, pct(s, 0.5), pct(s, 0.95)) for (label, what), s in samples.items()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nodes", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=300)
    parser.add_argument("--hops", type=int, default=4)
    parser.add_argument("--heap", default="4g")
    parser.add_argument("--pagecache", default="1g")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-check", action="store_true")
    parser.add_argument("--quick", action="store_true",
                        help="bolt:// now and two transactions (before) only")
    parser.add_argument("--server", type=Path,
                        help="a running server's ServerInfo JSON (holding the same graph)")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "synthetic"
        write(generate(args.nodes), folder)
        plan = plan_for_store(EmbeddedStore(None), [folder])
        expected = None
        embedded = EmbeddedStore(None)
        embedded.write(plan.nodes, plan.rels)
        workers = [p["id"] for p in embedded.list_nodes(NodeKind.PERSON, "link_worker")]
        picks = rng.sample(workers, min(args.workers, len(workers)))
        if not args.no_check:
            expected = {w: pathways_from(embedded, w, PathwayFilter(), args.hops) for w in picks}
        del embedded
        began = time.perf_counter()
        if args.server:
            info = rt.ServerInfo(**json.loads(args.server.read_text()))
        else:
            info = rt.start_server(home=Path(tmp) / "neo4j", heap=args.heap,
                                   pagecache=args.pagecache, import_plan=plan,
                                   dies_with_caller=True)
            print(f"bulk import + start: {time.perf_counter() - began:.1f} s", flush=True)
        del plan
        rows = []
        try:
            bolt = Neo4jSettings(info.uri, info.user, info.password, "neo4j")
            routed = Neo4jSettings(info.uri.replace("bolt://", "neo4j://", 1), info.user,
                                   info.password, "neo4j")
            stores: dict[str, Neo4jStore] = {"bolt://": Neo4jStore(bolt)}
            stores["bolt://, two transactions (before)"] = TwoTransactions(bolt)
            if not args.quick:
                stores["neo4j://"] = Neo4jStore(routed)
                stores["bolt://, checks per read (before)"] = ChecksPerRead(bolt)
                stores["bolt://, paths as maps (before)"] = PathsAsMaps(bolt)
            rows = measure(stores, picks, args.hops, rng, expected)
            for store in stores.values():
                store.close()
        finally:
            if not args.server:
                rt.stop_server(info)
    print(f"\n{args.nodes:,} nodes, {len(picks)} link workers each asked once per row,"
          f" max hops {args.hops}, heap {info.heap or args.heap}"
          + ("" if args.server else f", page cache {args.pagecache}")
          + ("" if args.no_check else "; answers equal to the embedded store's"))
    print("| store | what | p50 | p95 |\n|---|---|---|---|")
    for label, what, p50, p95 in rows:
        print(f"| {label} | {what} | {p50:.1f} ms | {p95:.1f} ms |")


if __name__ == "__main__":
    main()
