"""The gap report for the graph with new referral agreements, from the real graph's report.

A what-if simulation (:func:`pathways.analysis.recommend.simulate`) asks for the whole gap report
of "the graph as it would be" with a few new ``REFERS_TO`` edges.  Recomputing it from scratch
costs a cold gap report (half a minute at 100k nodes).  Almost all of it cannot change, so
:func:`simulated_report` recomputes only what the new edges can reach and keeps the rest of the
real network's report (same answer: tests/unit/test_whatif_incremental.py compares it with a full
recompute on seeded random graphs):

* A link worker's reach (within the hop limit) changes only if, in the new graph, the worker
  reaches the source of a new edge within ``max_hops - 1`` hops ("affected" workers: one
  breadth-first search backwards from the new edges' sources).  Everything else a worker
  contributes (its coverage, its needs covered, the options each node's loss would cut) is a
  function of its reach, so only affected workers are recomputed.
* Coverage cells change only in localities an affected worker covers; a cell's activities and
  link workers (which do not depend on referrals) come from the real report.
* Unreached activities and services can only become reached; "needs hops" (the shortest route
  from any link worker, of any length) can only shorten, and is updated from the real graph's
  distances by relaxing from the new edges' ends (shortest paths with unit weights).
* Organisations with no route in lose those a new edge points at (or at one of their services).
* Single points of failure: the real totals, minus the affected workers' losses on the real
  graph, plus theirs on the new one.  Whether a node is an articulation point of the undirected
  referral network is decided from one depth-first search of the real network (cached per
  snapshot): new edges can only merge the pieces a node's removal leaves, and a node that was
  not an articulation point can become one only as the end of a new edge.
* Data gaps and thin localities do not depend on referrals: kept.
"""

from __future__ import annotations

import heapq
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

from pathways.analysis.gaps import (
    CoverageCell,
    GapReport,
    NoInboundRoute,
    Reach,
    SinglePointOfFailure,
    ThinOptions,
    UnreachedActivity,
    thin_options,
)
from pathways.analysis.snapshot import name_of, targets
from pathways.graphs import (
    Adjacency,
    Snapshot,
    activities_in,
    dag_immediate_dominators,
    nearest_sources,
    pathway_adjacency,
    per_snapshot,
)
from pathways.model import NodeKind, PersonRole, RelType

Edge = tuple[str, str]  # (from id, to id) of a new REFERS_TO


def _with_edges(adjacency: tuple[Adjacency, Adjacency],
                edges: Sequence[Edge]) -> tuple[Adjacency, Adjacency]:
    """The snapshot's pathway adjacency plus the new edges (the snapshot's own lists are
    shared, never changed: a top-level copy, and new lists for the few nodes an edge touches)."""
    out, into = dict(adjacency[0]), dict(adjacency[1])
    for u, v in edges:
        if any(t == v and k == RelType.REFERS_TO for t, k in out.get(u, ())):
            continue  # already there: the simulated graph has the same edge once
        out[u] = [*out.get(u, ()), (v, RelType.REFERS_TO)]
        into[v] = [*into.get(v, ()), (u, RelType.REFERS_TO)]
    return out, into


def _bfs(adjacency: Adjacency, starts: Sequence[str], depth: int,
         without: str | None = None) -> dict[str, int]:
    """Hops from the nearest of ``starts`` within ``depth`` (as pathways.graphs.reachable)."""
    hops = {s: 0 for s in starts if s != without}
    frontier = list(hops)
    for level in range(1, depth + 1):
        layer: list[str] = []
        for node in frontier:
            for target, _key in adjacency.get(node, ()):
                if target not in hops and target != without:
                    hops[target] = level
                    layer.append(target)
        if not layer:
            break
        frontier = layer
    return hops


def _losses(graph: Snapshot, out: Adjacency, into: Adjacency, worker: str,
            hops: dict[str, int], max_hops: int) -> dict[str, int]:
    """:func:`pathways.analysis.gaps._losses_for_worker` on the adjacency ``out``/``into``
    (the real graph's plus new edges), so that the new graph's indexes are not rebuilt."""
    preds: dict[str, list[str]] = defaultdict(list)
    for u, depth in hops.items():
        if depth >= max_hops:
            continue
        for v, _key in out.get(u, ()):
            if hops.get(v) == depth + 1:
                preds[v].append(u)
    children: dict[str, list[str]] = defaultdict(list)
    for node, dominator in dag_immediate_dominators(worker, list(hops), preds).items():
        if node != dominator:
            children[dominator].append(node)

    def subtree(root: str) -> set[str]:
        found, stack = {root}, [root]
        while stack:
            for child in children.get(stack.pop(), ()):
                found.add(child)
                stack.append(child)
        return found

    now = activities_in(graph, hops)
    losses: dict[str, int] = {}
    for candidate in list(children):
        if candidate == worker or graph.nodes[candidate]["kind"] == NodeKind.ACTIVITY:
            continue
        below = subtree(candidate)
        dominated = activities_in(graph, below)
        if not dominated:
            continue
        side_entry = any(
            u not in below and u in hops and hops[u] < max_hops
            for v in below - {candidate}
            for u, _key in into.get(v, ())
        )
        if side_entry:
            after = _bfs(out, [worker], max_hops, without=candidate)
            gone = len(now - {candidate}) - len(activities_in(graph, after))
        else:
            gone = len(dominated)
        if gone:
            losses[candidate] = gone
    return losses


# --------------------------------------------------------------------------- per snapshot


@per_snapshot
def _workers(graph: Snapshot) -> list[str]:
    """The link workers, in no particular order (every use here is order-free)."""
    nodes = graph._node  # type: ignore[attr-defined]  # networkx's own dict, minus views
    return [n for n, a in nodes.items() if a["kind"] == NodeKind.PERSON
            and a["props"].get("role") == PersonRole.LINK_WORKER.value]


@per_snapshot
def _nearest(graph: Snapshot) -> dict[str, int]:
    """Hops from the nearest link worker to every node any reaches (routes of any length)."""
    return nearest_sources(graph, _workers(graph))


@dataclass(frozen=True)
class _Search:
    """One depth-first search of the undirected referral network (REFERS_TO, PROVIDES, OFFERS
    joined regardless of direction): discovery order, the last discovery in each node's
    subtree, low points, tree parents and children, and each node's tree root.

    Leaves (one relationship, to a node with others: most activities, offered by one service)
    are left out of the search and kept aside (``leaf``: its one neighbour; ``leaves``: a
    node's leaves): a leaf is never an articulation point, and alone in its piece when its
    neighbour goes.  The search then walks a quarter of the nodes at 100k."""

    disc: dict[str, int]
    last: dict[str, int]
    low: dict[str, int]
    parent: dict[str, str | None]
    children: dict[str, list[str]]
    child_disc: dict[str, list[int]]
    root: dict[str, str]
    leaf: dict[str, str]
    leaves: dict[str, list[str]]


@per_snapshot
def _search(graph: Snapshot) -> _Search:
    out, into = pathway_adjacency(graph)
    empty: list = []

    def edges_of(node: str) -> int:
        return len(out.get(node, empty)) + len(into.get(node, empty))

    leaf: dict[str, str] = {}
    leaves: dict[str, list[str]] = {}
    for table in (out, into):
        for node, pairs in table.items():
            if len(pairs) == 1 and edges_of(node) == 1:
                other = pairs[0][0]
                if other != node and edges_of(other) > 1:
                    leaf[node] = other
                    leaves.setdefault(other, []).append(node)
    # Each core node's core neighbours either way (a pair joined twice is met twice: harmless,
    # since a tree edge is never taken twice and a second look at the parent is skipped).
    near: dict[str, list[str]] = {}
    for table in (out, into):
        for u, pairs in table.items():
            if u in leaf:
                continue
            mine = near.get(u)
            if mine is None:
                mine = near[u] = []
            mine.extend(v for v, _key in pairs if v not in leaf)
    disc: dict[str, int] = {}
    low: dict[str, int] = {}
    last: dict[str, int] = {}
    parent: dict[str, str | None] = {}
    children: dict[str, list[str]] = {}
    root_of: dict[str, str] = {}
    clock = 0
    for root in near:
        if root in disc:
            continue
        disc[root] = low[root] = clock
        clock += 1
        parent[root] = None
        root_of[root] = root
        stack = [(root, iter(near[root]))]
        while stack:
            node, pending = stack[-1]
            up = parent[node]
            for other in pending:
                seen = disc.get(other)
                if seen is None:
                    disc[other] = low[other] = clock
                    clock += 1
                    parent[other] = node
                    root_of[other] = root
                    children.setdefault(node, []).append(other)
                    stack.append((other, iter(near[other])))
                    break
                if other != up and seen < low[node]:
                    low[node] = seen
            else:
                stack.pop()
                last[node] = clock - 1
                if up is not None and low[node] < low[up]:
                    low[up] = low[node]
    child_disc = {n: [disc[c] for c in kids] for n, kids in children.items()}
    return _Search(disc, last, low, parent, children, child_disc, root_of, leaf, leaves)


def _still_articulation(search: _Search, node: str, edges: Sequence[Edge]) -> bool:
    """Is ``node`` an articulation point of the undirected referral network with ``edges``?

    Removing ``node`` from the real network leaves pieces: each child subtree whose low point
    does not climb above it, and the rest of its tree ("up"), each of its leaves; other trees
    are pieces of their own.  ``node`` is an articulation point iff its neighbours (old and
    new) lie in at least two pieces once the new edges not at ``node`` have joined the pieces
    they connect."""
    disc, root, leaf = search.disc, search.root, search.leaf
    core = search.leaf.get(node)  # a leaf's pieces are those of its neighbour's network

    def piece(other: str) -> Hashable:
        if other in leaf:
            if leaf[other] == node:
                return ("leaf", other)
            other = leaf[other]
        if other not in disc:
            return ("alone", other)
        if core is not None or node not in disc or root[other] != root[node]:
            return ("tree", root[other])
        if disc[node] < disc[other] <= search.last[node]:
            kids = search.children[node]
            child = kids[bisect_right(search.child_disc[node], disc[other]) - 1]
            if search.parent[node] is None or search.low[child] >= disc[node]:
                return ("below", child)
        return ("up",)

    around: set[Hashable] = set()
    if core is not None:
        around.add(piece(core))
    elif node in disc:
        kids = search.children.get(node, [])
        is_root = search.parent[node] is None
        around.update(("below", c) for c in kids if is_root or search.low[c] >= disc[node])
        if not is_root:
            around.add(("up",))
        around.update(("leaf", n) for n in search.leaves.get(node, ()))
    joined: dict[Hashable, Hashable] = {}

    def find(x: Hashable) -> Hashable:
        while joined.get(x, x) != x:
            x = joined[x]
        return x

    for u, v in edges:
        if u == node:
            around.add(piece(v))
        elif v == node:
            around.add(piece(u))
        else:
            a, b = find(piece(u)), find(piece(v))
            if a != b:
                joined[a] = b
    return len({find(p) for p in around}) >= 2


# --------------------------------------------------------------------------- the report


def simulated_report(graph: Snapshot, real: GapReport, edges: Sequence[Edge]) -> GapReport:
    """The gap report of ``graph`` with the new ``REFERS_TO`` ``edges``, given ``real``, the
    report of ``graph`` itself for the same question (see the module docstring).

    Same answer as ``compute_gaps(with_agreements(graph, edges), query)``."""
    max_hops = real["max_hops"]
    out, into = _with_edges(pathway_adjacency(graph), edges)
    starts = sorted({u for u, _v in edges})
    near_sources = _bfs(into, starts, max_hops - 1)
    workers = _workers(graph)
    affected = [w for w in workers if w in near_sources]
    if not edges:
        return real
    before: Reach = {w: _bfs(pathway_adjacency(graph)[0], [w], max_hops) for w in affected}
    after: Reach = {w: _bfs(out, [w], max_hops) for w in affected}
    newly = set[str]().union(*after.values())
    return {
        **real,
        "coverage": _coverage(graph, real["coverage"], out, after, max_hops),
        "unreached": [{**r, "needs_hops": h} for r, h in _unreached(graph, real, out, edges, newly)],
        "unreached_services": [r for r in real["unreached_services"] if r["id"] not in newly],
        "no_inbound_route": _no_inbound(graph, real, edges),
        "single_points_of_failure": _failures(graph, real, out, into, before, after, edges,
                                              max_hops),
        "thin_options": _thin(graph, real, after),
    }


def _coverage(graph: Snapshot, cells: list[CoverageCell], out: Adjacency, after: Reach,
              max_hops: int) -> list[CoverageCell]:
    changed = {place for w in after for place in targets(graph, w, RelType.COVERS)}
    reach: dict[str, dict[str, int]] = dict(after)
    local: dict[str, set[str]] = {}
    rows: list[CoverageCell] = []
    for cell in cells:
        place = cell["locality"]
        if place not in changed:
            rows.append(cell)
            continue
        if place not in local:
            for w in cell["link_workers"]:
                if w not in reach:
                    reach[w] = _bfs(out, [w], max_hops)
            local[place] = set[str]().union(*(reach[w] for w in cell["link_workers"]))
        reached = local[place].intersection(cell["activities"])
        rows.append({**cell, "reachable": len(reached), "reachable_activities": sorted(reached)})
    return rows


def _unreached(graph: Snapshot, real: GapReport, out: Adjacency, edges: Sequence[Edge],
               newly: set[str]) -> list[tuple[UnreachedActivity, int | None]]:
    """The real report's unreached activities still unreached, each with its new "needs hops"
    (shortest routes from the link workers only shorten: relax from the new edges)."""
    base = _nearest(graph)
    better: dict[str, int] = {}

    def now(node: str) -> int | None:
        return better.get(node, base.get(node))

    queue: list[tuple[int, str]] = []
    for u, v in edges:
        hops = now(u)
        if hops is not None:
            heapq.heappush(queue, (hops + 1, v))
    while queue:
        hops, node = heapq.heappop(queue)
        known = now(node)
        if known is not None and known <= hops:
            continue
        better[node] = hops
        for target, _key in out.get(node, ()):
            known = now(target)
            if known is None or known > hops + 1:
                heapq.heappush(queue, (hops + 1, target))
    return [(r, now(r["id"])) for r in real["unreached"] if r["id"] not in newly]


def _no_inbound(graph: Snapshot, real: GapReport, edges: Sequence[Edge]) -> list[NoInboundRoute]:
    into = {v for _u, v in edges}
    return [r for r in real["no_inbound_route"]
            if r["id"] not in into
            and not into.intersection(targets(graph, r["id"], RelType.PROVIDES))]


def _failures(graph: Snapshot, real: GapReport, out: Adjacency, into: Adjacency,
              before: Reach, after: Reach, edges: Sequence[Edge],
              max_hops: int) -> list[SinglePointOfFailure]:
    lost = {r["id"]: r["pairs_lost"] for r in real["single_points_of_failure"]}
    base_out, base_into = pathway_adjacency(graph)
    for w, hops in before.items():
        for node, count in _losses(graph, base_out, base_into, w, hops, max_hops).items():
            lost[node] -= count
    for w, hops in after.items():
        for node, count in _losses(graph, out, into, w, hops, max_hops).items():
            lost[node] = lost.get(node, 0) + count
    search = _search(graph)
    rows: list[SinglePointOfFailure] = []
    for node, count in lost.items():
        if not count:
            continue
        rows.append({"id": node, "name": name_of(graph, node),
                     "kind": graph.nodes[node]["kind"].value, "pairs_lost": count,
                     "articulation_point": _still_articulation(search, node, edges)})
    return sorted(rows, key=lambda r: (-r["pairs_lost"], r["name"], r["id"]))


def _thin(graph: Snapshot, real: GapReport, after: Reach) -> ThinOptions:
    if not after:
        return real["thin_options"]
    changed = thin_options(graph, after, [])["link_workers"]
    rows = [r for r in real["thin_options"]["link_workers"] if r["id"] not in after] + changed
    rows.sort(key=lambda r: (r["needs_covered"], r["activities"], r["name"], r["id"]))
    return {"link_workers": rows, "localities": real["thin_options"]["localities"]}

