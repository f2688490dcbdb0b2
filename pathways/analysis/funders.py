"""The funding landscape: who funds which organisations and services, what each funder's
money reaches along referral routes, and which needs and localities no funded provision covers.

Computed from a whole-graph snapshot, so both stores give the same answers.  In a
commissioner's words, for each funder (a ``FUNDED_BY`` relationship from an organisation,
service, activity or network to it):

networks / network_members
    Funded networks, and their member organisations (``MEMBER_OF``).  Money to a network
    pays for the network, not for its members' services: members are listed, not followed.
organisations
    Funded directly.
services
    Funded directly, or provided by a funded organisation.
activities
    Funded directly, or offered by a funded service: the funded provision.
link_workers / options
    Link workers who can reach at least one funded activity along referral routes within the
    hop limit, and how many (link worker, funded activity) options that makes.
cells
    The needs × localities the funded provision covers (an activity addressing the need, in
    the locality or serving the whole area), and of those ``reached_cells``: the ones where a
    link worker covering the locality reaches such an activity (as the Gaps heatmap counts).

``uncovered`` lists the needs × localities no funder's provision covers, with how many
activities (all unfunded) exist there: 0 is nothing at all, more is provision no one funds.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TypedDict

from pathways.analysis.snapshot import (
    cached_analysis,
    check_ids,
    link_workers,
    name_of,
    of_kind,
    sources,
    targets,
)
from pathways.errors import PathwaysError
from pathways.graphs import Snapshot, reachable
from pathways.model import DEFAULT_MAX_HOPS, MAX_MAX_HOPS, NodeKind, RelType, serves_whole_area
from pathways.store.base import GraphStore


@dataclass(frozen=True)
class FunderQuery:
    localities: tuple[str, ...] = ()  # ids; none: every locality
    needs: tuple[str, ...] = ()  # ids; none: every need
    max_hops: int = DEFAULT_MAX_HOPS


class Named(TypedDict):
    id: str
    name: str


class Cell(TypedDict):
    need: str
    locality: str


class FunderReach(TypedDict):
    id: str
    name: str
    networks: list[Named]
    network_members: list[Named]  # listed, not followed (see the module docstring)
    organisations: list[Named]
    services: list[Named]
    activities: list[Named]
    link_workers: list[Named]
    options: int  # (link worker, funded activity) pairs within the hop limit
    cells: list[Cell]  # needs × localities the funded provision covers
    reached_cells: list[Cell]  # of which a link worker covering the locality reaches


class UncoveredCell(TypedDict):
    need: str
    locality: str
    activities: int  # activities there, none of them funded


class FundingLandscape(TypedDict):
    max_hops: int
    names: dict[str, str]  # need and locality id -> name
    funders: list[FunderReach]
    uncovered: list[UncoveredCell]


def _named(graph: Snapshot, ids: set[str]) -> list[Named]:
    return [{"id": n, "name": name_of(graph, n)}
            for n in sorted(ids, key=lambda n: (name_of(graph, n), n))]


def compute_funders(graph: Snapshot, query: FunderQuery) -> FundingLandscape:
    """The funding landscape of a snapshot; see the module docstring."""
    if not 1 <= query.max_hops <= MAX_MAX_HOPS:
        raise PathwaysError(f"max hops must be between 1 and {MAX_MAX_HOPS}, not {query.max_hops}")
    check_ids(graph, query.localities, NodeKind.LOCALITY, "locality")
    check_ids(graph, query.needs, NodeKind.NEED, "need")
    localities = list(query.localities) or of_kind(graph, NodeKind.LOCALITY)
    needs = list(query.needs) or of_kind(graph, NodeKind.NEED)
    wanted_needs, wanted_places = set(needs), set(localities)

    def kind(node: str) -> NodeKind:
        result: NodeKind = graph.nodes[node]["kind"]
        return result

    def cells_of(activity: str) -> set[tuple[str, str]]:
        addressed = wanted_needs.intersection(targets(graph, activity, RelType.ADDRESSES))
        if serves_whole_area(graph.nodes[activity]["props"]):
            places = wanted_places
        else:
            places = wanted_places.intersection(targets(graph, activity, RelType.LOCATED_IN))
        return {(n, p) for n in addressed for p in places}

    workers = link_workers(graph)
    reach = {w: set(reachable(graph, w, query.max_hops)) for w in workers}
    covering = {p: {w for w in sources(graph, p, RelType.COVERS) if w in reach}
                for p in localities}
    # Who reaches each node, once (not a check of every worker's reach per funder and cell).
    reached_by: dict[str, set[str]] = {}
    for worker, nodes in reach.items():
        for node in nodes:
            found = reached_by.get(node)
            if found is None:
                reached_by[node] = {worker}
            else:
                found.add(worker)
    nobody: set[str] = set()
    funded_anywhere: set[tuple[str, str]] = set()
    rows: list[FunderReach] = []
    for funder in of_kind(graph, NodeKind.FUNDER):
        direct = sources(graph, funder, RelType.FUNDED_BY)
        networks = {n for n in direct if kind(n) == NodeKind.NETWORK}
        members = {o for net in networks for o in sources(graph, net, RelType.MEMBER_OF)
                   if kind(o) == NodeKind.ORGANISATION}
        orgs = {n for n in direct if kind(n) == NodeKind.ORGANISATION}
        services = {n for n in direct if kind(n) == NodeKind.SERVICE}
        services |= {s for o in orgs for s in targets(graph, o, RelType.PROVIDES)}
        activities = {n for n in direct if kind(n) == NodeKind.ACTIVITY}
        activities |= {a for s in services for a in targets(graph, s, RelType.OFFERS)}
        reaching = set[str]().union(*(reached_by.get(a, nobody) for a in activities))
        # (worker, activity) pairs reachable: per worker, or the same pairs per activity
        options = sum(len(reached_by.get(a, nobody)) for a in activities)
        cells: set[tuple[str, str]] = set()
        reached: set[tuple[str, str]] = set()
        for activity in activities:
            for need, place in cells_of(activity):
                cells.add((need, place))
                if not covering[place].isdisjoint(reached_by.get(activity, nobody)):
                    reached.add((need, place))
        funded_anywhere |= cells
        rows.append({
            "id": funder, "name": name_of(graph, funder),
            "networks": _named(graph, networks), "network_members": _named(graph, members),
            "organisations": _named(graph, orgs),
            "services": _named(graph, services), "activities": _named(graph, activities),
            "link_workers": _named(graph, reaching), "options": options,
            "cells": _cells(cells, needs, localities),
            "reached_cells": _cells(reached, needs, localities),
        })
    existing: dict[tuple[str, str], int] = {}
    for activity in of_kind(graph, NodeKind.ACTIVITY):
        for cell in cells_of(activity):
            existing[cell] = existing.get(cell, 0) + 1
    uncovered: list[UncoveredCell] = [
        {"need": n, "locality": p, "activities": existing.get((n, p), 0)}
        for n in needs for p in localities if (n, p) not in funded_anywhere
    ]
    return {
        "max_hops": query.max_hops,
        "names": {n: name_of(graph, n) for n in localities + needs},
        "funders": rows,
        "uncovered": uncovered,
    }


def _cells(found: set[tuple[str, str]], needs: list[str], localities: list[str]) -> list[Cell]:
    """In the order of needs, then localities (as the Gaps heatmap reads)."""
    return [{"need": n, "locality": p} for n in needs for p in localities if (n, p) in found]


def funding_landscape(store: GraphStore, query: FunderQuery | None = None) -> FundingLandscape:
    """The funding landscape for a store, cached until its data changes (shared: do not
    modify it)."""
    query = FunderQuery() if query is None else query
    return cached_analysis(store, ("funders", query),
                           functools.partial(compute_funders, query=query))


# --------------------------------------------------------------------------- rows for output

SUMMARY_COLUMNS = ["funder", "networks", "organisations", "services", "activities",
                   "link_workers", "options", "cells_covered", "cells_reached"]
#: the CSV also names the organisations and services (too wide for a terminal table)
CSV_COLUMNS = [*SUMMARY_COLUMNS, "organisation_names", "service_names"]
UNCOVERED_COLUMNS = ["need", "locality", "unfunded_activities"]


def summary_rows(report: FundingLandscape) -> list[dict]:
    """One row per funder, with names (for a table or CSV)."""
    return [{
        "funder": f["name"],
        "networks": len(f["networks"]),
        "organisations": len(f["organisations"]),
        "services": len(f["services"]),
        "activities": len(f["activities"]),
        "link_workers": len(f["link_workers"]),
        "options": f["options"],
        "cells_covered": len(f["cells"]),
        "cells_reached": len(f["reached_cells"]),
        "organisation_names": "; ".join(o["name"] for o in f["organisations"]),
        "service_names": "; ".join(s["name"] for s in f["services"]),
    } for f in report["funders"]]


def uncovered_rows(report: FundingLandscape) -> list[dict]:
    names = report["names"]
    return [{"need": names[c["need"]], "locality": names[c["locality"]],
             "unfunded_activities": c["activities"]} for c in report["uncovered"]]
