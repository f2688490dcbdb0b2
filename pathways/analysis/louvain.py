"""Louvain communities of a weighted graph: networkx's algorithm, step for step, on lists.

:func:`louvain_communities` gives exactly what ``networkx.community.louvain_communities(G,
weight="weight", seed=seed)`` gives for an undirected ``nx.Graph`` with integer weights (the
consortium tie graph): the same moves in the same order (nodes visited in the order of the
same seeded shuffle, neighbour communities in the order networkx meets them, the first best
gain kept), the same aggregated graphs, and the same modularity test between levels.  With
integer weights every sum is exact, so the order of additions cannot change a decision.

Why not networkx itself: at 100k nodes (8,000 organisations, 256k ties) its Louvain spends
most of its time outside the moves, copying the graph, building neighbour dicts through
views, computing modularity over node views and building each level's graph; here nodes
are list positions and each level's graph a list of dicts.  Why not python-igraph or another
library's Louvain: their moves differ, so their groups would (the Consortia page and the
CLI show these groups, and both stores must keep giving the same ones).
"""

from __future__ import annotations

import random
from collections.abc import Hashable, Sequence
from typing import TypeVar

import networkx as nx

Adjacency = list[dict[int, int]]  # node -> {neighbour: weight}, in networkx's order
N = TypeVar("N", bound=Hashable)


def louvain_communities(graph: nx.Graph[N], seed: int = 0, threshold: float = 0.0000001,
                        ) -> list[set[N]]:
    """``networkx.community.louvain_communities(graph, weight="weight", seed=seed)`` for an
    undirected graph whose ``weight`` attributes are integers (1 where missing).

    >>> g = nx.barbell_graph(4, 0)
    >>> louvain_communities(g) == nx.community.louvain_communities(g, seed=0)
    True
    """
    if graph.is_directed() or graph.is_multigraph():
        raise ValueError("louvain_communities takes an undirected simple graph")
    nodes = list(graph)
    if graph.number_of_edges() == 0:
        return [{u} for u in nodes]
    index = {u: i for i, u in enumerate(nodes)}
    # networkx's own first step copies the graph edge by edge (graph.edges order), which
    # can order each node's neighbours differently from the original: do the same.
    adj: Adjacency = [{} for _ in nodes]
    for u, v, weight in graph.edges(data="weight", default=1):
        if not isinstance(weight, int):
            raise ValueError("louvain_communities takes integer weights")
        a, b = index[u], index[v]
        adj[a][b] = weight
        adj[b][a] = weight
    rng = random.Random(seed)
    singletons = [{i} for i in range(len(nodes))]
    mod = _modularity(adj, singletons)
    m = sum(_degrees(adj)) / 2
    members = [{i} for i in range(len(nodes))]  # original nodes of each node of this level
    partition, inner, improvement = _one_level(adj, members, m, rng)
    found = partition
    improvement = True
    while improvement:
        found = [set(s) for s in partition]
        new_mod = _modularity(adj, inner)
        if new_mod - mod <= threshold:
            break
        mod = new_mod
        adj, members = _aggregate(adj, inner, members)
        partition, inner, improvement = _one_level(adj, members, m, rng)
    return [{nodes[i] for i in part} for part in found]


def _degrees(adj: Adjacency) -> list[int]:
    """Weighted degrees as networkx counts them (a self-loop twice)."""
    return [sum(nbrs.values()) + nbrs.get(u, 0) for u, nbrs in enumerate(adj)]


def _modularity(adj: Adjacency, communities: Sequence[set[int]]) -> float:
    """``networkx.community.modularity(G, communities)`` (resolution 1), the same terms in
    the same order: with integer weights each community's sums are exact."""
    degree = _degrees(adj)
    deg_sum = sum(degree)
    m = deg_sum / 2
    norm = 1 / deg_sum**2
    resolution = 1

    def contribution(community: set[int]) -> float:
        inside = 0
        for u in community:  # each edge inside once, a self-loop once
            for v, weight in adj[u].items():
                if v in community and v >= u:
                    inside += weight
        degree_sum = sum(degree[u] for u in community)
        return inside / m - resolution * degree_sum * degree_sum * norm

    return sum(map(contribution, communities))


def _one_level(adj: Adjacency, members: list[set[int]], m: float, rng: random.Random,
               ) -> tuple[list[set[int]], list[set[int]], bool]:
    """networkx's ``_one_level`` (undirected, resolution 1): move nodes to the neighbouring
    community with the best modularity gain until no move helps."""
    count = len(adj)
    node2com = list(range(count))
    partition = [set(s) for s in members]
    inner = [{u} for u in range(count)]
    degrees = _degrees(adj)
    stot = list(degrees)
    nbrs = [{v: w for v, w in nbrs_u.items() if v != u} for u, nbrs_u in enumerate(adj)]
    order = list(range(count))
    rng.shuffle(order)
    resolution = 1
    twice_m2 = 2 * m**2
    moves = 1
    improvement = False
    while moves > 0:
        moves = 0
        for u in order:
            best_mod = 0.0
            best_com = here = node2com[u]
            weights: dict[int, float] = {}
            get = weights.get
            for nbr, wt in nbrs[u].items():
                com = node2com[nbr]
                weights[com] = get(com, 0.0) + wt
            if here not in weights:  # networkx's defaultdict adds it, last
                weights[here] = 0.0
            degree = degrees[u]
            stot[here] -= degree
            remove_cost = -weights[here] / m + resolution * (stot[here] * degree) / twice_m2
            for nbr_com, total in weights.items():
                gain = remove_cost + total / m - resolution * (stot[nbr_com] * degree) / twice_m2
                if gain > best_mod:
                    best_mod = gain
                    best_com = nbr_com
            stot[best_com] += degree
            if best_com != here:
                com_nodes = members[u]
                partition[here].difference_update(com_nodes)
                inner[here].remove(u)
                partition[best_com].update(com_nodes)
                inner[best_com].add(u)
                improvement = True
                moves += 1
                node2com[u] = best_com
    return ([p for p in partition if p], [p for p in inner if p], improvement)


def _aggregate(adj: Adjacency, inner: list[set[int]], members: list[set[int]],
               ) -> tuple[Adjacency, list[set[int]]]:
    """networkx's ``_gen_graph``: one node per community, edges summed, added in the order
    networkx's ``G.edges`` lists the old graph's edges (so neighbour orders match)."""
    node2com = [0] * len(adj)
    grouped: list[set[int]] = []
    for i, part in enumerate(inner):
        nodes: set[int] = set()
        for node in part:
            node2com[node] = i
            nodes.update(members[node])
        grouped.append(nodes)
    new: Adjacency = [{} for _ in inner]
    seen: set[int] = set()
    for u, nbrs in enumerate(adj):
        cu = node2com[u]
        row = new[cu]
        for v, weight in nbrs.items():
            if v in seen:
                continue
            cv = node2com[v]
            total = row.get(cv, 0) + weight
            row[cv] = total
            new[cv][cu] = total
        seen.add(u)
    return new, grouped
