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
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from itertools import combinations, pairwise
from typing import Any, NotRequired, TypedDict

import networkx as nx

from pathways.analysis.louvain import louvain_communities
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
from pathways.gcpause import gc_paused
from pathways.graphs import Snapshot, nearest_sources, per_snapshot
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


class Strategy(TypedDict):
    kind: str  # one of STRATEGIES: widest_cover, best_connected, without_member
    without: Named | None  # the member left out (without_member only)
    text: str  # plain English


class Evidence(TypedDict):
    """One reason a member covers a cell: its service offering an activity there."""

    need: str
    locality: str
    member: str
    member_name: str
    service: str
    service_name: str
    activity: str
    activity_name: str


class Tie(TypedDict):
    """One existing tie between two members (one unit of ``existing_ties``)."""

    members: list[Named]  # the two members it joins
    kind: str  # RelType value: PARTNERS_WITH, MEMBER_OF (a shared network) or REFERS_TO
    via: list[NetworkNode]  # the shared network, or the services on a referral route
    edges: list[tuple[str, str, str]]  # the relationships that make it (to draw it)
    text: str  # plain English


class Suggestion(TypedDict):
    members: list[Named]
    covered: list[list[str]]  # [need id, locality id] cells the members cover
    uncovered: list[list[str]]
    existing_ties: int
    reachable_by_link_workers: bool
    reasons: list[str]  # plain-English reasons, in order
    strategy: str  # plain English: which method(s) produced it
    strategies: list[Strategy]  # every method that produced this group, first first
    evidence: list[Evidence]  # every covered cell's activities and services, by member
    ties: list[Tie]  # the members' existing ties, each one


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


CoverEntry = tuple[str, Mapping[str, Any], tuple[str, ...]]  # activity, its props, its organisations


@per_snapshot
def covers_index(graph: Snapshot) -> dict[str, tuple[dict[str, list[CoverEntry]],
                                                       list[CoverEntry]]]:
    """For each need, the activities addressing it with their props and organisations: by
    locality, and those serving the whole area.  Built once per snapshot (do not modify it):
    a consortium report then reads only its cells' activities, not every activity of its
    needs (55,000 a need at 100k nodes)."""
    index: dict[str, tuple[dict[str, list[CoverEntry]], list[CoverEntry]]] = {}
    for activity, kind in graph.nodes(data="kind"):
        if kind != NodeKind.ACTIVITY:
            continue
        needs = targets(graph, activity, RelType.ADDRESSES)
        if not needs:
            continue
        props = graph.nodes[activity]["props"]
        orgs = tuple(sorted({o for s in sources(graph, activity, RelType.OFFERS)
                             for o in sources(graph, s, RelType.PROVIDES)}))
        entry = (activity, props, orgs)
        whole = serves_whole_area(props)
        places = set(targets(graph, activity, RelType.LOCATED_IN))
        for need in set(needs):
            by_place, everywhere = index.setdefault(need, ({}, []))
            if whole:
                everywhere.append(entry)
            else:
                for place in places:
                    by_place.setdefault(place, []).append(entry)
    return index


def cell_providers(graph: Snapshot, opp: Opportunity) -> dict[Cell, dict[str, list[str]]]:
    """For each cell, the organisations covering it and the activities that do so."""
    cells: dict[Cell, dict[str, list[str]]] = {(n, loc): {} for n in opp.needs
                                               for loc in opp.localities}
    index = covers_index(graph)
    for need in opp.needs:
        by_place, everywhere = index.get(need, ({}, []))
        for loc in opp.localities:
            providers = cells[(need, loc)]
            for entries in (by_place.get(loc, ()), everywhere):
                for activity, props, orgs in entries:
                    if _fits(props, opp):
                        for org in orgs:
                            providers.setdefault(org, []).append(activity)
    for providers in cells.values():
        for acts in providers.values():
            acts.sort()
    return cells


@per_snapshot
def _reached(graph: Snapshot) -> dict[int | None, frozenset[str]]:
    """What any link worker reaches, per hop limit (filled in by :func:`suggest`)."""
    return {}


@per_snapshot
def tie_graph(graph: Snapshot) -> TieGraph:
    """Organisations joined by their existing ties, weighted by how many: PARTNERS_WITH
    (either way), each shared network (MEMBER_OF), and each referral route between them or
    their services.

    Built once per snapshot (the suggestions and the communities both use it; do not
    modify it), with its nodes and edges added in sorted order so that Louvain, which
    depends on that order, gives every store the same communities."""
    orgs: list[str] = []
    services: list[str] = []
    for node, kind in graph.nodes(data="kind"):
        if kind == NodeKind.ORGANISATION:
            orgs.append(node)
        elif kind == NodeKind.SERVICE:
            services.append(node)
    org_set = set(orgs)

    def owners(node: str) -> set[str]:  # organisation → itself; service → its providers
        return {node} if node in org_set else set(sources(graph, node, RelType.PROVIDES))

    weights: dict[tuple[str, str], int] = {}

    def add(a: str, b: str) -> None:
        if a != b:
            pair = (a, b) if a < b else (b, a)
            weights[pair] = weights.get(pair, 0) + 1

    members: dict[str, set[str]] = {}
    for org in orgs:
        for other in targets(graph, org, RelType.PARTNERS_WITH):
            add(org, other)
        for network in targets(graph, org, RelType.MEMBER_OF):
            members.setdefault(network, set()).add(org)
    for node in (*orgs, *services):
        referred = targets(graph, node, RelType.REFERS_TO)
        if not referred:
            continue
        givers = owners(node)
        for target in referred:
            for a in givers:
                for b in owners(target):
                    add(a, b)
    for group in members.values():
        for a, b in combinations(sorted(group), 2):
            add(a, b)
    ties: TieGraph = nx.Graph()
    ties.add_nodes_from(sorted(orgs))
    # What add_edges_from would build (each pair once, in sorted order), written into
    # networkx's own dict: half the time for 256k ties at 100k nodes.
    adj = ties._adj  # type: ignore[attr-defined]  # networkx's own dict (not in its stubs)
    for (a, b), w in sorted(weights.items()):
        if a in adj and b in adj:
            adj[a][b] = adj[b][a] = {"weight": w}
        else:  # an end that is not a listed organisation: let networkx add the node
            ties.add_edge(a, b, weight=w)
    return ties


def tie_count(ties: TieGraph, a: str, b: str) -> int:
    """Existing ties between two organisations (see :func:`tie_graph`)."""
    data = ties.get_edge_data(a, b)
    return int(data["weight"]) if data else 0


def _greedy(covers: dict[str, set[Cell]], graph: Snapshot, ties_of: TieGraph, max_size: int,
            connected: bool, excluded: frozenset[str] = frozenset()) -> list[str]:
    chosen: list[str] = []
    covered: set[Cell] = set()
    to_chosen: dict[str, int] = {}  # organisation → its existing ties to the members chosen
    while len(chosen) < max_size:
        best: str | None = None
        best_key: tuple[float, int, int, str, str] | None = None
        for org, cells in covers.items():
            if org in chosen or org in excluded:
                continue
            gain = len(cells - covered)
            if gain == 0:
                continue
            ties = to_chosen.get(org, 0)
            score = gain + (0.5 * ties if connected else 0)
            key = (-score, -gain, -ties, name_of(graph, org), org)
            if best_key is None or key < best_key:
                best, best_key = org, key
        if best is None:
            break
        chosen.append(best)
        covered |= covers[best]
        for other, data in ties_of.adj[best].items():
            to_chosen[other] = to_chosen.get(other, 0) + int(data["weight"])
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


# --------------------------------------------------------------------------- strategies

WIDEST, CONNECTED, WITHOUT = "widest_cover", "best_connected", "without_member"
STRATEGIES = (WIDEST, CONNECTED, WITHOUT)


def strategy(graph: Snapshot, kind: str, without: str | None = None) -> Strategy:
    """A method that produced a suggestion, in plain English.

    >>> strategy(nx.MultiDiGraph(), WIDEST)["text"]
    'Widest cover: at each step, the organisation covering the most cells not yet covered'
    """
    if kind == WIDEST:
        text = "Widest cover: at each step, the organisation covering the most cells not yet covered"
    elif kind == CONNECTED:
        text = ("Best connected: as widest cover, but each existing tie to a member already "
                "chosen counts as half a cell, so partners who already work together come first")
    elif kind == WITHOUT and without is not None:
        name = name_of(graph, without)
        text = (f"Without {name}: widest cover again with {name} left out, to show who else "
                "could take its place")
    else:
        raise ValueError(f"unknown strategy {kind!r}")
    left_out: Named | None = {"id": without, "name": name_of(graph, without)} if without else None
    return {"kind": kind, "without": left_out, "text": text}


def strategy_text(strategies: list[Strategy]) -> str:
    """One sentence for a suggestion several methods produced: the first, then the others."""
    first, *others = strategies
    if not others:
        return first["text"]
    also = [s["text"].split(":", 1)[0] for s in others]
    return f"{first['text']} (also found by: {'; '.join(also)})"


# --------------------------------------------------------------------------- evidence, ties


def _evidence(graph: Snapshot, members: list[str], covers: dict[str, set[Cell]],
              opp_cells: dict[Cell, dict[str, list[str]]], all_cells: list[Cell]) -> list[Evidence]:
    """For every covered cell (in the opportunity's order), each member covering it and each
    of its activities there, with the member's service offering that activity."""
    rows: list[Evidence] = []
    by_name = sorted(members, key=lambda m: (name_of(graph, m), m))
    for cell in all_cells:
        for m in by_name:
            if cell not in covers[m]:
                continue
            found: list[Evidence] = []
            for activity in opp_cells[cell][m]:
                for service in sources(graph, activity, RelType.OFFERS):
                    if m in sources(graph, service, RelType.PROVIDES):
                        found.append({
                            "need": cell[0], "locality": cell[1],
                            "member": m, "member_name": name_of(graph, m),
                            "service": service, "service_name": name_of(graph, service),
                            "activity": activity, "activity_name": name_of(graph, activity)})
            rows += sorted({(e["service"], e["activity"]): e for e in found}.values(),
                           key=lambda e: (e["activity_name"], e["activity"],
                                          e["service_name"], e["service"]))
    return rows


def _node(graph: Snapshot, node: str) -> NetworkNode:
    return {"id": node, "name": name_of(graph, node), "kind": graph.nodes[node]["kind"].value}


def member_ties(graph: Snapshot, members: list[str]) -> list[Tie]:
    """Each existing tie between two members, one entry per unit :func:`tie_graph` counts:
    a partnership (either way), a network both belong to, a referral route between them or
    their services."""
    chosen = set(members)
    ties: list[Tie] = []

    def tie(a: str, b: str, kind: RelType, via: list[str], edges: list[tuple[str, str, str]],
            text: str) -> None:
        ties.append({"members": [{"id": a, "name": name_of(graph, a)},
                                 {"id": b, "name": name_of(graph, b)}],
                     "kind": kind.value, "via": [_node(graph, v) for v in via],
                     "edges": edges, "text": text})

    def owned(node: str, owner: str) -> str:
        return name_of(graph, node) + ("" if node == owner else f" ({name_of(graph, owner)})")

    for a in members:
        for b in targets(graph, a, RelType.PARTNERS_WITH):
            if b in chosen and b != a:
                tie(a, b, RelType.PARTNERS_WITH, [], [(a, RelType.PARTNERS_WITH.value, b)],
                    f"{name_of(graph, a)} partners with {name_of(graph, b)}")
        for x in [a, *targets(graph, a, RelType.PROVIDES)]:
            for y in targets(graph, x, RelType.REFERS_TO):
                owners = [y] if graph.nodes[y]["kind"] == NodeKind.ORGANISATION \
                    else sources(graph, y, RelType.PROVIDES)
                for b in sorted(set(owners)):
                    if b in chosen and b != a:
                        edges = [(x, RelType.REFERS_TO.value, y)]
                        edges += [(a, RelType.PROVIDES.value, x)] if x != a else []
                        edges += [(b, RelType.PROVIDES.value, y)] if y != b else []
                        tie(a, b, RelType.REFERS_TO, [n for n in (x, y) if n not in (a, b)],
                            edges, f"{owned(x, a)} refers to {owned(y, b)}")
    networks = {m: set(targets(graph, m, RelType.MEMBER_OF)) for m in members}
    for a, b in combinations(members, 2):
        for net in sorted(networks[a] & networks[b]):
            tie(a, b, RelType.MEMBER_OF, [net], [(a, RelType.MEMBER_OF.value, net),
                                                  (b, RelType.MEMBER_OF.value, net)],
                f"{name_of(graph, a)} and {name_of(graph, b)} are both members of "
                f"{name_of(graph, net)}")
    return sorted(ties, key=lambda t: ([m["name"] for m in t["members"]], t["kind"], t["text"],
                                       t["edges"]))


def ties_network(suggestion: Suggestion) -> ConsortiumNetwork:
    """The members and their existing ties as a small network to draw (members, shared
    networks, services on referral routes; only the relationships that make the ties)."""
    nodes: dict[str, NetworkNode] = {m["id"]: {**m, "kind": NodeKind.ORGANISATION.value}
                                     for m in suggestion["members"]}
    edges: set[tuple[str, str, str]] = set()
    for t in suggestion["ties"]:
        nodes.update({v["id"]: v for v in t["via"]})
        edges.update(tuple(e) for e in t["edges"])  # type: ignore[misc]  # JSON gives lists
    return {"nodes": sorted(nodes.values(), key=lambda n: n["id"]), "edges": sorted(edges),
            "members": sorted(m["id"] for m in suggestion["members"]), "uncovered": []}


def _describe(graph: Snapshot, ties_of: TieGraph, members: list[str],
              covers: dict[str, set[Cell]], coverable: set[Cell], all_cells: list[Cell],
              reached: AbstractSet[str], opp_cells: dict[Cell, dict[str, list[str]]]) -> Suggestion:
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
        "strategy": "",  # filled in by suggest(), which knows every method that found it
        "strategies": [],
        "evidence": _evidence(graph, members, covers, opp_cells, all_cells),
        "ties": member_ties(graph, members),
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
    # What any link worker reaches: one search from all of them at once
    reached_by_hops = _reached(graph)
    if max_hops not in reached_by_hops:
        reached_by_hops[max_hops] = frozenset(nearest_sources(graph, link_workers(graph),
                                                              max_hops))
    reached = reached_by_hops[max_hops]

    ties_of = tie_graph(graph)
    widest = _greedy(covers, graph, ties_of, max_size, connected=False)
    candidates = [(widest, strategy(graph, WIDEST)),
                  (_greedy(covers, graph, ties_of, max_size, connected=True),
                   strategy(graph, CONNECTED))]
    # Alternatives: the same greedy without one of the widest suggestion's members.
    for member in widest:
        candidates.append((_greedy(covers, graph, ties_of, max_size, False, frozenset({member})),
                           strategy(graph, WITHOUT, member)))
    seen: dict[frozenset[str], Suggestion] = {}
    suggestions: list[Suggestion] = []
    for members, method in candidates:
        key = frozenset(members)
        if not members:
            continue
        if key not in seen:
            seen[key] = _describe(graph, ties_of, members, covers, coverable, all_cells,
                                  reached, opp_cells)
            suggestions.append(seen[key])
        seen[key]["strategies"].append(method)
    for s in suggestions:
        s["strategy"] = strategy_text(s["strategies"])
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
    """Natural groupings of organisations over their existing ties: networkx's Louvain with
    a fixed seed on a tie graph built in sorted order, so every store gets the same groups.
    Run by :func:`pathways.analysis.louvain.louvain_communities`, the same moves on lists:
    the same groups as networkx's own (tested), 1.6 s instead of 4-5 s at 100k nodes."""
    ordered = tie_graph(graph)  # built in sorted order
    if ordered.number_of_edges() == 0:
        return [{o} for o in ordered.nodes]
    return louvain_communities(ordered, seed=0)


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
        with gc_paused():  # see consortium_suggestions
            report = suggest(graph, opp, max_size, alternatives)
        groups = cached_analysis(store, "communities", communities)  # the slow part at scale
        with gc_paused():
            return {**report, "landscape": landscape(graph, opp, groups)}

    return store.consistent(read)


def consortium_suggestions(store: GraphStore, opp: Opportunity, max_size: int = 4,
                           alternatives: int = 3) -> Suggestions:
    """The report without the landscape, for readers that do not show it (the Consortia
    page): the same cells and suggestions as :func:`consortia`, without computing the
    communities (Louvain), the slow part of a first call at scale."""
    def read() -> Suggestions:
        graph = cached_snapshot(store)
        # Not cached per version (one per opportunity), so not run under cached_analysis's
        # pause: without one, the collector re-scans the whole 100k graph's objects again and
        # again while the suggestions are built (they hold no reference cycles).
        with gc_paused():
            return suggest(graph, opp, max_size, alternatives)

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


# --------------------------------------------------------------------------- contacts
# Personal data of professionals in their work role: never part of the report (its JSON,
# CSV and pages go to anyone who may see consortia); asked for separately, and only by code
# that has checked the reader may see contacts (the pages: link workers and above; the CLI:
# --with-contacts).

# Who to name first for a consortium: those who lead partnerships, then commissioners, ...
CONTACT_ORDER = ("partnership_lead", "commissioner", "practitioner", "volunteer", "link_worker")


class Person(TypedDict):
    id: str
    name: str
    role: str  # their work role in words, e.g. "partnership lead"
    job_title: str
    phone: str
    email: str


class MemberContacts(TypedDict):
    id: str
    name: str
    people: list[Person]  # who works for it, the named contact first
    phone: str  # the organisation's own
    email: str
    website: str


def _text(props: Mapping[str, Any], key: str) -> str:
    value = props.get(key)
    return "" if value is None else str(value)


def contacts_of(graph: Snapshot, organisations: Iterable[str]) -> dict[str, MemberContacts]:
    """Each organisation's people (WORKS_FOR it) in their work role, and its own phone,
    e-mail and web address; unknown ids are refused."""
    orgs = list(dict.fromkeys(organisations))
    check_ids(graph, orgs, NodeKind.ORGANISATION, "organisation")
    found: dict[str, MemberContacts] = {}
    for org in orgs:
        people: list[Person] = []
        for p in set(sources(graph, org, RelType.WORKS_FOR)):
            props = graph.nodes[p]["props"]
            people.append({"id": p, "name": name_of(graph, p),
                           "role": _text(props, "role").replace("_", " "),
                           "job_title": _text(props, "job_title"),
                           "phone": _text(props, "phone"), "email": _text(props, "email")})
        rank = {r.replace("_", " "): i for i, r in enumerate(CONTACT_ORDER)}
        people.sort(key=lambda p: (rank.get(p["role"], len(rank)), p["name"], p["id"]))
        props = graph.nodes[org]["props"]
        found[org] = {"id": org, "name": name_of(graph, org), "people": people,
                      "phone": _text(props, "phone"), "email": _text(props, "email"),
                      "website": _text(props, "website")}
    return found


def member_contacts(store: GraphStore, organisations: Iterable[str]) -> dict[str, MemberContacts]:
    """:func:`contacts_of` on the store's cached snapshot (call only for readers allowed to
    see contact details)."""
    return contacts_of(cached_snapshot(store), organisations)


def report_contacts(store: GraphStore, report: Suggestions) -> dict[str, MemberContacts]:
    """The contacts of every member of every suggestion of a report."""
    return member_contacts(store, sorted({m["id"] for s in report["suggestions"]
                                          for m in s["members"]}))

