"""The embedded store's pathway search: best shortest paths on a compact per-snapshot index.

The answer is :func:`pathways.graphs.best_path_parents`' (each reached node's predecessor
on its best shortest path: the names along the path first, then the ids); the tests keep
that function as the oracle.  Two things make it cheaper (issue 18 item 2,
``benchmarks/pathways_bound.py``):

- **What a call reads sits together.**  Each node is one small object holding its id, name,
  kind, properties, networkx's dict of its relationships and the nodes its pathway
  relationships lead to, built once per snapshot.  At 100k nodes a call's time was mostly
  waiting on memory (a look-up per node in each of four 100k-entry dicts), not work.
- **Only what matters is ranked.**  A layer's paths are ranked only so that the next layer
  can pick each node's best predecessor: so only nodes that lead somewhere are ranked (most
  reached nodes are activities, which lead nowhere), and the last layer not at all.
"""

from __future__ import annotations

from typing import Any

from pathways.graphs import Snapshot, per_snapshot
from pathways.model import PATHWAY_RELS

_FOLLOW = frozenset(PATHWAY_RELS)


class PathwayNode:
    """One node as the pathway search reads it (shared by every call on one snapshot: read
    only).  Hashed by identity, so a search's dicts never hash or touch the id text."""

    __slots__ = ("id", "kind", "name", "onward", "out", "props")

    def __init__(self, node_id: str, attrs: dict[str, Any], out: dict[str, Any]):
        self.id = node_id
        self.props: dict[str, Any] = attrs["props"]
        self.name: str = self.props["name"]
        self.kind: str = attrs["kind"].value  # NodeKind's text ("Activity")
        self.out = out  # networkx's dict of its relationships: neighbour -> type -> data
        self.onward: tuple[PathwayNode, ...] = ()  # along pathway relationships

    def __repr__(self) -> str:
        return f"PathwayNode({self.id!r})"


@per_snapshot
def pathway_nodes(graph: Snapshot) -> dict[str, PathwayNode]:
    """Every node of the snapshot as a :class:`PathwayNode`, by id, built once per snapshot."""
    succ = graph._succ  # type: ignore[attr-defined]  # networkx's own dicts
    nodes = {n: PathwayNode(n, attrs, succ[n])
             for n, attrs in graph._node.items()}  # type: ignore[attr-defined]
    for node in nodes.values():
        onward = tuple(nodes[v] for v, keys in node.out.items() if not _FOLLOW.isdisjoint(keys))
        if onward:
            node.onward = onward
    return nodes


def best_parents(graph: Snapshot, start: str, max_hops: int
                 ) -> dict[PathwayNode, PathwayNode | None]:
    """Each node reachable from ``start`` within ``max_hops`` -> its predecessor on its best
    path (``None`` for ``start``), a layer's nodes after the previous layer's.

    The best path to a node extends its best predecessor's (see
    :func:`pathways.graphs.best_paths`), and two paths of one layer compare by (their
    parent's place by names, their own name, their parent's place by names then ids, their
    own id).  The frontier is kept in that order, so the first node to reach another is its
    best predecessor.

    >>> import networkx as nx
    >>> from pathways.model import NodeKind, RelType
    >>> g = nx.MultiDiGraph()
    >>> for n in "wxya":
    ...     g.add_node(n, kind=NodeKind.SERVICE, props={"name": n.upper()})
    >>> for u, v in ("wy", "wx", "xa", "ya"):
    ...     _ = g.add_edge(u, v, key=RelType.REFERS_TO)
    >>> {node.id: parent and parent.id for node, parent in best_parents(g, "w", 4).items()}
    {'w': None, 'y': 'w', 'x': 'w', 'a': 'x'}
    """
    first_node = pathway_nodes(graph).get(start)
    if first_node is None:
        return {}
    parent: dict[PathwayNode, PathwayNode | None] = {first_node: None}
    rank = {first_node: 0}  # a node's place among its layer's onward paths (names, then ids)
    name_rank = {first_node: 0}  # its place by names alone (equal names, equal places)
    frontier = [first_node]
    for hop in range(1, max_hops + 1):
        best: dict[PathwayNode, PathwayNode] = {}
        for node in frontier:  # in rank order: the first to reach a node wins
            for target in node.onward:
                if target not in parent and target not in best:
                    best[target] = node
        if not best:
            break
        parent.update(best)
        if hop == max_hops:
            break
        # Only nodes with onward relationships can be a predecessor in the next layer.
        order = [key[-1] for key in sorted([(name_rank[p], t.name, rank[p], t.id, t)
                                             for t, p in best.items() if t.onward])]
        previous: tuple[int, str] | None = None
        first = 0
        for place, target in enumerate(order):
            by_name = (name_rank[best[target]], target.name)
            if by_name != previous:
                first, previous = place, by_name
            name_rank[target] = first
            rank[target] = place
        frontier = order
    return parent
