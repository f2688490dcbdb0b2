"""Gaps: where the network of referral routes and activities leaves people without an option.

Written against the store interface: every figure is computed from a whole-graph snapshot
(:meth:`GraphStore.snapshot`) with the pathway definition of :mod:`pathways.graphs`, so both
stores give the same answers.  Results are cached per store version, so a page does not
recompute the graph per click.

What each part means, in a partnership lead's words:

coverage
    For each need and locality: ``existing`` activities that address the need there (or
    serve the whole area: online or borough-wide, ``serves_whole_area = yes``), and how many
    of them ``reachable`` by at least one link worker who covers that locality, within the
    hop limit.  ``existing = 0`` is a provision gap; ``existing > 0`` with ``reachable = 0``
    is "provision no one refers to".
unreached
    Activities no link worker can reach within the hop limit (``needs_hops`` says how long
    the shortest route from any link worker is, if there is one at all).
single_points_of_failure
    Organisations and services whose removal would cut link workers off from activities:
    ``pairs_lost`` counts (link worker, activity) pairs reachable now and not without it.
thin_options
    Link workers whose reachable activities address few needs; localities covered by a
    single link worker or served by a single provider.
data_gaps
    Per organisation, how many of its services and activities lack what link workers rely
    on: a contact route, a schedule, accessibility information, a location (activities not
    serving the whole area), a need it addresses, a review in the last year.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, TypedDict

import rustworkx as rx

from pathways.analysis.gap_index import (
    losses_for_worker,
    pathway_core,
    pathway_neighbours,
    reach_from,
    reach_nearest,
    whole_area_activities,
)
from pathways.analysis.snapshot import (
    NetworkNode,
    by_kind,
    cached_analysis,
    check_ids,
    link_workers,
    name_of,
    of_kind,
    providers,
    providers_of,
    rel_in,
    rel_out,
    sources,
)
from pathways.errors import PathwaysError
from pathways.graphs import (
    Snapshot,
    Step,
    all_activities,
    best_paths_to,
    node_names,
)
from pathways.model import DEFAULT_MAX_HOPS, MAX_MAX_HOPS, NodeKind, RelType
from pathways.store.base import GraphStore

# What a service or activity can lack that link workers rely on (see data_gaps).
GapKind = Literal["no_contact", "no_schedule", "no_accessibility", "no_location", "no_need",
                  "not_reviewed"]
GAP_KINDS: tuple[GapKind, ...] = ("no_contact", "no_schedule", "no_accessibility", "no_location",
                                  "no_need", "not_reviewed")
THIN_NEEDS = 3  # a link worker reaching activities for fewer needs than this has thin options
REVIEW_DAYS = 365


@dataclass(frozen=True)
class GapQuery:
    localities: tuple[str, ...] = ()
    needs: tuple[str, ...] = ()
    max_hops: int = DEFAULT_MAX_HOPS
    as_of: dt.date = field(default_factory=dt.date.today)


# --------------------------------------------------------------------------- results
# Plain dicts at run time (so JSON, CSV and the pages read them as before), typed for mypy.

Reach = dict[str, dict[str, int]]  # link worker -> {node reachable: hops}


class CoverageCell(TypedDict):
    need: str
    locality: str
    existing: int  # activities addressing the need there (or serving the whole area)
    reachable: int  # of which a link worker covering the locality reaches
    activities: list[str]
    reachable_activities: list[str]
    link_workers: list[str]  # ids of the link workers covering the locality


class UnreachedActivity(TypedDict):
    id: str
    name: str
    provider: str  # providers' names, "; "-separated
    needs_hops: int | None  # the shortest route from any link worker, None: no route at all


class UnreachedService(TypedDict):
    id: str
    name: str
    provider: str


class NoInboundRoute(TypedDict):
    id: str
    name: str
    services: int


class SinglePointOfFailure(TypedDict):
    id: str
    name: str
    kind: str  # NodeKind value
    pairs_lost: int  # (link worker, activity) pairs reachable now and not without it
    articulation_point: bool


class WorkerOptions(TypedDict):
    id: str
    name: str
    activities: int
    needs_covered: int
    needs_total: int
    needs: list[str]
    thin: bool


class ThinLocality(TypedDict):
    id: str
    name: str
    link_workers: int
    providers: int
    link_worker_ids: list[str]
    provider_ids: list[str]


class ThinOptions(TypedDict):
    link_workers: list[WorkerOptions]
    localities: list[ThinLocality]


class DataGapItem(TypedDict):
    id: str
    name: str
    kind: str  # NodeKind value
    missing: list[GapKind]


class OrganisationDataGaps(TypedDict):
    """Per organisation: how many of its services and activities miss each thing."""

    id: str
    name: str
    no_contact: int
    no_schedule: int
    no_accessibility: int
    no_location: int
    no_need: int
    not_reviewed: int
    items: list[DataGapItem]


class GapReport(TypedDict):
    max_hops: int
    as_of: str  # ISO date
    names: dict[str, str]  # locality and need id -> name
    coverage: list[CoverageCell]
    unreached: list[UnreachedActivity]
    unreached_services: list[UnreachedService]
    no_inbound_route: list[NoInboundRoute]
    single_points_of_failure: list[SinglePointOfFailure]
    thin_options: ThinOptions
    data_gaps: list[OrganisationDataGaps]


class ReferralNetwork(TypedDict):
    nodes: list[NetworkNode]
    edges: list[tuple[str, str, str]]  # (source id, relationship type, target id)


class CellRoute(TypedDict):
    id: str
    name: str
    provider: str
    route: list[str] | None  # ids from the link worker to the activity; None: no route
    route_names: str


# --------------------------------------------------------------------------- parts


def reached_activities(graph: Snapshot, reach: Reach) -> dict[str, frozenset[str]]:
    """Per link worker, the activities among what it reaches (coverage and thin options
    both ask; the report computes them once)."""
    every = all_activities(graph)
    return {w: every.intersection(hops) for w, hops in reach.items()}


def coverage(graph: Snapshot, reach: Reach, needs: list[str], localities: list[str],
             activities_reached: dict[str, frozenset[str]] | None = None) -> list[CoverageCell]:
    """One pass over each asked locality's activities builds every cell (not one scan per
    cell; each activity's needs once, not each need's activities and their places); an
    activity serving the whole area is listed once per need and merged into each of its
    cells.  What link workers reach is looked up per locality: the whole-area activities
    among its workers' reach (a locality's reach is far smaller than a need's whole-area
    list times the localities), then the cell's own activities."""
    addresses, located_here = rel_out(graph, RelType.ADDRESSES), rel_in(graph, RelType.LOCATED_IN)
    every, whole_area = all_activities(graph), whole_area_activities(graph)
    # need -> locality -> its activities there (only the localities asked for; sorted below)
    cells = {n: {loc: list[str]() for loc in localities} for n in needs}
    everywhere: dict[str, list[str]] = {n: [] for n in needs}  # each need once
    for loc in dict.fromkeys(localities):
        here_cells = {need: need_cells[loc] for need, need_cells in cells.items()}
        for activity in located_here.get(loc, ()):
            if activity in whole_area or activity not in every:
                continue
            for need in addresses.get(activity, ()):
                cell = here_cells.get(need)
                if cell is not None:
                    cell.append(activity)
    whole_needs: dict[str, list[str]] = {}  # whole-area activity -> the needs (asked) it addresses
    for activity in whole_area:
        for need in addresses.get(activity, ()):
            whole = everywhere.get(need)
            if whole is not None:
                whole.append(activity)
                whole_needs.setdefault(activity, []).append(need)
    for listed in everywhere.values():
        listed.sort()
    covers = rel_in(graph, RelType.COVERS)
    workers_in = {loc: sorted(w for w in covers.get(loc, ()) if w in reach)
                  for loc in localities}
    acts = reached_activities(graph, reach) if activities_reached is None else activities_reached
    rows: list[CoverageCell] = []
    local_reach: dict[str, set[str]] = {}
    reached_whole: dict[str, dict[str, list[str]]] = {}  # locality -> need -> activities
    for loc in localities:
        if loc in local_reach:
            continue
        here = local_reach[loc] = set[str]().union(*(acts[w] for w in workers_in[loc]))
        by_need: dict[str, list[str]] = {}
        for activity in whole_area.intersection(here):
            for need in whole_needs.get(activity, ()):
                found = by_need.get(need)
                if found is None:
                    by_need[need] = [activity]
                else:
                    found.append(activity)
        reached_whole[loc] = by_need
    for need in needs:
        whole, need_cells = everywhere[need], cells[need]
        for loc in localities:
            local = need_cells[loc]
            if local:
                local.sort()
                existing = sorted(local + whole)  # two sorted runs: merged
                here = local_reach[loc]
                reached = sorted([a for a in local if a in here]
                                 + reached_whole[loc].get(need, []))
            else:
                existing = whole.copy()
                reached = sorted(reached_whole[loc].get(need, []))
            rows.append({
                "need": need,
                "locality": loc,
                "existing": len(existing),
                "reachable": len(reached),
                "activities": existing,
                "reachable_activities": reached,
                "link_workers": workers_in[loc],
            })
    return rows


def unreached(graph: Snapshot, reach: Reach, max_hops: int,
              reached: set[str] | None = None) -> list[UnreachedActivity]:
    """``reached``: every node some link worker reaches, if the caller has it."""
    if reached is None:
        reached = set[str]().union(*reach.values())
    # routes of any length, from any worker
    nearest = reach_nearest(pathway_neighbours(graph)[0], list(reach))
    names, orgs = node_names(graph), providers_of(graph)
    rows: list[UnreachedActivity] = []
    for activity in by_kind(graph)[NodeKind.ACTIVITY]:
        if activity in reached:
            continue
        rows.append({
            "id": activity,
            "name": names[activity],
            "provider": "; ".join(names[o] for o in orgs.get(activity, ())),
            "needs_hops": nearest.get(activity),
        })
    return rows


def unreached_services(graph: Snapshot, reach: Reach,
                       reached: set[str] | None = None) -> list[UnreachedService]:
    """``reached``: every node some link worker reaches, if the caller has it."""
    if reached is None:
        reached = set[str]().union(*reach.values())
    names, provided_by = node_names(graph), rel_in(graph, RelType.PROVIDES)
    return [
        {"id": s, "name": names[s],
         "provider": "; ".join(names[o] for o in sorted(provided_by.get(s, ())))}
        for s in by_kind(graph)[NodeKind.SERVICE] if s not in reached
    ]


def no_inbound_route(graph: Snapshot) -> list[NoInboundRoute]:
    """Organisations with services, but no referral route into them or their services."""
    provides, referred_by = rel_out(graph, RelType.PROVIDES), rel_in(graph, RelType.REFERS_TO)
    rows: list[NoInboundRoute] = []
    for org in by_kind(graph)[NodeKind.ORGANISATION]:
        services = provides.get(org)
        if not services:
            continue
        if org not in referred_by and not any(s in referred_by for s in services):
            rows.append({"id": org, "name": name_of(graph, org), "services": len(services)})
    return rows


def referral_articulation_points(graph: Snapshot) -> set[str]:
    """Nodes whose removal splits the referral network (REFERS_TO, PROVIDES and OFFERS,
    directions ignored) into more pieces: the same set as ``networkx.articulation_points``
    (tested), found by rustworkx in Rust: 0.15 s instead of 0.7 s at 100k nodes."""
    out, _ = pathway_neighbours(graph)
    index: dict[str, int] = {}
    edges = [(index.setdefault(u, len(index)), index.setdefault(v, len(index)))
             for u, targets in out.items() for v in targets]
    network = rx.PyGraph(multigraph=False)
    network.add_nodes_from([None] * len(index))
    network.extend_from_edge_list(edges)
    ids = list(index)
    return {ids[i] for i in rx.articulation_points(network)}


def single_points_of_failure(graph: Snapshot, reach: Reach,
                             max_hops: int) -> list[SinglePointOfFailure]:
    """Nodes whose removal cuts (link worker, activity) pairs, with the exact loss
    (:func:`pathways.analysis.gap_index.losses_for_worker`; ``reach``: each worker's hops in
    breadth-first order).

    Articulation points of the undirected referral network are flagged; the number
    reported is always the true loss under the directed, hop-limited definition.
    """
    articulation = referral_articulation_points(graph)
    out, _ = pathway_neighbours(graph)
    core, leaf_activities = pathway_core(graph)
    every = all_activities(graph)
    lost: dict[str, int] = defaultdict(int)
    for worker, hops in reach.items():
        for node, count in losses_for_worker(out, core, leaf_activities, every, worker, hops,
                                             max_hops).items():
            lost[node] += count
    attrs = graph._node  # type: ignore[attr-defined]  # networkx's own dict, minus views
    rows: list[SinglePointOfFailure] = [
        {"id": n, "name": attrs[n]["props"]["name"], "kind": attrs[n]["kind"].value,
         "pairs_lost": count, "articulation_point": n in articulation}
        for n, count in lost.items()
    ]
    return sorted(rows, key=lambda r: (-r["pairs_lost"], r["name"], r["id"]))


def thin_options(graph: Snapshot, reach: Reach, localities: list[str],
                 activities_reached: dict[str, frozenset[str]] | None = None) -> ThinOptions:
    needs_total = len(by_kind(graph)[NodeKind.NEED])
    addresses, names = rel_out(graph, RelType.ADDRESSES), node_names(graph)
    every = all_activities(graph)
    workers: list[WorkerOptions] = []
    for worker, hops in reach.items():
        acts = (every.intersection(hops) if activities_reached is None
                else activities_reached[worker])
        addressed: set[str] = set()
        for activity in acts:
            addressed.update(addresses.get(activity, ()))
            if len(addressed) == needs_total:
                break  # every need: no other activity can add one
        covered = sorted(addressed)
        workers.append({
            "id": worker, "name": names[worker], "activities": len(acts),
            "needs_covered": len(covered), "needs_total": needs_total, "needs": covered,
            "thin": len(covered) < min(THIN_NEEDS, needs_total),
        })
    workers.sort(key=lambda r: (r["needs_covered"], r["activities"], r["name"], r["id"]))
    covers, located_here = rel_in(graph, RelType.COVERS), rel_in(graph, RelType.LOCATED_IN)
    provided = providers_of(graph)
    places: list[ThinLocality] = []
    for loc in localities:
        covering = sorted(w for w in covers.get(loc, ()) if w in reach)
        local = [a for a in located_here.get(loc, ()) if a in every]
        orgs = sorted({o for a in local for o in provided.get(a, ())})
        if len(covering) <= 1 or len(orgs) <= 1:
            places.append({
                "id": loc, "name": name_of(graph, loc),
                "link_workers": len(covering), "providers": len(orgs),
                "link_worker_ids": covering, "provider_ids": orgs,
            })
    return {"link_workers": workers, "localities": places}


_CONTACT_KEYS = ("phone", "email", "website", "referral_info")


def _missing_contact(graph: Snapshot, node: str) -> bool:
    props = graph.nodes[node]["props"]
    if any(props.get(k) for k in _CONTACT_KEYS):
        return False
    if graph.nodes[node]["kind"] == NodeKind.ACTIVITY:  # the service's contact will do
        return all(_missing_contact(graph, s) for s in sources(graph, node, RelType.OFFERS))
    return True


def data_gaps(graph: Snapshot, as_of: dt.date) -> list[OrganisationDataGaps]:
    """Per organisation, what its services and activities lack (the rules of
    :func:`_missing_contact` and the module docstring), in one pass over each kind; a node
    no organisation provides is only looked at for its contact (its activities may need it).
    An activity without its own contact is reached through a service when one of the
    services offering it has one: those activities are marked from the services' side (one
    look-up per activity, not its services' list and their entries: 0.06 s at 100k)."""
    cutoff = (as_of - dt.timedelta(days=REVIEW_DAYS)).isoformat()
    attrs = graph._node  # type: ignore[attr-defined]  # networkx's own dict, minus views
    names = node_names(graph)
    located, addresses = rel_out(graph, RelType.LOCATED_IN), rel_out(graph, RelType.ADDRESSES)
    offers, provided_by = rel_out(graph, RelType.OFFERS), rel_in(graph, RelType.PROVIDES)
    provided, whole_area = providers_of(graph), whole_area_activities(graph)
    per_org: dict[str, OrganisationDataGaps] = {}
    no_contact: dict[str, bool] = {}  # per service, for its activities

    def record(node: str, kind: str, problems: list[GapKind], orgs: Sequence[str]) -> None:
        name = names[node]
        for org in orgs:
            entry = per_org.get(org)
            if entry is None:  # the counts in GAP_KINDS order
                entry = per_org[org] = {
                    "id": org, "name": names[org], "no_contact": 0, "no_schedule": 0,
                    "no_accessibility": 0, "no_location": 0, "no_need": 0, "not_reviewed": 0,
                    "items": []}
            for problem in problems:
                entry[problem] += 1
            entry["items"].append({"id": node, "name": name, "kind": kind,
                                   "missing": list(problems)})

    kind = NodeKind.SERVICE.value
    for service in by_kind(graph)[NodeKind.SERVICE]:
        get = attrs[service]["props"].get
        missing = no_contact[service] = not any(map(get, _CONTACT_KEYS))
        orgs = provided_by.get(service)
        if not orgs:
            continue
        reviewed = get("reviewed_at")
        problems: list[GapKind] = ["no_contact"] if missing else []
        if not reviewed or reviewed < cutoff:
            problems.append("not_reviewed")
        if problems:
            record(service, kind, problems, sorted(orgs))
    via_service: set[str] = set()  # activities offered by a service with a contact
    for offering, offered in offers.items():
        if not (no_contact[offering] if offering in no_contact
                else _missing_contact(graph, offering)):
            via_service.update(offered)
    kind = NodeKind.ACTIVITY.value
    for activity in by_kind(graph)[NodeKind.ACTIVITY]:
        providing = provided.get(activity)
        if not providing:
            continue
        get = attrs[activity]["props"].get
        problems = []
        if not any(map(get, _CONTACT_KEYS)) and activity not in via_service:
            problems.append("no_contact")
        if not get("schedule"):
            problems.append("no_schedule")
        if not get("accessibility"):
            problems.append("no_accessibility")
        if activity not in whole_area and activity not in located:
            problems.append("no_location")
        if activity not in addresses:
            problems.append("no_need")
        reviewed = get("reviewed_at")
        if not reviewed or reviewed < cutoff:
            problems.append("not_reviewed")
        if problems:
            record(activity, kind, problems, providing)
    rows = [r for r in per_org.values() if r["items"]]
    return sorted(rows, key=lambda r: (-sum(r[k] for k in GAP_KINDS), r["name"], r["id"]))


def data_gap_totals(store: GraphStore, as_of: dt.date | None = None) -> dict[str, int]:
    """How many services and activities miss each thing link workers rely on (all
    organisations together), for ``pathways stats``."""
    as_of = as_of or dt.date.today()

    def build(graph: Snapshot) -> dict[str, int]:
        rows = data_gaps(graph, as_of)
        return {k: sum(r[k] for r in rows) for k in GAP_KINDS}

    return cached_analysis(store, ("data_gap_totals", as_of), build)


# --------------------------------------------------------------------------- report


def compute_gaps(graph: Snapshot, query: GapQuery) -> GapReport:
    """The whole gap report for a snapshot; see the module docstring for each part."""
    if not 1 <= query.max_hops <= MAX_MAX_HOPS:
        raise PathwaysError(f"max hops must be between 1 and {MAX_MAX_HOPS}, not {query.max_hops}")
    check_ids(graph, query.localities, NodeKind.LOCALITY, "locality")
    check_ids(graph, query.needs, NodeKind.NEED, "need")
    localities = list(query.localities) or of_kind(graph, NodeKind.LOCALITY)
    needs = list(query.needs) or of_kind(graph, NodeKind.NEED)
    out, _ = pathway_neighbours(graph)
    reach = {w: reach_from(out, w, query.max_hops) for w in link_workers(graph)}
    reached = set[str]().union(*reach.values())
    acts = reached_activities(graph, reach)
    return {
        "max_hops": query.max_hops,
        "as_of": query.as_of.isoformat(),
        "names": {n: name_of(graph, n) for n in localities + needs},
        "coverage": coverage(graph, reach, needs, localities, acts),
        "unreached": unreached(graph, reach, query.max_hops, reached),
        "unreached_services": unreached_services(graph, reach, reached),
        "no_inbound_route": no_inbound_route(graph),
        "single_points_of_failure": single_points_of_failure(graph, reach, query.max_hops),
        "thin_options": thin_options(graph, reach, localities, acts),
        "data_gaps": data_gaps(graph, query.as_of),
    }


def gap_report(store: GraphStore, query: GapQuery | None = None) -> GapReport:
    """The gap report for a store, cached until the store's data changes (the default
    query: every locality and need, the default hop limit, as of today)."""
    query = GapQuery() if query is None else query
    return cached_analysis(store, query, functools.partial(compute_gaps, query=query))


def referral_network(store: GraphStore) -> ReferralNetwork:
    """Link workers, organisations, services and activities joined by pathway relationships:
    the picture the Gaps page highlights gaps on.  Built once per data version (shared:
    do not modify it), in one pass over the nodes and one over the relationships."""
    return cached_analysis(store, "referral_network", build_referral_network)


def build_referral_network(graph: Snapshot) -> ReferralNetwork:
    keep = {NodeKind.ORGANISATION, NodeKind.SERVICE, NodeKind.ACTIVITY}
    workers = set(link_workers(graph))
    nodes: list[NetworkNode] = [
        {"id": n, "name": name_of(graph, n), "kind": k.value}
        for n, k in graph.nodes(data="kind")
        if k in keep or n in workers
    ]
    ids = {n["id"] for n in nodes}
    edges = sorted(
        (u, k.value, v) for u, v, k in graph.edges(keys=True)
        if k in (RelType.REFERS_TO, RelType.PROVIDES, RelType.OFFERS) and u in ids and v in ids
    )
    return {"nodes": sorted(nodes, key=lambda n: n["id"]), "edges": edges}


def cell_routes(store: GraphStore, need: str, locality: str,
                max_hops: int = DEFAULT_MAX_HOPS) -> list[CellRoute]:
    """The activities of one coverage cell, each with the shortest route to it from a link
    worker covering the locality (None when none of them reaches it).

    Read from the gap report for ``max_hops`` (the one the Gaps page shows, cached per data
    version), so a click on a cell computes only that cell's routes, once per version."""
    return cached_analysis(store, ("cell", need, locality, max_hops),
                           functools.partial(_cell_routes, store, need=need, locality=locality,
                                             max_hops=max_hops))


def _cell_routes(store: GraphStore, graph: Snapshot, need: str, locality: str,
                 max_hops: int) -> list[CellRoute]:
    check_ids(graph, (locality,), NodeKind.LOCALITY, "locality")
    check_ids(graph, (need,), NodeKind.NEED, "need")
    report = gap_report(store, GapQuery(max_hops=max_hops))
    cell = next(c for c in report["coverage"] if c["need"] == need and c["locality"] == locality)
    return cell_route_rows(graph, cell, max_hops)


def cell_route_rows(graph: Snapshot, cell: Mapping, max_hops: int,
                    routes_on: Snapshot | None = None) -> list[CellRoute]:
    """A coverage cell's activities, each with its providers and the shortest route to it from
    the cell's link workers (by :func:`_route_order`), found on ``routes_on`` (a simulated
    graph, with the same nodes) or ``graph``."""
    routes = [best_paths_to(routes_on if routes_on is not None else graph, w, max_hops,
                            cell["activities"])
              for w in cell["link_workers"]]
    rows: list[CellRoute] = []
    for activity in cell["activities"]:
        options = [p[activity] for p in routes if activity in p]
        best = min(options, key=_route_order) if options else None
        rows.append({
            "id": activity, "name": name_of(graph, activity),
            "provider": "; ".join(name_of(graph, o) for o in providers(graph, activity)),
            "route": [i for _, i in best] if best else None,
            "route_names": " → ".join(n for n, _ in best) if best else "no route",
        })
    return rows


def _route_order(steps: tuple[Step, ...]) -> tuple[int, list[str], list[str]]:
    """Shorter routes first, then by names, then by ids."""
    return len(steps), [n for n, _ in steps], [i for _, i in steps]
