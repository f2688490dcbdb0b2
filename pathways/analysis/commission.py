"""From a red cell to a commission: who could provide a need in a locality that has none?

A *red cell* of the gap report is a need × locality with nothing provided (no activity that
addresses the need is located there or serves the whole area).  For such a cell,
:func:`providers_elsewhere` lists the organisations that already provide the need in other
localities, nearest first, and the Consortia page's address for the opportunity.

Two localities are **neighbouring** when any of these holds (each reason is reported):

* a link worker or an organisation ``COVERS`` both (they already share a workforce or a
  service area: the cheapest place to extend from);
* both centres have coordinates (``latitude``/``longitude`` on the locality) and lie within
  ``radius_km`` of each other (great-circle distance; 10 km by default, about a bus ride
  between neighbouring towns).  Localities without coordinates are never "near" by distance.

A provider *serves the need elsewhere* when an activity it offers (organisation -PROVIDES->
service -OFFERS-> activity) addresses the need and is located in another locality.
Activities serving the whole area are not "elsewhere": they already count in every cell.
Providers are ranked: those in a neighbouring locality first, then by distance to the nearest
of their localities (unknown last), then by how many such activities they run, then name.

Computed on the whole-graph snapshot, so both stores give the same answer.
"""

from __future__ import annotations

import math
from typing import TypedDict

from pathways.analysis.snapshot import (
    cached_snapshot,
    check_ids,
    name_of,
    of_kind,
    sources,
    targets,
)
from pathways.graphs import Snapshot
from pathways.model import NodeKind, RelType, serves_whole_area
from pathways.store.base import GraphStore

DEFAULT_RADIUS_KM = 10.0
_EARTH_KM = 6371.0088


class Neighbour(TypedDict):
    id: str
    name: str
    shared_by: list[str]  # names of link workers / organisations covering both
    distance_km: float | None  # between centres, when both have coordinates


class ElsewhereProvider(TypedDict):
    id: str
    name: str
    localities: list[str]  # names of the other localities where it provides the need
    activities: list[str]  # names of those activities
    neighbouring: bool  # provides it in a neighbouring locality
    nearest_km: float | None


class Elsewhere(TypedDict):
    need: str
    need_name: str
    locality: str
    locality_name: str
    provided_here: int  # activities addressing the need here (0 for a red cell)
    neighbours: list[Neighbour]
    providers: list[ElsewhereProvider]
    consortia_query: dict[str, list[str]]  # the Consortia page's address state
    radius_km: float


def _centre(graph: Snapshot, node: str) -> tuple[float, float] | None:
    props = graph.nodes[node]["props"]
    lat, lon = props.get("latitude"), props.get("longitude")
    if isinstance(lat, bool) or isinstance(lon, bool):
        return None
    if isinstance(lat, int | float) and isinstance(lon, int | float) \
            and -90 <= lat <= 90 and -180 <= lon <= 180:
        return float(lat), float(lon)
    return None


def distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance (haversine).

    >>> round(distance_km((53.7140, -2.0970), (53.7425, -2.0125)), 1)  # Todmorden–Hebden Bridge
    6.4
    """
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (math.sin((lat2 - lat1) / 2) ** 2
         + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2)
    return 2 * _EARTH_KM * math.asin(min(1.0, math.sqrt(h)))


def neighbours(graph: Snapshot, locality: str, radius_km: float = DEFAULT_RADIUS_KM,
               localities: list[str] | None = None) -> list[Neighbour]:
    """The localities neighbouring ``locality`` (see the module's docstring), nearest first.
    ``localities``: every locality id, when the caller already has them."""
    coverers = set(sources(graph, locality, RelType.COVERS))
    here = _centre(graph, locality)
    found: list[Neighbour] = []
    for other in of_kind(graph, NodeKind.LOCALITY) if localities is None else localities:
        if other == locality:
            continue
        shared = sorted({name_of(graph, c) for c in sources(graph, other, RelType.COVERS)
                         if c in coverers})
        there = _centre(graph, other)
        km = round(distance_km(here, there), 1) if here and there else None
        if shared or (km is not None and km <= radius_km):
            found.append({"id": other, "name": name_of(graph, other), "shared_by": shared,
                          "distance_km": km})
    found.sort(key=lambda n: (n["distance_km"] is None, n["distance_km"] or 0.0, n["name"],
                              n["id"]))
    return found


def elsewhere(graph: Snapshot, need: str, locality: str, radius_km: float = DEFAULT_RADIUS_KM,
              near: list[Neighbour] | None = None) -> Elsewhere:
    """:func:`providers_elsewhere` on a snapshot (``near``: the locality's neighbours, when
    the caller already has them)."""
    check_ids(graph, [need], NodeKind.NEED, "need")
    check_ids(graph, [locality], NodeKind.LOCALITY, "locality")
    if near is None:
        near = neighbours(graph, locality, radius_km)
    near_ids = {n["id"] for n in near}
    here = _centre(graph, locality)
    provided_here = 0
    # organisation -> {locality ids}, {activity ids}
    places_of: dict[str, set[str]] = {}
    acts_of: dict[str, set[str]] = {}
    for activity in sources(graph, need, RelType.ADDRESSES):
        if graph.nodes[activity]["kind"] != NodeKind.ACTIVITY:
            continue
        places = set(targets(graph, activity, RelType.LOCATED_IN))
        if serves_whole_area(graph.nodes[activity]["props"]) or locality in places:
            provided_here += 1
            continue
        places = {p for p in places if graph.nodes[p]["kind"] == NodeKind.LOCALITY}
        if not places:
            continue
        for service in sources(graph, activity, RelType.OFFERS):
            for org in sources(graph, service, RelType.PROVIDES):
                places_of.setdefault(org, set()).update(places)
                acts_of.setdefault(org, set()).add(activity)
    providers: list[ElsewhereProvider] = []
    for org, places in places_of.items():
        kms = [distance_km(here, c) for p in places if here and (c := _centre(graph, p))]
        providers.append({
            "id": org, "name": name_of(graph, org),
            "localities": sorted(name_of(graph, p) for p in places),
            "activities": sorted(name_of(graph, a) for a in acts_of[org]),
            "neighbouring": bool(places & near_ids),
            "nearest_km": round(min(kms), 1) if kms else None,
        })
    providers.sort(key=lambda p: (not p["neighbouring"], p["nearest_km"] is None,
                                  p["nearest_km"] or 0.0, -len(p["activities"]), p["name"],
                                  p["id"]))
    # The opportunity for the Consortia page: this cell, plus the neighbouring localities where
    # someone already provides the need (so its card shows who could extend into this one).
    with_providers = {p for org, places in places_of.items() for p in places}
    places_query = [locality] + [n["id"] for n in near if n["id"] in with_providers]
    return {
        "need": need, "need_name": name_of(graph, need),
        "locality": locality, "locality_name": name_of(graph, locality),
        "provided_here": provided_here, "neighbours": near, "providers": providers,
        "consortia_query": {"needs": [need], "places": places_query},
        "radius_km": radius_km,
    }


def providers_elsewhere(store: GraphStore, need: str, locality: str,
                        radius_km: float = DEFAULT_RADIUS_KM) -> Elsewhere:
    """Who provides ``need`` near or away from ``locality`` (ids), for commissioning it there.

    Raises :class:`~pathways.errors.UnknownIdError` for an unknown need or locality."""
    return store.consistent(lambda: elsewhere(cached_snapshot(store), need, locality, radius_km))


def red_cells(store: GraphStore, coverage: list, radius_km: float = DEFAULT_RADIUS_KM
              ) -> list[Elsewhere]:
    """:func:`providers_elsewhere` for each cell of a gap report's coverage with nothing
    provided (``existing == 0``), in the report's order."""
    def read() -> list[Elsewhere]:
        graph = cached_snapshot(store)
        red = [c for c in coverage if c["existing"] == 0]
        if not red:
            return []
        localities = of_kind(graph, NodeKind.LOCALITY)  # one scan, not one per cell
        near: dict[str, list[Neighbour]] = {}
        for c in red:
            if c["locality"] not in near:
                near[c["locality"]] = neighbours(graph, c["locality"], radius_km, localities)
        return [elsewhere(graph, c["need"], c["locality"], radius_km, near[c["locality"]])
                for c in red]

    return store.consistent(read)
