"""The gap report's own per-snapshot index and searches (issue 18 item 5): the pathway
relationships as plain lists of neighbours, and the single-points-of-failure pass on them.

The same answers as :func:`pathways.graphs.reachable` and the first version of
:func:`pathways.analysis.gaps.single_points_of_failure` (tests/unit/test_gaps_oracle.py keeps
that version and compares them on random graphs); less work per node, because at 100k nodes the
report walks ~400k (link worker, node) pairs:

* neighbours without the relationship type (one entry per neighbour, not per type), built in
  one pass over networkx's own dicts;
* the dominator pass skips what cannot change an answer: a node with a single relationship
  in has that node as its immediate dominator, and an edge from a node one hop nearer (an edge
  of the shortest-route DAG) never enters a dominator subtree from outside it.
"""

from __future__ import annotations

from pathways.analysis.snapshot import typed_adjacency
from pathways.graphs import Snapshot, all_activities, per_snapshot
from pathways.model import PATHWAY_RELS, serves_whole_area

Neighbours = dict[str, list[str]]  # node -> distinct neighbours along pathway relationships
_FOLLOW = frozenset(PATHWAY_RELS)
_NONE: list[str] = []


@per_snapshot
def pathway_neighbours(graph: Snapshot) -> tuple[Neighbours, Neighbours]:
    """``(out, into)``: for each node, the distinct nodes it points to / that point to it by a
    pathway relationship (REFERS_TO, PROVIDES, OFFERS), joined from the snapshot's lists per
    relationship type (:func:`pathways.analysis.snapshot.typed_adjacency`, which the report
    reads anyway): no second pass over every relationship.  The order is not networkx's
    (no answer depends on it: tests/unit/test_gaps_oracle.py).  Shared: do not modify it
    (a node with one type's neighbours shares that type's list).

    The biggest type's table is copied whole (in C), then the others are merged into it."""
    typed = typed_adjacency(graph)
    sides: list[Neighbours] = []
    for side in (0, 1):
        first, *rest = sorted((typed[rel][side] for rel in PATHWAY_RELS), key=len, reverse=True)
        joined: Neighbours = dict(first)
        repeated: set[str] = set()  # nodes with more than one type: lists of their own
        for table in rest:
            for node, others in table.items():
                found = joined.get(node)
                if found is None:
                    joined[node] = others
                elif node in repeated:
                    found.extend(others)
                else:
                    repeated.add(node)
                    joined[node] = found + others
        for node in repeated:  # a neighbour by two types once
            joined[node] = list(dict.fromkeys(joined[node]))
        sides.append(joined)
    return sides[0], sides[1]


def reach_from(out: Neighbours, start: str, max_hops: int,
               without: str | None = None) -> dict[str, int]:
    """Hops to every node reachable from ``start`` within ``max_hops`` (``without``: as if
    that node were gone), breadth-first: :func:`pathways.graphs.reachable` on the lists."""
    if start == without:
        return {}
    hops = {start: 0}
    frontier = [start]
    for depth in range(1, max_hops + 1):
        layer: list[str] = []
        for node in frontier:
            for target in out.get(node, _NONE):
                if target not in hops and target != without:
                    hops[target] = depth
                    layer.append(target)
        if not layer:
            break
        frontier = layer
    return hops


@per_snapshot
def pathway_core(graph: Snapshot) -> tuple[Neighbours, dict[str, int]]:
    """``(core, leaf_activities)``.  A *leaf* has no pathway relationship out and a single
    node with one in (most activities: offered by one service); it dominates nothing and no
    route goes through it, so the failure pass only counts the activities among them.
    ``core[u]``: the nodes ``u`` points to that are not leaves; ``leaf_activities[u]``: how
    many leaf activities ``u`` points to (reached whenever ``u`` is, one hop further).
    Shared: do not modify them."""
    out, into = pathway_neighbours(graph)
    every = all_activities(graph)
    leaves = {v for v, ins in into.items() if len(ins) == 1 and v not in out}
    core: Neighbours = {}
    leaf_activities: dict[str, int] = {}
    for u, targets in out.items():
        inner = [v for v in targets if v not in leaves]
        if inner:
            core[u] = inner
        count = sum(1 for v in targets if v in leaves and v in every)
        if count:
            leaf_activities[u] = count
    return core, leaf_activities


def losses_for_worker(out: Neighbours, core: Neighbours, leaf_activities: dict[str, int],
                      every: frozenset[str], worker: str, hops: dict[str, int],
                      max_hops: int) -> dict[str, int]:
    """Activities each node's removal would cut this link worker off from (exact), for the
    nodes that cost any.  ``hops``: the worker's :func:`reach_from`; ``core`` and
    ``leaf_activities``: :func:`pathway_core`.

    A node can only cost the worker an activity it *dominates* in the shortest-route DAG:
    otherwise a shortest route avoids it.  If no edge enters the node's dominator subtree from
    outside within the hop limit, everything in it is lost; only then is a search without the
    node needed.

    One breadth-first search over the core (leaves are only counted) finds each node's
    immediate dominator, where the dominator-tree paths of its DAG predecessors meet (Cooper,
    Harvey and Kennedy), and keeps the other edges within the limit (side edges: from a node
    not one hop nearer).  Then one pass up the dominator tree (breadth-first order reversed)
    counts each subtree's activities and finds its side entries: an edge ``u -> v`` enters the
    subtree of each of ``v``'s proper ancestors below the lowest common ancestor of ``u`` and
    ``v``'s immediate dominator, so a subtree rooted at depth ``d`` has a side entry when such
    an ancestor lies above ``d``.  A DAG edge never does (the immediate dominator dominates
    its source), so only side edges are walked.
    """
    at = {worker: 0}  # hops, core nodes only
    idom = {worker: worker}
    depth = {worker: -1}  # in the dominator tree (set for each node as its layer is expanded)
    below: dict[str, int] = {}  # activities in the subtree, the root excluded
    side: dict[str, list[str]] = {}  # v -> nodes within the limit with a side edge into v
    order = [worker]
    frontier = [worker]
    for layer in range(max_hops):
        further = layer + 1
        for u in frontier:
            depth[u] = depth[idom[u]] + 1
        found: list[str] = []
        for u in frontier:
            below[u] = leaf_activities.get(u, 0)
            for v in core.get(u, _NONE):
                there = at.get(v)
                if there is None:
                    at[v] = further
                    idom[v] = u
                    found.append(v)
                elif there == further:  # another predecessor: where the two paths meet
                    a, b = idom[v], u
                    while a != b:
                        while depth[a] > depth[b]:
                            a = idom[a]
                        while depth[b] > depth[a]:
                            b = idom[b]
                        if a != b:
                            a, b = idom[a], idom[b]
                    idom[v] = a
                else:
                    others = side.get(v)
                    if others is None:
                        side[v] = [u]
                    else:
                        others.append(u)
        if not found:
            break
        order.extend(found)
        frontier = found
    beyond = len(order) + 1  # deeper than any node
    entry: dict[str, int] = {}  # the highest ancestor an edge into a proper descendant comes from
    reached_activities = -1  # counted when first needed
    losses: dict[str, int] = {}
    for v in reversed(order):
        if v == worker:
            break
        dominated = below.get(v, 0)
        if dominated and v not in every:
            if entry.get(v, beyond) < depth[v]:  # a side entry: search without it
                if reached_activities < 0:
                    reached_activities = len(every.intersection(hops))
                after = reach_from(out, worker, max_hops, without=v)
                gone = reached_activities - len(every.intersection(after))
            else:
                gone = dominated
            if gone:
                losses[v] = gone
        parent = idom[v]
        below[parent] += dominated + (v in every)
        if parent == worker:
            continue  # no candidate above v but the worker: entries into v cannot count
        top = entry.get(v, beyond)
        extra = side.get(v)
        if extra is not None and top:
            for u in extra:
                if u == parent:
                    continue
                # the lowest common ancestor of u and the parent, by depth
                a, b = u, parent
                da, db = depth[a], depth[b]
                while da > db:
                    a, da = idom[a], da - 1
                while db > da:
                    b, db = idom[b], db - 1
                while a != b:
                    a, b, da = idom[a], idom[b], da - 1
                if da < top:
                    top = da
        if top < entry.get(parent, beyond):
            entry[parent] = top
    return losses


def reach_nearest(out: Neighbours, starts: list[str]) -> dict[str, int]:
    """Hops from the nearest of ``starts`` to every node reachable from any of them, routes
    of any length (one breadth-first search from all at once):
    :func:`pathways.graphs.nearest_sources` on the lists."""
    hops = dict.fromkeys(starts, 0)
    frontier = list(hops)
    depth = 0
    while frontier:
        depth += 1
        layer: list[str] = []
        for node in frontier:
            for target in out.get(node, _NONE):
                if target not in hops:
                    hops[target] = depth
                    layer.append(target)
        frontier = layer
    return hops


@per_snapshot
def whole_area_activities(graph: Snapshot) -> frozenset[str]:
    """The activities serving the whole area (:func:`pathways.model.serves_whole_area`)."""
    nodes = graph._node  # type: ignore[attr-defined]  # networkx's own dict, minus views
    return frozenset(a for a in all_activities(graph) if serves_whole_area(nodes[a]["props"]))
