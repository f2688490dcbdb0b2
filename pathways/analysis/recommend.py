"""From a gap to an action: new referral agreements that would close gaps, and what-if.

Three questions a partnership lead asks once the Gaps report has shown them the amber cells
("provision exists, but no link worker covering the place can refer to it within the hop
limit") and the single points of failure:

recommend
    The fewest new referral agreements (a ``REFERS_TO`` from a link worker, an organisation or
    a service to an organisation or a service that already exists) that make the most amber
    cells reachable, ranked, each with what it adds: the cells it closes and the new
    (link worker, activity) options it opens.
protect
    For each of the top single points of failure, the one new agreement that keeps the most
    of the (link worker, activity) options it carries if it were gone.
simulate
    The whole gap report (heatmap, single points of failure...) for the graph with some new
    agreements added, in memory: nothing is written.

Method (stated in every answer).  Greedy: each step adds the agreement that closes the most
still-open cells on the graph with the earlier steps' agreements, ties broken by the most new
options, then by names.  Each step is the best single agreement there is (every allowed pair
is a candidate in principle; tests check this against trying every pair on random graphs).
When each closed cell needs one new agreement of its own (no route uses two new ones), this
is greedy maximum coverage: at least 1 - 1/e (63%) of the cells the best set of as many
agreements could close.

Candidate generation scales with the gaps, not with the square of the graph: a new edge
``u → v`` closes a cell exactly when some link worker covering the locality reaches ``u`` in
``d1`` hops and ``v`` reaches one of the cell's activities in ``d2`` hops with
``d1 + 1 + d2 <= max_hops`` (a shortest route uses a new edge at most once).  So per open
cell: one breadth-first search forwards from its local link workers, one backwards from its
activities, and only the pairs whose hops add up.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TypedDict

from pathways.analysis.gaps import (
    CellRoute,
    CoverageCell,
    GapQuery,
    GapReport,
    cell_route_rows,
    coverage,
    gap_report,
    single_points_of_failure,
)
from pathways.analysis.snapshot import (
    cached_analysis,
    cached_per_version,
    cached_snapshot,
    check_ids,
    link_workers,
    name_of,
    of_kind,
)
from pathways.analysis.whatif import simulated_report
from pathways.errors import PathwaysError, UnknownIdError
from pathways.graphs import (
    Snapshot,
    activities_in,
    pathway_adjacency,
    per_snapshot,
)
from pathways.model import DEFAULT_MAX_HOPS, MAX_MAX_HOPS, NodeKind, PersonRole, RelType
from pathways.store.base import GraphStore

MAX_NEW = 20  # most agreements one recommendation lists
MAX_SIMULATED = 50  # most new agreements one simulation adds
TIE_OPTIONS = 200  # candidates closing equally many cells whose new options are counted
PROTECT_TOP = 5  # single points of failure given a remedy by default

METHOD = ("Greedy: each step adds the referral agreement that makes the most still-unreachable "
          "cells reachable, given the agreements before it (ties: most new worker–activity "
          "options, then names).")
GUARANTEE = ("Each step is the best single new agreement there is. When no route needs two "
             "new agreements, the list reaches at least 63% (1 - 1/e) of the cells the best "
             "possible set of as many agreements would.")
PROTECT_METHOD = ("For each single point of failure: every new agreement that avoids it is "
                  "scored by how many of the options it carries would still be reachable "
                  "without it; the best one is shown (ties: names).")

Edge = tuple[str, str]  # (from id, to id) of a new REFERS_TO


@dataclass(frozen=True)
class RecommendQuery:
    localities: tuple[str, ...] = ()
    needs: tuple[str, ...] = ()
    max_hops: int = DEFAULT_MAX_HOPS
    max_new: int = 5


class Endpoint(TypedDict):
    id: str
    name: str
    kind: str  # NodeKind value


class Recommendation(TypedDict):
    rank: int
    source: Endpoint
    target: Endpoint
    cells: list[list[str]]  # [need id, locality id] of each cell this step makes reachable
    cell_names: list[str]  # "Todmorden × carers"
    options: int  # (link worker, activity) pairs reachable with it and not before
    cells_so_far: int


class Recommendations(TypedDict):
    max_hops: int
    method: str
    guarantee: str
    names: dict[str, str]
    amber: list[list[str]]  # [need, locality]: provision exists, no local worker reaches it
    closed: int  # of them, reachable with all the recommendations
    recommendations: list[Recommendation]


class Remedy(TypedDict):
    id: str
    name: str
    kind: str
    pairs_lost: int
    source: Endpoint | None  # the new agreement (None: no single agreement keeps any)
    target: Endpoint | None
    kept: int  # of pairs_lost, still reachable with the new agreement and without the node


class Protection(TypedDict):
    max_hops: int
    method: str
    remedies: list[Remedy]


# --------------------------------------------------------------------------- the overlay


class Overlay:
    """The snapshot's pathway relationships plus new ``REFERS_TO`` edges, minus one node:
    breadth-first searches on "the graph as it would be", without copying it."""

    def __init__(self, graph: Snapshot, extra: Iterable[Edge] = (), without: str | None = None):
        out, into = pathway_adjacency(graph)
        self._out, self._into, self.without = out, into, without
        self._extra_out: dict[str, list[str]] = defaultdict(list)
        self._extra_in: dict[str, list[str]] = defaultdict(list)
        for u, v in extra:
            self._extra_out[u].append(v)
            self._extra_in[v].append(u)

    def bfs(self, starts: Iterable[str], depth: int, backwards: bool = False) -> dict[str, int]:
        """Hops from the nearest of ``starts`` (to it, ``backwards``), within ``depth``."""
        base, extra = (self._into, self._extra_in) if backwards else (self._out, self._extra_out)
        hops = {s: 0 for s in starts if s != self.without}
        frontier = list(hops)
        for level in range(1, depth + 1):
            layer: list[str] = []
            for node in frontier:
                for target, _key in base.get(node, ()):
                    if target not in hops and target != self.without:
                        hops[target] = level
                        layer.append(target)
                for target in extra.get(node, ()):
                    if target not in hops and target != self.without:
                        hops[target] = level
                        layer.append(target)
            if not layer:
                break
            frontier = layer
        return hops

    def has_edge(self, u: str, v: str) -> bool:
        return any(t == v for t, _k in self._out.get(u, ())) or v in self._extra_out.get(u, ())


@per_snapshot
def _ends(graph: Snapshot) -> tuple[frozenset[str], frozenset[str]]:
    """(nodes a new agreement may start at, nodes it may end at), once per snapshot."""
    receivers = frozenset(n for n, k in graph.nodes(data="kind")
                          if k in (NodeKind.ORGANISATION, NodeKind.SERVICE))
    workers = frozenset(
        n for n, k in graph.nodes(data="kind") if k == NodeKind.PERSON
        and graph.nodes[n]["props"].get("role") == PersonRole.LINK_WORKER.value)
    return receivers | workers, receivers


def can_refer(graph: Snapshot, node: str) -> bool:
    """May a new referral agreement start here: a link worker, an organisation, a service."""
    return node in _ends(graph)[0]


def can_receive(graph: Snapshot, node: str) -> bool:
    """May a new referral agreement end here: an organisation or a service."""
    return node in _ends(graph)[1]


def endpoint(graph: Snapshot, node: str) -> Endpoint:
    return {"id": node, "name": name_of(graph, node), "kind": graph.nodes[node]["kind"].value}


def check_edges(graph: Snapshot, edges: Iterable[Sequence[str]]) -> list[Edge]:
    """New agreements as given (ids), checked: both ends real nodes of the kinds allowed
    (from a link worker, organisation or service; to an organisation or service), not the
    same node.  Duplicates once, in the order given."""
    checked: list[Edge] = []
    for pair in edges:
        if len(pair) != 2 or not all(isinstance(p, str) for p in pair):
            raise PathwaysError("a new referral agreement needs a from id and a to id")
        u, v = pair
        for node in (u, v):
            if node not in graph:
                raise UnknownIdError(node)
        if not can_refer(graph, u):
            raise PathwaysError(f"{name_of(graph, u)} ({u}) cannot make referrals: only a link "
                                "worker, an organisation or a service can")
        if not can_receive(graph, v):
            raise PathwaysError(f"{name_of(graph, v)} ({v}) cannot receive referrals: only an "
                                "organisation or a service can")
        if u == v:
            raise PathwaysError(f"{name_of(graph, u)} cannot refer to itself")
        if (u, v) not in checked:
            checked.append((u, v))
    if len(checked) > MAX_SIMULATED:
        raise PathwaysError(f"at most {MAX_SIMULATED} new referral agreements at once, "
                            f"not {len(checked)}")
    return checked


def _check_hops(max_hops: int) -> None:
    if not 1 <= max_hops <= MAX_MAX_HOPS:
        raise PathwaysError(f"max hops must be between 1 and {MAX_MAX_HOPS}, not {max_hops}")


def _cell_label(graph: Snapshot, need: str, locality: str) -> str:
    return f"{name_of(graph, locality)} × {name_of(graph, need)}"


# --------------------------------------------------------------------------- recommend


def _best_candidates(graph: Snapshot, overlay: Overlay, cells: list[CoverageCell],
                     max_hops: int) -> dict[Edge, list[tuple[str, str]]]:
    """The new agreements that alone would make the most of ``cells`` reachable, each with
    the cells it would (exact, see the module docstring); empty when none would make any.

    Each ``u`` that a local link worker reaches in ``d1 < max_hops`` hops can close at most
    the cells it is that close to; ``u``s are tried in decreasing order of that bound, and
    the search stops once the bound is below the best found, so the pairs of hubs are
    counted and the long tail of small nodes is not."""
    referrers, receivers = _ends(graph)
    forward: dict[str, list[tuple[str, int]]] = {}  # locality -> (u, hops from a local worker)
    near: dict[str, list[tuple[int, int]]] = defaultdict(list)  # u -> (cell index, d1)
    within: list[list[list[str]]] = []  # per cell: within[k], the vs at most k hops away
    keys: list[tuple[str, str]] = []
    for index, cell in enumerate(cells):
        place = cell["locality"]
        if place not in forward:
            hops = overlay.bfs(cell["link_workers"], max_hops - 1)
            forward[place] = [(u, d) for u, d in hops.items() if u in referrers]
        back = overlay.bfs(cell["activities"], max_hops - 1, backwards=True)
        by_depth: list[list[str]] = [[] for _ in range(max_hops)]
        for v, d in back.items():
            if v in receivers:
                by_depth[d].append(v)
        levels: list[list[str]] = []
        for k in range(max_hops):
            levels.append((levels[k - 1] if k else []) + by_depth[k])
        within.append(levels)
        keys.append((cell["need"], place))
        for u, d1 in forward[place]:
            near[u].append((index, d1))
    best = 0
    found: dict[Edge, list[tuple[str, str]]] = {}
    for u in sorted(near, key=lambda n: (-len(near[n]), n)):
        if len(near[u]) < best:
            break
        gains: dict[str, list[int]] = defaultdict(list)
        for index, d1 in near[u]:  # u appears once per cell: each (u, v) counts a cell once
            for v in within[index][max_hops - 1 - d1]:
                if v != u:
                    gains[v].append(index)
        for v, closes in gains.items():
            if len(closes) > best:
                best, found = len(closes), {}
            if len(closes) == best:
                found[(u, v)] = [keys[i] for i in closes]
    return found


def new_options(graph: Snapshot, overlay: Overlay, edge: Edge, max_hops: int,
                reach: dict[str, set[str]]) -> int:
    """(link worker, activity) pairs reachable within ``max_hops`` with ``edge`` added to
    ``overlay`` and not without it.  ``reach`` caches each worker's activities on the overlay."""
    u, v = edge
    workers = _ends(graph)[0]
    count = 0
    from_v: dict[int, set[str]] = {}
    for w, d in overlay.bfs([u], max_hops - 1, backwards=True).items():
        if w not in workers or graph.nodes[w]["kind"] != NodeKind.PERSON:
            continue
        if w not in reach:
            reach[w] = activities_in(graph, overlay.bfs([w], max_hops))
        if d not in from_v:
            from_v[d] = activities_in(graph, overlay.bfs([v], max_hops - 1 - d))
        count += len(from_v[d] - reach[w])
    return count


@per_snapshot
def link_workers_of(graph: Snapshot) -> tuple[str, ...]:
    """The link workers (ids, by name), once per snapshot."""
    return tuple(link_workers(graph))


def _order(graph: Snapshot, edge: Edge) -> tuple[str, str, str, str]:
    return name_of(graph, edge[0]), name_of(graph, edge[1]), edge[0], edge[1]


def compute_recommendations(graph: Snapshot, query: RecommendQuery) -> Recommendations:
    """The ranked agreements for a snapshot (see the module docstring for the method)."""
    _check_hops(query.max_hops)
    if not 1 <= query.max_new <= MAX_NEW:
        raise PathwaysError(f"the number of new agreements must be between 1 and {MAX_NEW}, "
                            f"not {query.max_new}")
    check_ids(graph, query.localities, NodeKind.LOCALITY, "locality")
    check_ids(graph, query.needs, NodeKind.NEED, "need")
    localities = list(query.localities) or of_kind(graph, NodeKind.LOCALITY)
    needs = list(query.needs) or of_kind(graph, NodeKind.NEED)
    overlay = Overlay(graph)
    reach = {w: overlay.bfs([w], query.max_hops) for w in link_workers_of(graph)}
    cells = coverage(graph, reach, needs, localities)
    amber = [c for c in cells if c["existing"] > 0 and c["reachable"] == 0]
    open_cells = {(c["need"], c["locality"]): c for c in amber}
    picks: list[Edge] = []
    steps: list[Recommendation] = []
    while open_cells and len(picks) < query.max_new:
        overlay = Overlay(graph, picks)
        found = _best_candidates(graph, overlay, list(open_cells.values()), query.max_hops)
        if not found:
            break
        tied = sorted(found, key=lambda e: _order(graph, e))[:TIE_OPTIONS]
        worker_reach: dict[str, set[str]] = {}
        scored = [(new_options(graph, overlay, e, query.max_hops, worker_reach), e) for e in tied]
        best_options = max(s for s, _ in scored)
        options, edge = next((s, e) for s, e in scored if s == best_options)
        closed = sorted(found[edge], key=lambda k: (name_of(graph, k[1]), name_of(graph, k[0]), k))
        for key in closed:
            del open_cells[key]
        picks.append(edge)
        steps.append({
            "rank": len(picks), "source": endpoint(graph, edge[0]),
            "target": endpoint(graph, edge[1]),
            "cells": [list(k) for k in closed],
            "cell_names": [_cell_label(graph, *k) for k in closed],
            "options": options, "cells_so_far": len(amber) - len(open_cells),
        })
    return {
        "max_hops": query.max_hops, "method": METHOD, "guarantee": GUARANTEE,
        "names": {n: name_of(graph, n) for n in localities + needs},
        "amber": [[c["need"], c["locality"]] for c in amber],
        "closed": len(amber) - len(open_cells),
        "recommendations": steps,
    }


def recommend(store: GraphStore, query: RecommendQuery | None = None) -> Recommendations:
    """:func:`compute_recommendations` for a store, cached per data version."""
    query = RecommendQuery() if query is None else query
    return cached_analysis(store, ("recommend", query),
                           functools.partial(compute_recommendations, query=query))


# --------------------------------------------------------------------------- protect


def best_remedy(graph: Snapshot, node: str, max_hops: int,
                reach: dict[str, dict[str, int]] | None = None) -> tuple[Edge | None, int, int]:
    """``(edge, kept, lost)``: the new agreement (avoiding ``node``) that keeps the most of
    the (link worker, activity) pairs ``node``'s removal would cut, how many it keeps, and
    how many are cut.  ``edge`` is None when no single agreement keeps any."""
    if reach is None:
        whole = Overlay(graph)
        reach = {w: whole.bfs([w], max_hops) for w in link_workers_of(graph)}
    without = Overlay(graph, without=node)
    gain: dict[Edge, int] = defaultdict(int)
    back_of: dict[str, list[list[str]]] = {}
    lost_total = 0
    for w in link_workers_of(graph):
        now = reach[w]
        if node not in now:
            continue
        after = without.bfs([w], max_hops)
        lost = activities_in(graph, now) - activities_in(graph, after)
        if not lost:
            continue
        lost_total += len(lost)
        froms = [(u, d) for u, d in after.items() if d < max_hops and can_refer(graph, u)]
        for activity in lost:
            if activity not in back_of:
                by_depth: list[list[str]] = [[] for _ in range(max_hops)]
                for v, d in without.bfs([activity], max_hops - 1, backwards=True).items():
                    if can_receive(graph, v):
                        by_depth[d].append(v)
                back_of[activity] = by_depth
            by_depth = back_of[activity]
            seen: set[Edge] = set()  # one pair counts once per agreement
            for u, d1 in froms:
                for d2 in range(max_hops - d1):
                    for v in by_depth[d2]:
                        if v != u and (u, v) not in seen:
                            seen.add((u, v))
                            gain[(u, v)] += 1
    if not gain:
        return None, 0, lost_total
    kept = max(gain.values())
    edge = min((e for e, g in gain.items() if g == kept), key=lambda e: _order(graph, e))
    return edge, kept, lost_total


def compute_protection(graph: Snapshot, max_hops: int = DEFAULT_MAX_HOPS,
                       top: int = PROTECT_TOP) -> Protection:
    """A remedy for each of the ``top`` single points of failure (the gap report's order)."""
    _check_hops(max_hops)
    reach = {w: Overlay(graph).bfs([w], max_hops) for w in link_workers_of(graph)}
    rows: list[Remedy] = []
    for spof in single_points_of_failure(graph, reach, max_hops)[:top]:
        edge, kept, _lost = best_remedy(graph, spof["id"], max_hops, reach)
        rows.append({
            "id": spof["id"], "name": spof["name"], "kind": spof["kind"],
            "pairs_lost": spof["pairs_lost"],
            "source": endpoint(graph, edge[0]) if edge else None,
            "target": endpoint(graph, edge[1]) if edge else None,
            "kept": kept,
        })
    return {"max_hops": max_hops, "method": PROTECT_METHOD, "remedies": rows}


def protection(store: GraphStore, max_hops: int = DEFAULT_MAX_HOPS,
               top: int = PROTECT_TOP) -> Protection:
    """:func:`compute_protection` for a store, cached per data version."""
    return cached_analysis(store, ("protect", max_hops, top),
                           functools.partial(compute_protection, max_hops=max_hops, top=top))


# --------------------------------------------------------------------------- simulate


def with_agreements(graph: Snapshot, edges: Iterable[Edge]) -> Snapshot:
    """A copy of the snapshot with new ``REFERS_TO`` edges (the snapshot is shared: never
    changed in place)."""
    copy = graph.__class__()
    copy.graph.update(graph.graph)
    # Shared with the snapshot: every node's attributes, and the neighbour dicts of nodes no new
    # edge touches; copied: the top-level dicts, and the few neighbour dicts that change.  So a
    # simulation at 100k nodes costs a dict copy, not a deep copy of the graph (networkx's own
    # dicts, as pathway_adjacency reads them).
    succ = dict(graph._succ)  # type: ignore[attr-defined]
    pred = dict(graph._pred)  # type: ignore[attr-defined]
    copied_succ: set[str] = set()
    copied_pred: set[str] = set()
    for u, v in edges:
        if u not in copied_succ:
            succ[u] = dict(succ[u])
            copied_succ.add(u)
        if v not in copied_pred:
            pred[v] = dict(pred[v])
            copied_pred.add(v)
        keys = dict(succ[u].get(v, {}))  # u -> v's key dict, shared by succ[u] and pred[v]
        keys[RelType.REFERS_TO] = {"props": {"source": "simulation"}}
        succ[u][v] = pred[v][u] = keys
    copy._node = graph._node  # type: ignore[attr-defined]
    copy._adj = copy._succ = succ  # type: ignore[attr-defined]
    copy._pred = pred  # type: ignore[attr-defined]
    return copy


def simulate(store: GraphStore, edges: Iterable[Sequence[str]],
             query: GapQuery | None = None) -> GapReport:
    """The gap report for the store's graph with new agreements ``edges`` (id pairs, checked
    against the store: see :func:`check_edges`), computed in memory: nothing is written.

    Worked out from the real network's (cached) report, recomputing only what the new
    agreements can change (:mod:`pathways.analysis.whatif`): the same answer as
    ``compute_gaps(with_agreements(graph, edges), query)``, in a fraction of the time."""
    query = GapQuery() if query is None else query
    graph = cached_snapshot(store)
    checked = tuple(check_edges(graph, edges))
    return cached_per_version(
        store, ("simulate", checked, query),
        lambda: simulated_report(cached_snapshot(store), gap_report(store, query), checked))


def find_node(graph: Snapshot, text: str, *, receiving: bool) -> str:
    """The id an own agreement's end names (an id, or a unique name, any case), of a kind
    allowed at that end."""
    allowed = can_receive if receiving else can_refer
    if text in graph and allowed(graph, text):
        return text
    wanted = text.strip().casefold()
    matches = sorted(n for n in graph if allowed(graph, n) and name_of(graph, n).casefold() == wanted)
    end = "to" if receiving else "from"
    if not matches:
        raise PathwaysError(f"no {'organisation or service' if receiving else 'link worker, organisation or service'} "
                            f"called {text!r} (the {end} end of a new agreement)")
    if len(matches) > 1:
        raise PathwaysError(f"{text!r} names {len(matches)} nodes: use an id ({', '.join(matches)})")
    return matches[0]


def simulated_graph(store: GraphStore, edges: tuple[Edge, ...]) -> Snapshot:
    """The snapshot with the (checked) new agreements, once per data version and set of
    agreements (its indexes are built on first use, then shared by every click)."""
    return cached_per_version(store, ("simulated graph", edges),
                              lambda: with_agreements(cached_snapshot(store), edges))


def simulated_cell_routes(store: GraphStore, edges: Iterable[Sequence[str]], need: str,
                          locality: str, max_hops: int = DEFAULT_MAX_HOPS) -> list[CellRoute]:
    """:func:`pathways.analysis.gaps.cell_routes` for the graph with new agreements ``edges``
    (checked as for :func:`simulate`): the cell's activities, each with the shortest route
    from a local link worker on the simulated graph.  Nothing is written."""
    graph = cached_snapshot(store)
    checked = tuple(check_edges(graph, edges))
    check_ids(graph, (locality,), NodeKind.LOCALITY, "locality")
    check_ids(graph, (need,), NodeKind.NEED, "need")

    def build() -> list[CellRoute]:
        report = simulate(store, checked, GapQuery(max_hops=max_hops))
        cell = next(c for c in report["coverage"]
                    if c["need"] == need and c["locality"] == locality)
        return cell_route_rows(graph, cell, max_hops, routes_on=simulated_graph(store, checked))

    return cached_per_version(store, ("simulated cell", checked, need, locality, max_hops), build)
