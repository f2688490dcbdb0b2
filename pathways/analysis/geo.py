"""The map of assets and gaps by place (issue 17; ``docs/map.md``).

Written against the store interface, from the same whole-graph snapshot as the Gaps report,
so both stores draw the same map:

points
    Activities with coordinates that pass the filters (needs: any of; free only; access
    tags: all of; age; days), each coloured by a need it addresses (the first chosen need it
    addresses, else the first of its needs by name).
areas
    Localities shaded by the Gaps report's measure for one need: ``existing`` activities for
    the need there (or serving the whole area), and how many of them ``reachable`` by a link
    worker covering the locality; ``level`` 0 nothing provided, 1 provided but no one refers
    to it, 2 under half reachable, 3 half or more (the heatmap's categories).
clusters
    Beyond :data:`MAX_MAP_ELEMENTS` elements (points and areas together, the network views'
    rule) the points are aggregated: by the locality they are in (at its centre, when it has
    one), the rest on a grid made coarser until everything fits.

Results are cached per store version and query.  Nothing here trusts ids from a browser:
unknown ids raise :class:`~pathways.errors.UnknownIdError`.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any, TypedDict

from pathways.analysis.gaps import CoverageCell, GapQuery, gap_report
from pathways.analysis.snapshot import (
    cached_analysis,
    name_of,
    of_kind,
    providers,
    targets,
)
from pathways.errors import PathwaysError, UnknownIdError
from pathways.graphs import Snapshot, best_paths_to
from pathways.model import (
    DAY_CODES,
    DEFAULT_MAX_HOPS,
    NodeKind,
    RelType,
    serves_whole_area,
    sessions_of,
)
from pathways.spreadsheet import excel_safe
from pathways.store.base import GraphStore

#: the most elements (points, clusters and areas) sent to the browser: the network views'
#: limit (pathways/reports/network_views.py MAX_ELEMENTS), which a browser draws smoothly
MAX_MAP_ELEMENTS = 1500
LEVEL_TEXT = ("nothing provided", "provided, no one refers to it", "under half reachable",
              "half or more reachable")


@dataclass(frozen=True)
class MapQuery:
    """What the map shows: the point filters, and the need whose gaps shade the localities
    (``None``: the first need by name)."""

    needs: tuple[str, ...] = ()
    free_only: bool = False
    access: tuple[str, ...] = ()
    age: int | None = None
    days: tuple[str, ...] = ()
    shade_need: str | None = None
    max_hops: int = DEFAULT_MAX_HOPS
    max_elements: int = MAX_MAP_ELEMENTS


class MapPoint(TypedDict):
    id: str
    name: str
    latitude: float
    longitude: float
    need: str  # the need it is coloured by ('' when it addresses none)
    needs: list[str]
    localities: list[str]
    provider: str


class MapCluster(TypedDict):
    id: str  # "locality:<id>" or "grid:<lat>:<lon>"
    latitude: float
    longitude: float
    count: int
    need: str  # the need most of its activities are coloured by
    locality: str  # the locality it stands for ('' for a grid cell)


class MapArea(TypedDict):
    id: str
    name: str
    latitude: float | None
    longitude: float | None
    existing: int
    reachable: int
    level: int
    boundary: dict | None  # its GeoJSON Polygon or MultiPolygon, when the data gives one


class MapData(TypedDict):
    points: list[MapPoint]  # empty when aggregated
    clusters: list[MapCluster]  # empty when not aggregated
    areas: list[MapArea]  # every locality, with or without a centre
    aggregated: bool
    matching: int  # activities passing the filters (with or without coordinates)
    without_coordinates: int  # of which have no coordinates (and are not drawn)
    shade_need: str
    names: dict[str, str]  # need and locality ids -> names


def _short(node_id: str, limit: int = 60) -> str:
    """An id as an error message repeats it: a forged 5,000-character id is not echoed."""
    return node_id if len(node_id) <= limit else node_id[:limit] + "…"


def gap_level(existing: int, reachable: int) -> int:
    """The Gaps heatmap's category of a cell.

    >>> [gap_level(0, 0), gap_level(3, 0), gap_level(3, 1), gap_level(2, 1)]
    [0, 1, 2, 3]
    """
    if existing == 0:
        return 0
    if reachable == 0:
        return 1
    return 2 if reachable / existing < 0.5 else 3


def coordinates(props: dict) -> tuple[float, float] | None:
    lat, lon = props.get("latitude"), props.get("longitude")
    numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in (lat, lon))
    if numbers and -90 <= lat <= 90 and -180 <= lon <= 180:  # type: ignore[operator]
        return float(lat), float(lon)  # type: ignore[arg-type]
    return None


def boundary_of(props: dict) -> dict | None:
    """A locality's boundary geometry (stored as compact GeoJSON text by the loaders)."""
    text = props.get("boundary")
    if not isinstance(text, str) or not text.startswith("{"):
        return None
    try:
        geometry = json.loads(text)
    except ValueError:
        return None
    return geometry if isinstance(geometry, dict) else None


@dataclass(frozen=True)
class _Activity:
    """What the map's filters and points read of one activity, once per data version."""

    id: str
    name: str
    where: tuple[float, float] | None
    needs: tuple[str, ...]  # in the needs' order (by name)
    localities: tuple[str, ...]
    whole_area: bool
    free: bool
    access: frozenset[str]
    age_min: int | None
    age_max: int | None
    days: frozenset[str] | None  # None: no sessions known ("schedule unknown")


def _activities(graph: Snapshot) -> list[_Activity]:
    order = {n: i for i, n in enumerate(of_kind(graph, NodeKind.NEED))}
    table = []
    for activity in of_kind(graph, NodeKind.ACTIVITY):
        props = graph.nodes[activity]["props"]
        sessions = sessions_of(props)
        table.append(_Activity(
            activity, props["name"], coordinates(props),
            tuple(sorted(targets(graph, activity, RelType.ADDRESSES), key=order.__getitem__)),
            tuple(sorted(targets(graph, activity, RelType.LOCATED_IN))),
            serves_whole_area(props), props.get("free") is True,
            frozenset(props.get("accessibility") or ()), props.get("age_min"),
            props.get("age_max"), frozenset(s.day for s in sessions) if sessions else None))
    return table


def map_activities(store: GraphStore) -> list[_Activity]:
    """Every activity as the map reads it (sorted by name), cached per data version: a
    filter then costs one pass over this list, not over the graph."""
    return cached_analysis(store, "map-activities", _activities)


def _fits(item: _Activity, query: MapQuery, days: set[str]) -> bool:
    """The Pathways page's rules (:class:`pathways.store.base.PathwayFilter`) for the filters
    the map offers; a day matches an activity with a session that day, or with no sessions
    known ("schedule unknown", as on the Pathways page)."""
    if query.free_only and not item.free:
        return False
    if query.access and not item.access.issuperset(query.access):
        return False
    if query.needs and not set(query.needs).intersection(item.needs):
        return False
    if query.age is not None and (
            (item.age_min is not None and query.age < item.age_min)
            or (item.age_max is not None and query.age > item.age_max)):
        return False
    return not (days and item.days is not None and not days & item.days)


def _check(graph: Snapshot, query: MapQuery) -> str:
    """The need that shades the localities; unknown needs or days are refused."""
    wanted = [*query.needs, *([query.shade_need] if query.shade_need is not None else [])]
    for need in wanted:
        if need not in graph or graph.nodes[need]["kind"] != NodeKind.NEED:
            raise UnknownIdError(_short(need), "need")
    for day in query.days:
        if day not in DAY_CODES:
            raise PathwaysError(f"{_short(day)!r} is not a day code ({', '.join(DAY_CODES)})")
    if query.shade_need is not None:
        return query.shade_need
    needs = of_kind(graph, NodeKind.NEED)
    return needs[0] if needs else ""


def map_coverage(store: GraphStore, max_hops: int = DEFAULT_MAX_HOPS) -> list[CoverageCell]:
    """The Gaps report's coverage cells (every need × locality): the report itself, which
    the app's Warmer computes after each load (pathways/analysis/warm.py), so the map shares
    that one computation instead of repeating it."""
    return gap_report(store, GapQuery(max_hops=max_hops))["coverage"]


def map_data(store: GraphStore, query: MapQuery | None = None) -> MapData:
    """Points (or clusters) and shaded localities for ``query``; cached per data version."""
    query = MapQuery() if query is None else query
    cells = map_coverage(store, query.max_hops)
    table = map_activities(store)
    return cached_analysis(store, ("map", query),
                           lambda graph: build_map(graph, query, cells, table))


def build_map(graph: Snapshot, query: MapQuery, cells: list[CoverageCell],
              table: list[_Activity]) -> MapData:
    shade = _check(graph, query)
    order = {n: i for i, n in enumerate(of_kind(graph, NodeKind.NEED))}
    chosen = sorted(query.needs, key=order.__getitem__)
    days = set(query.days)
    points: list[MapPoint] = []
    matching = 0
    for item in table:
        if not _fits(item, query, days):
            continue
        matching += 1
        if item.where is None:
            continue
        needs = item.needs
        colour = next((n for n in chosen if n in needs), needs[0] if needs else "")
        points.append({
            "id": item.id, "name": item.name, "latitude": item.where[0],
            "longitude": item.where[1], "need": colour, "needs": list(needs),
            "localities": list(item.localities), "provider": "",
        })
    areas = _areas(graph, shade, cells)
    data: MapData = {
        "points": points, "clusters": [], "areas": areas, "aggregated": False,
        "matching": matching, "without_coordinates": matching - len(points),
        "shade_need": shade,
        "names": {n: name_of(graph, n) for n in [*order, *(a["id"] for a in areas)]},
    }
    if len(points) + len(areas) > query.max_elements:
        budget = max(1, query.max_elements - len(areas))
        data["clusters"] = cluster_points(graph, points, budget)
        data["points"] = []
        data["aggregated"] = True
    else:  # providers' names only for points drawn one by one (and exports)
        for point in points:
            point["provider"] = "; ".join(name_of(graph, o)
                                          for o in providers(graph, point["id"]))
    return data


def _areas(graph: Snapshot, shade: str, coverage_cells: list[CoverageCell]) -> list[MapArea]:
    cells = {c["locality"]: c for c in coverage_cells if c["need"] == shade}
    areas: list[MapArea] = []
    for place in of_kind(graph, NodeKind.LOCALITY):
        where = coordinates(graph.nodes[place]["props"])
        cell = cells.get(place)
        existing, reached = (cell["existing"], cell["reachable"]) if cell else (0, 0)
        areas.append({"id": place, "name": name_of(graph, place),
                      "latitude": where[0] if where else None,
                      "longitude": where[1] if where else None,
                      "existing": existing, "reachable": reached,
                      "level": gap_level(existing, reached),
                      "boundary": boundary_of(graph.nodes[place]["props"])})
    return areas


def cluster_points(graph: Snapshot, points: list[MapPoint], budget: int) -> list[MapCluster]:
    """At most ``budget`` clusters: the points in a locality with a centre gather there;
    the rest on a grid of cells made twice as coarse until the total fits (everything on
    the grid when the localities alone would take more than half the budget)."""
    by_place: dict[str, list[MapPoint]] = defaultdict(list)
    loose: list[MapPoint] = []
    for point in points:
        place = next((p for p in point["localities"]
                      if coordinates(graph.nodes[p]["props"]) is not None), None)
        if place is None:
            loose.append(point)
        else:
            by_place[place].append(point)
    if len(by_place) > budget // 2:  # more localities than fit: the grid takes everything
        loose, by_place = points, {}
    clusters: list[MapCluster] = []
    for place, members in sorted(by_place.items()):
        lat, lon = coordinates(graph.nodes[place]["props"]) or (0.0, 0.0)
        clusters.append(_cluster(f"locality:{place}", lat, lon, members, place))
    cell = 0.01  # degrees, about a kilometre
    while True:
        grid: dict[tuple[int, int], list[MapPoint]] = defaultdict(list)
        for point in loose:
            grid[(math.floor(point["latitude"] / cell),
                  math.floor(point["longitude"] / cell))].append(point)
        if len(clusters) + len(grid) <= budget or cell >= 360:
            break
        cell *= 2
    for (row, col), members in sorted(grid.items()):
        lat = sum(p["latitude"] for p in members) / len(members)
        lon = sum(p["longitude"] for p in members) / len(members)
        clusters.append(_cluster(f"grid:{row}:{col}:{cell:g}", lat, lon, members, ""))
    return clusters


def _cluster(cid: str, lat: float, lon: float, members: list[MapPoint],
             place: str) -> MapCluster:
    need = Counter(p["need"] for p in members).most_common(1)[0][0]
    return {"id": cid, "latitude": lat, "longitude": lon, "count": len(members),
            "need": need, "locality": place}


# --------------------------------------------------------------------------- clicks


class PlaceActivity(TypedDict):
    id: str
    name: str
    provider: str
    needs: str
    whole_area: bool


class PlaceGap(TypedDict):
    need: str
    existing: int
    reachable: int
    status: str


class PlaceDetail(TypedDict):
    id: str
    name: str
    activities: list[PlaceActivity]
    gaps: list[PlaceGap]  # needs with nothing provided, or nothing reachable


def place_detail(store: GraphStore, locality: str, query: MapQuery | None = None) -> PlaceDetail:
    """A locality's activities passing the filters (located there, or serving the whole
    area) and its gaps (every need with nothing provided or nothing reachable there)."""
    query = MapQuery() if query is None else query
    cells = map_coverage(store, query.max_hops)
    table = map_activities(store)

    def build(graph: Snapshot) -> PlaceDetail:
        if locality not in graph or graph.nodes[locality]["kind"] != NodeKind.LOCALITY:
            raise UnknownIdError(_short(locality), "locality")
        _check(graph, query)
        days = set(query.days)
        found: list[PlaceActivity] = []
        for item in table:
            if not item.whole_area and locality not in item.localities:
                continue
            if not _fits(item, query, days):
                continue
            found.append({"id": item.id, "name": item.name,
                          "provider": "; ".join(name_of(graph, o)
                                                for o in providers(graph, item.id)),
                          "needs": "; ".join(sorted(name_of(graph, n) for n in item.needs)),
                          "whole_area": item.whole_area})
        gaps: list[PlaceGap] = []
        for cell in cells:
            if cell["locality"] == locality and cell["reachable"] == 0:
                level = gap_level(cell["existing"], cell["reachable"])
                gaps.append({"need": name_of(graph, cell["need"]), "existing": cell["existing"],
                             "reachable": 0, "status": LEVEL_TEXT[level]})
        found.sort(key=lambda a: (a["whole_area"], a["name"], a["id"]))
        return {"id": locality, "name": name_of(graph, locality), "activities": found,
                "gaps": gaps}

    return cached_analysis(store, ("map-place", locality, query), build)


class PointDetail(TypedDict):
    id: str
    name: str
    description: str
    provider: str
    venue: str
    schedule: str
    cost: str
    needs: str
    localities: str
    latitude: float | None
    longitude: float | None
    worker: str  # the link worker's name ('' when none chosen)
    route: list[str] | None  # names from the link worker to the activity; None: no route


def point_detail(store: GraphStore, activity: str, worker: str | None = None,
                 max_hops: int = DEFAULT_MAX_HOPS) -> PointDetail:
    """An activity's details and, for a chosen link worker, its shortest route to it."""
    def build(graph: Snapshot) -> PointDetail:
        # not check_ids: its message lists every known id, 100k of them for activities
        if activity not in graph or graph.nodes[activity]["kind"] != NodeKind.ACTIVITY:
            raise UnknownIdError(_short(activity), "activity")
        if worker is not None and (
                worker not in graph or graph.nodes[worker]["kind"] != NodeKind.PERSON
                or graph.nodes[worker]["props"].get("role") != "link_worker"):
            raise UnknownIdError(_short(worker), "link worker")
        props = graph.nodes[activity]["props"]
        where = coordinates(props)
        route = None
        if worker is not None:
            found = best_paths_to(graph, worker, max_hops, [activity]).get(activity)
            route = [name for name, _ in found] if found else None
        cost = "free" if props.get("free") is True else str(props.get("cost") or "not given")
        return {
            "id": activity, "name": props["name"],
            "description": str(props.get("description") or ""),
            "provider": "; ".join(name_of(graph, o) for o in providers(graph, activity)),
            "venue": str(props.get("venue") or ""),
            "schedule": str(props.get("schedule") or ""),
            "cost": cost,
            "needs": "; ".join(sorted(name_of(graph, n)
                                      for n in targets(graph, activity, RelType.ADDRESSES))),
            "localities": "the whole area" if serves_whole_area(props) else "; ".join(
                sorted(name_of(graph, p) for p in targets(graph, activity, RelType.LOCATED_IN))),
            "latitude": where[0] if where else None, "longitude": where[1] if where else None,
            "worker": name_of(graph, worker) if worker is not None else "",
            "route": route,
        }

    return cached_analysis(store, ("map-point", activity, worker, max_hops), build)


# --------------------------------------------------------------------------- exports

EXPORT_COLUMNS = ["id", "name", "provider", "needs", "localities", "latitude", "longitude"]


def export_rows(store: GraphStore, query: MapQuery) -> list[dict[str, Any]]:
    """Every activity with coordinates passing the filters (never aggregated), one row each,
    Excel-safe: for the CSV download."""
    data = map_data(store, dataclasses.replace(query, max_elements=10**9))
    names = data["names"]
    return [{
        "id": excel_safe(p["id"]), "name": excel_safe(p["name"]),
        "provider": excel_safe(p["provider"]),
        "needs": excel_safe("; ".join(names.get(n, n) for n in p["needs"])),
        "localities": excel_safe("; ".join(names.get(x, x) for x in p["localities"])),
        "latitude": p["latitude"], "longitude": p["longitude"],
    } for p in data["points"]]


def export_geojson(store: GraphStore, query: MapQuery) -> dict[str, Any]:
    """The same points as a GeoJSON FeatureCollection (RFC 7946: longitude first), then the
    localities with a boundary, shaded as on the map (``kind`` tells them apart)."""
    data = map_data(store, dataclasses.replace(query, max_elements=10**9))
    names = data["names"]
    points = [{
        "type": "Feature", "id": p["id"],
        "geometry": {"type": "Point", "coordinates": [p["longitude"], p["latitude"]]},
        "properties": {"kind": "activity", "name": p["name"], "provider": p["provider"],
                       "needs": [names.get(n, n) for n in p["needs"]],
                       "localities": [names.get(x, x) for x in p["localities"]]},
    } for p in data["points"]]
    shade = names.get(data["shade_need"], "")
    areas = [{
        "type": "Feature", "id": a["id"], "geometry": a["boundary"],
        "properties": {"kind": "locality", "name": a["name"], "need": shade,
                       "existing": a["existing"], "reachable": a["reachable"],
                       "status": LEVEL_TEXT[a["level"]]},
    } for a in data["areas"] if a["boundary"] is not None]
    return {"type": "FeatureCollection", "features": points + areas}
