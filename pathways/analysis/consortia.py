"""Consortia: which organisations could respond together to a commissioning opportunity.

An *opportunity* is a set of needs × localities (optionally an age group, free only and
access needs).  An organisation *covers* a cell (need, locality) when it provides a service
offering an activity that addresses the need and is located in the locality (or serves the
whole area), and that passes the opportunity's filters.

Suggested consortia come from a greedy set cover (the classic ln(n)-approximation: at each
step take the organisation covering the most cells still uncovered), run several ways so a
commissioner sees alternatives, not one answer:

* **widest cover**: ties broken by existing ties to members already chosen, then name;
* **best connected**: an organisation's existing ties to the members already chosen count as
  half a cell each, so partners who already work together are preferred;
* **without one member**: the widest-cover greedy again with one of its members left out,
  so a commissioner sees who else could fill that place.

Members whose every cell the others already cover are dropped from a suggestion.

Suggestions are ranked by cells covered (more first), size (fewer first), existing ties
(more first), whether link workers can reach every member's activities, then names.
Computed on a whole-graph snapshot, so both stores give the same answer.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import combinations, pairwise
from typing import Any, NotRequired, TypedDict

import networkx as nx

from pathways.analysis.snapshot import (
    NetworkNode,
    cached_analysis,
    cached_snapshot,
    check_ids,
    link_workers,
    name_of,
    sources,
    targets,
)
from pathways.errors import PathwaysError
from pathways.graphs import Snapshot, reachable
from pathways.model import DEFAULT_MAX_HOPS, NodeKind, RelType, serves_whole_area
from pathways.store.base import GraphStore

Cell = tuple[str, str]  # (need id, locality id)
TieGraph = nx.Graph  # organisations joined by existing ties, edge attribute "weight": how many


# --------------------------------------------------------------------------- results
# Plain dicts at run time (so JSON, CSV and the pages read them as before), typed for mypy.


class Named(TypedDict):
    id: str
    name: str


class OpportunityFields(TypedDict):
    needs: list[str]
    localities: list[str]
    free_only: bool
    access: list[str]
    age_min: int | None
    age_max: int | None


class CellOrganisation(TypedDict):
    id: str
    name: str
    activities: list[str]  # the organisation's activities covering the cell


class OpportunityCell(TypedDict):
    need: str
    locality: str
    organisations: list[CellOrganisation]  # by name


class Suggestion(TypedDict):
    members: list[Named]
    covered: list[list[str]]  # [need id, locality id] cells the members cover
    uncovered: list[list[str]]
    existing_ties: int
    reachable_by_link_workers: bool
    reasons: list[str]  # plain-English reasons, in order


class Community(TypedDict):
    members: list[Named]
    needs: list[str]


class Suggestions(TypedDict):
    opportunity: OpportunityFields
    cells: list[OpportunityCell]
    uncoverable: list[list[str]]  # [need id, locality id] cells no organisation covers
    overlaps: list[list[str]]  # cells more than one organisation covers
    suggestions: list[Suggestion]  # ranked, best first
    names: dict[str, str]  # need and locality id -> name


class ChainStep(TypedDict):
    id: str
    name: str
    kind: str  # NodeKind value
    via: str | None  # relationship types leading here, "/"-joined; None for the first


class ConsortiumReport(Suggestions):
    landscape: list[Community]
    chain: NotRequired[list[ChainStep]]  # `pathways consortia --between A B` adds it


class ConsortiumNetwork(TypedDict):
    nodes: list[NetworkNode]
    edges: list[tuple[str, str, str]]  # (source id, relationship type, target id)
    members: list[str]
    uncovered: list[str]  # need and locality ids of the cells left uncovered


@dataclass(frozen=True)
class Opportunity:
    needs: tuple[str, ...]
    localities: tuple[str, ...]
    free_only: bool = False
    access: tuple[str, ...] = ()
    age_min: int | None = None
    age_max: int | None = None

    def __post_init__(self) -> None:
        # Naming a need or place twice asks for the same cell twice: keep the first.
        for name in ("needs", "localities", "access"):
            object.__setattr__(self, name, tuple(dict.fromkeys(getattr(self, name))))

    def as_dict(self) -> OpportunityFields:
        return {"needs": list(self.needs), "localities": list(self.localities),
                "free_only": self.free_only, "access": list(self.access),
                "age_min": self.age_min, "age_max": self.age_max}


def _fits(props: Mapping[str, Any], opp: Opportunity) -> bool:
    if opp.free_only and props.get("free") is not True:
        return False
    if not set(opp.access) <= set(props.get("accessibility", [])):
        return False
    low, high = props.get("age_min"), props.get("age_max")
    if opp.age_max is not None and low is not None and low > opp.age_max:
        return False
    if opp.age_min is not None and high is not None and high < opp.age_min:
        return False
    return True


def cell_providers(graph: Snapshot, opp: Opportunity) -> dict[Cell, dict[str, list[str]]]:
    """For each cell, the organisations covering it and the activities that do so."""
    cells: dict[Cell, dict[str, list[str]]] = {(n, loc): {} for n in opp.needs
                                               for loc in opp.localities}
    for need in opp.needs:
        for activity in sources(graph, need, RelType.ADDRESSES):
            props = graph.nodes[activity]["props"]
            if graph.nodes[activity]["kind"] != NodeKind.ACTIVITY or not _fits(props, opp):
                continue
            places = set(targets(graph, activity, RelType.LOCATED_IN))
            whole = serves_whole_area(props)
            orgs = {o for s in sources(graph, activity, RelType.OFFERS)
                    for o in sources(graph, s, RelType.PROVIDES)}
            for loc in opp.localities:
                if whole or loc in places:
                    for org in orgs:
                        cells[(need, loc)].setdefault(org, []).append(activity)
    for providers in cells.values():
        for acts in providers.values():
            acts.sort()
    return cells


def tie_graph(graph: Snapshot) -> TieGraph:
    """Organisations joined by their existing ties, weighted by how many: PARTNERS_WITH
    (either way), each shared network (MEMBER_OF), and each referral route between them or
    their services.  Built in one pass over the relationships."""
    owners: dict[str, set[str]] = {}  # organisation → itself; service → its providers
    ties: TieGraph = nx.Graph()
    for node, kind in graph.nodes(data="kind"):
        if kind == NodeKind.ORGANISATION:
            owners[node] = {node}
            ties.add_node(node)
    for u, v, k in graph.edges(keys=True):
        if k == RelType.PROVIDES:
            owners.setdefault(v, set()).add(u)

    def add(a: str, b: str) -> None:
        if a != b:
            weight = ties.get_edge_data(a, b, {"weight": 0})["weight"]
            ties.add_edge(a, b, weight=weight + 1)

    members: dict[str, list[str]] = {}
    for u, v, k in graph.edges(keys=True):
        if k == RelType.PARTNERS_WITH:
            add(u, v)
        elif k == RelType.REFERS_TO and u in owners and v in owners:
            for a in sorted(owners[u]):
                for b in sorted(owners[v]):
                    add(a, b)
        elif k == RelType.MEMBER_OF and graph.nodes[u]["kind"] == NodeKind.ORGANISATION:
            members.setdefault(v, []).append(u)
    for group in members.values():
        for a, b in combinations(sorted(set(group)), 2):
            add(a, b)
    return ties


def tie_count(ties: TieGraph, a: str, b: str) -> int:
    """Existing ties between two organisations (see :func:`tie_graph`)."""
    data = ties.get_edge_data(a, b)
    return int(data["weight"]) if data else 0


def _greedy(covers: dict[str, set[Cell]], graph: Snapshot, ties_of: TieGraph, max_size: int,
            connected: bool, excluded: frozenset[str] = frozenset()) -> list[str]:
    chosen: list[str] = []
    covered: set[Cell] = set()
    while len(chosen) < max_size:
        best: str | None = None
        best_key: tuple[float, int, int, str, str] | None = None
        for org, cells in covers.items():
            if org in chosen or org in excluded:
                continue
            gain = len(cells - covered)
            if gain == 0:
                continue
            ties = sum(tie_count(ties_of, org, m) for m in chosen)
            score = gain + (0.5 * ties if connected else 0)
            key = (-score, -gain, -ties, name_of(graph, org), org)
            if best_key is None or key < best_key:
                best, best_key = org, key
        if best is None:
            break
        chosen.append(best)
        covered |= covers[best]
    return _prune(chosen, covers)


def _prune(members: list[str], covers: dict[str, set[Cell]]) -> list[str]:
    """Drop members whose every cell the others already cover (latest additions first)."""
    kept = list(members)
    for org in reversed(members):
        others = set[Cell]().union(*(covers[m] for m in kept if m != org))
        if covers[org] <= others:
            kept.remove(org)
    return kept


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _cells(cells: Iterable[Cell]) -> list[list[str]]:
    """Cells as sorted [need, locality] lists (as JSON has them)."""
    return sorted([list(c) for c in cells])


def _describe(graph: Snapshot, ties_of: TieGraph, members: list[str],
              covers: dict[str, set[Cell]], coverable: set[Cell], all_cells: list[Cell],
              reached: set[str], opp_cells: dict[Cell, dict[str, list[str]]]) -> Suggestion:
    covered = set[Cell]().union(*(covers[m] for m in members))
    ties = sum(tie_count(ties_of, a, b) for a, b in combinations(members, 2))
    reachable_members = [m for m in members if any(
        a in reached for cell in covers[m] for a in opp_cells[cell][m])]
    all_reachable = len(reachable_members) == len(members) and bool(members)
    nobody = len(all_cells) - len(coverable)
    reasons = [f"covers {len(covered)} of {_count(len(coverable), 'coverable cell')}"
               + (f" ({_count(nobody, 'cell')} no organisation covers)" if nobody else "")]
    for m in members:
        only = [c for c in covers[m] if all(c not in covers[o] for o in members if o != m)]
        reasons.append(f"{name_of(graph, m)} brings {_count(len(covers[m]), 'cell')}"
                       + (f", {len(only)} that no other member covers" if only else ""))
    if len(members) == 1:
        reasons.append("one organisation alone: no partnership to build")
    else:
        reasons.append(f"{_count(ties, 'existing tie')} between members" if ties
                       else "members have no existing ties yet")
    if all_reachable:
        reasons.append("link workers can already reach activities of every member")
    else:
        missing = [name_of(graph, m) for m in members if m not in reachable_members]
        reasons.append("no link worker reaches the activities of: " + ", ".join(missing))
    return {
        "members": [{"id": m, "name": name_of(graph, m)} for m in members],
        "covered": _cells(covered),
        "uncovered": _cells(set(all_cells) - covered),
        "existing_ties": ties,
        "reachable_by_link_workers": all_reachable,
        "reasons": reasons,
    }


def suggest(graph: Snapshot, opp: Opportunity, max_size: int = 4, alternatives: int = 3,
            max_hops: int = DEFAULT_MAX_HOPS) -> Suggestions:
    """Cells, uncoverable cells, overlaps and ranked consortium suggestions (see module doc)."""
    if not opp.needs or not opp.localities:
        raise PathwaysError("an opportunity needs at least one need and one locality")
    if max_size < 1:
        raise PathwaysError("a consortium has at least one member")
    check_ids(graph, opp.needs, NodeKind.NEED, "need")
    check_ids(graph, opp.localities, NodeKind.LOCALITY, "locality")
    opp_cells = cell_providers(graph, opp)
    all_cells = list(opp_cells)
    covers: dict[str, set[Cell]] = {}
    for cell, providers in opp_cells.items():
        for org in providers:
            covers.setdefault(org, set()).add(cell)
    coverable = {c for c, p in opp_cells.items() if p}
    reached: set[str] = set()
    for worker in link_workers(graph):
        reached.update(reachable(graph, worker, max_hops))

    ties_of = tie_graph(graph)
    widest = _greedy(covers, graph, ties_of, max_size, connected=False)
    candidates = [widest, _greedy(covers, graph, ties_of, max_size, connected=True)]
    # Alternatives: the same greedy without one of the widest suggestion's members.
    for member in widest:
        candidates.append(_greedy(covers, graph, ties_of, max_size, False, frozenset({member})))
    seen: set[frozenset[str]] = set()
    suggestions: list[Suggestion] = []
    for members in candidates:
        key = frozenset(members)
        if members and key not in seen:
            seen.add(key)
            suggestions.append(_describe(graph, ties_of, members, covers, coverable, all_cells,
                                         reached, opp_cells))
    suggestions.sort(key=lambda s: (-len(s["covered"]), len(s["members"]), -s["existing_ties"],
                                    not s["reachable_by_link_workers"],
                                    [m["name"] for m in s["members"]]))
    return {
        "opportunity": opp.as_dict(),
        "cells": [
            {"need": n, "locality": loc,
             "organisations": [{"id": o, "name": name_of(graph, o), "activities": acts}
                               for o, acts in sorted(opp_cells[(n, loc)].items(),
                                                     key=lambda kv: (name_of(graph, kv[0]), kv[0]))]}
            for n, loc in all_cells
        ],
        "uncoverable": [[n, loc] for n, loc in all_cells if not opp_cells[(n, loc)]],
        "overlaps": [[n, loc] for n, loc in all_cells if len(opp_cells[(n, loc)]) > 1],
        "suggestions": suggestions[: max(1, alternatives)],
        "names": {i: name_of(graph, i) for i in (*opp.needs, *opp.localities)},
    }


def communities(graph: Snapshot) -> list[set[str]]:
    """Natural groupings of organisations over their existing ties: networkx Louvain with a
    fixed seed on a tie graph built in sorted order, so every store gets the same groups."""
    ties = tie_graph(graph)
    ordered: TieGraph = nx.Graph()
    ordered.add_nodes_from(sorted(ties.nodes))
    ordered.add_edges_from(sorted((min(a, b), max(a, b), d) for a, b, d in ties.edges(data=True)))
    if ordered.number_of_edges() == 0:
        return [{o} for o in ordered.nodes]
    return nx.community.louvain_communities(ordered, weight="weight", seed=0)


def landscape(graph: Snapshot, opp: Opportunity | None = None,
              groups: list[set[str]] | None = None) -> list[Community]:
    """Communities of organisations (see :func:`communities`), each with the needs its
    members' activities address (only the opportunity's, when one is given)."""
    if groups is None:
        groups = communities(graph)
    rows: list[Community] = []
    for group in groups:
        needs = sorted({n for o in group for s in targets(graph, o, RelType.PROVIDES)
                        for a in targets(graph, s, RelType.OFFERS)
                        for n in targets(graph, a, RelType.ADDRESSES)})
        if opp is not None:
            needs = [n for n in needs if n in opp.needs]
        members = sorted(group, key=lambda o: (name_of(graph, o), o))
        rows.append({"members": [{"id": o, "name": name_of(graph, o)} for o in members],
                     "needs": needs})
    return sorted(rows, key=lambda r: (-len(r["members"]),
                                       r["members"][0]["name"] if r["members"] else ""))


def chain_between(graph: Snapshot, a: str, b: str) -> list[ChainStep]:
    """The shortest chain of existing relationships (any type, either direction) from one
    organisation to another, as nodes with the relationship that leads to each."""
    check_ids(graph, (a, b), NodeKind.ORGANISATION, "organisation")
    undirected: nx.Graph[str] = nx.Graph()
    for u, v, k in graph.edges(keys=True):
        labels = undirected.get_edge_data(u, v, {"labels": set()})["labels"] | {k.value}
        undirected.add_edge(u, v, labels=labels)
    try:
        # Every shortest chain, then the one whose names (then ids) sort first: the same
        # answer whatever order a store returns relationships in.
        path = min(nx.all_shortest_paths(undirected, a, b),
                   key=lambda p: ([name_of(graph, n) for n in p], p))
    except (nx.NetworkXNoPath, nx.NodeNotFound):
        return []
    steps: list[ChainStep] = [{"id": a, "name": name_of(graph, a),
                               "kind": graph.nodes[a]["kind"].value, "via": None}]
    for u, v in pairwise(path):
        steps.append({"id": v, "name": name_of(graph, v), "kind": graph.nodes[v]["kind"].value,
                      "via": "/".join(sorted(undirected.edges[u, v]["labels"]))})
    return steps


def consortia(store: GraphStore, opp: Opportunity, max_size: int = 4,
              alternatives: int = 3) -> ConsortiumReport:
    """The consortium report for a store (the snapshot is cached per store version)."""
    def read() -> ConsortiumReport:  # the snapshot and its communities from one version
        graph = cached_snapshot(store)
        report = suggest(graph, opp, max_size, alternatives)
        groups = cached_analysis(store, "communities", communities)  # the slow part at scale
        return {**report, "landscape": landscape(graph, opp, groups)}

    return store.consistent(read)


def consortium_network(store: GraphStore, report: ConsortiumReport | Suggestions,
                       index: int) -> ConsortiumNetwork:
    """Nodes and edges to draw one suggestion: its members, their services and the
    activities that cover the opportunity's cells, and the opportunity's needs and
    localities; ``uncovered`` lists the need and locality ids of cells left uncovered."""
    graph = cached_snapshot(store)
    suggestion = report["suggestions"][index]
    members = {m["id"] for m in suggestion["members"]}
    activities = {a for c in report["cells"] for o in c["organisations"] if o["id"] in members
                  for a in o["activities"]}
    opp = report["opportunity"]
    wanted = members | activities | set(opp["needs"]) | set(opp["localities"])
    for activity in activities:
        wanted.update(s for s in sources(graph, activity, RelType.OFFERS)
                      if set(sources(graph, s, RelType.PROVIDES)) & members)
    keep = (RelType.PROVIDES, RelType.OFFERS, RelType.ADDRESSES, RelType.LOCATED_IN,
            RelType.PARTNERS_WITH, RelType.REFERS_TO)
    edges = sorted((u, k.value, v) for u, v, k in graph.subgraph(wanted).edges(keys=True)
                   if k in keep)
    nodes: list[NetworkNode] = sorted(
        ({"id": n, "name": name_of(graph, n), "kind": graph.nodes[n]["kind"].value} for n in wanted),
        key=lambda n: n["id"])
    uncovered = sorted({i for cell in suggestion["uncovered"] for i in cell})
    return {"nodes": nodes, "edges": edges, "members": sorted(members), "uncovered": uncovered}
