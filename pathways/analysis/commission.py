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
from typing import NamedTuple, TypedDict

from pathways.analysis.snapshot import (
    by_kind,
    cached_analysis,
    cached_snapshot,
    check_ids,
    of_kind,
    providers_of,
    rel_in,
    rel_out,
)
from pathways.gcpause import gc_paused
from pathways.graphs import Snapshot, node_names, per_snapshot
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


@per_snapshot
def _locality_centres(graph: Snapshot) -> dict[str, tuple[float, float] | None]:
    """``{locality id: its centre, or None}`` for every locality, once per snapshot."""
    return {p: _centre(graph, p) for p in by_kind(graph)[NodeKind.LOCALITY]}


def neighbours(graph: Snapshot, locality: str, radius_km: float = DEFAULT_RADIUS_KM,
               localities: list[str] | None = None) -> list[Neighbour]:
    """The localities neighbouring ``locality`` (see the module's docstring), nearest first.
    ``localities``: every locality id, when the caller already has them."""
    names, covered_by = node_names(graph), rel_in(graph, RelType.COVERS)
    centres = _locality_centres(graph)
    coverers = set(covered_by.get(locality, ()))
    here = _centre(graph, locality)
    found: list[Neighbour] = []
    for other in by_kind(graph)[NodeKind.LOCALITY] if localities is None else localities:
        if other == locality:
            continue
        shared = sorted({names[c] for c in covered_by.get(other, ()) if c in coverers})
        there = centres[other] if other in centres else _centre(graph, other)
        km = round(distance_km(here, there), 1) if here and there else None
        if shared or (km is not None and km <= radius_km):
            found.append({"id": other, "name": names[other], "shared_by": shared,
                          "distance_km": km})
    found.sort(key=lambda n: (n["distance_km"] is None, n["distance_km"] or 0.0, n["name"],
                              n["id"]))
    return found


class _Provider(NamedTuple):
    """An organisation providing a need in some locality (a need's index, below)."""

    id: str
    name: str
    places: frozenset[str]  # the localities of its activities addressing the need
    locality_names: list[str]  # their names, sorted
    activity_names: list[str]  # its activities' names, sorted
    activities: tuple[tuple[str, frozenset[str]], ...]  # (activity, its localities)


class _NeedIndex(NamedTuple):
    """What every cell of one need shares: activities serving the whole area, activities per
    locality, and each provider's localities and activities over all localities."""

    whole_area: int  # activities addressing the need that serve the whole area
    located: dict[str, list[str]]  # locality -> the other activities addressing it there
    providers: list[_Provider]  # more activities first, then by name, then id
    places: frozenset[str]  # every provider's localities


@per_snapshot
def _need_indexes(graph: Snapshot) -> dict[str, _NeedIndex]:
    """Each need's index, built on first use (filled in place; an index is never changed)."""
    return {}


def _need_index(graph: Snapshot, need: str) -> _NeedIndex:
    """One pass over the activities addressing ``need`` (at 100k ~28k, run by ~7k
    organisations), once per snapshot: a cell then only looks up its locality's activities
    and measures each provider's distance."""
    indexes = _need_indexes(graph)
    found = indexes.get(need)
    if found is not None:
        return found
    names, nodes = node_names(graph), graph._node  # type: ignore[attr-defined]
    located_in, offered_by = rel_out(graph, RelType.LOCATED_IN), providers_of(graph)
    centres = _locality_centres(graph)
    whole_area = 0
    located: dict[str, list[str]] = {}
    acts_of: dict[str, list[tuple[str, frozenset[str]]]] = {}  # organisation -> activities
    for activity in rel_in(graph, RelType.ADDRESSES).get(need, ()):
        attrs = nodes[activity]
        if attrs["kind"] != NodeKind.ACTIVITY:
            continue
        if serves_whole_area(attrs["props"]):
            whole_area += 1
            continue
        places = frozenset(p for p in located_in.get(activity, ()) if p in centres)
        if not places:
            continue
        for place in places:
            located.setdefault(place, []).append(activity)
        for org in offered_by.get(activity, ()):
            acts_of.setdefault(org, []).append((activity, places))
    providers = []
    for org, acts in acts_of.items():
        places = frozenset().union(*(p for _, p in acts))
        providers.append(_Provider(
            org, names[org], places, sorted([names[p] for p in places]),
            sorted([names[a] for a in {a for a, _ in acts}]), tuple(acts)))
    # in the answer's order after distance (more activities first, then name, id): a cell
    # whose providers lose nothing here only sorts them by distance, a stable sort
    providers.sort(key=lambda p: (-len(p.activity_names), p.name, p.id))
    found = indexes[need] = _NeedIndex(whole_area, located, providers,
                                       frozenset().union(*(p.places for p in providers)))
    return found


def elsewhere(graph: Snapshot, need: str, locality: str, radius_km: float = DEFAULT_RADIUS_KM,
              near: list[Neighbour] | None = None) -> Elsewhere:
    """:func:`providers_elsewhere` on a snapshot (``near``: the locality's neighbours, when
    the caller already has them).

    Reads the need's index (:func:`_need_index`, once per snapshot and need), so the red
    cells of one need cost about one pass over its activities, not one each: a cell's
    activities (here, so not "elsewhere") are taken out of the providers that run them, and
    each provider's distance is measured from this locality.  The lists of names in the
    answer are shared with the need's other cells (do not modify them)."""
    check_ids(graph, [need], NodeKind.NEED, "need")
    check_ids(graph, [locality], NodeKind.LOCALITY, "locality")
    if near is None:
        near = neighbours(graph, locality, radius_km)
    near_ids = {n["id"] for n in near}
    names = node_names(graph)
    index = _need_index(graph, need)
    here_acts = index.located.get(locality, ())
    here = _centre(graph, locality)
    # each locality's distance from here (once, not once per provider and place)
    away = {p: distance_km(here, c) for p, c in _locality_centres(graph).items()
            if here and c}
    providers: list[ElsewhereProvider] = []
    exact = locality in index.places  # some provider has activities here: what remains?
    remaining: set[str] = set()
    measured: dict[frozenset[str], tuple[bool, float | None]] = {}  # per set of localities
    changed = False  # a provider lost activities here: its place in the order may change
    for provider in index.providers:
        places, locality_names = provider.places, provider.locality_names
        activity_names = provider.activity_names
        if locality in places:  # without its activities here, which are not "elsewhere"
            acts = {a: p for a, p in provider.activities if locality not in p}
            if not acts:
                continue
            changed = True
            places = frozenset().union(*acts.values())
            locality_names = sorted([names[p] for p in places])
            activity_names = sorted([names[a] for a in acts])
        if exact:
            remaining.update(places)
        found = measured.get(places)
        if found is None:
            kms = [away[p] for p in places if p in away]
            found = measured[places] = (not near_ids.isdisjoint(places),
                                        round(min(kms), 1) if kms else None)
        providers.append({
            "id": provider.id, "name": provider.name,
            "localities": locality_names,
            "activities": activity_names,
            "neighbouring": found[0],
            "nearest_km": found[1],
        })
    if changed:
        providers.sort(key=lambda p: (not p["neighbouring"], p["nearest_km"] is None,
                                      p["nearest_km"] or 0.0, -len(p["activities"]), p["name"],
                                      p["id"]))
    else:  # already by activities, name and id: a stable sort by distance keeps that
        providers.sort(key=lambda p: (not p["neighbouring"], p["nearest_km"] is None,
                                      p["nearest_km"] or 0.0))
    # The opportunity for the Consortia page: this cell, plus the neighbouring localities where
    # someone already provides the need (so its card shows who could extend into this one).
    with_providers = remaining if exact else index.places
    places_query = [locality] + [n["id"] for n in near if n["id"] in with_providers]
    return {
        "need": need, "need_name": names[need],
        "locality": locality, "locality_name": names[locality],
        "provided_here": index.whole_area + len(here_acts), "neighbours": near,
        "providers": providers,
        "consortia_query": {"needs": [need], "places": places_query},
        "radius_km": radius_km,
    }


def providers_elsewhere(store: GraphStore, need: str, locality: str,
                        radius_km: float = DEFAULT_RADIUS_KM) -> Elsewhere:
    """Who provides ``need`` near or away from ``locality`` (ids), for commissioning it there.
    Computed once per data version and cell (with the cycle collector paused, as the other
    analyses are), and shared: callers must not modify the answer.

    Raises :class:`~pathways.errors.UnknownIdError` for an unknown need or locality."""
    return store.consistent(lambda: cached_analysis(
        store, ("providers_elsewhere", need, locality, radius_km),
        lambda graph: elsewhere(graph, need, locality, radius_km)))


def red_cells(store: GraphStore, coverage: list, radius_km: float = DEFAULT_RADIUS_KM
              ) -> list[Elsewhere]:
    """:func:`providers_elsewhere` for each cell of a gap report's coverage with nothing
    provided (``existing == 0``), in the report's order."""
    def read() -> list[Elsewhere]:
        graph = cached_snapshot(store)
        with gc_paused():  # millions of small objects; none in a cycle
            return compute(graph)

    def compute(graph: Snapshot) -> list[Elsewhere]:
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
