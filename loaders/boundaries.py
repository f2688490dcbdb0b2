"""Locality boundaries: the GeoJSON files a ``boundary`` column of ``localities.csv`` names
(see ``docs/map.md``).

A cell names a file relative to the folder of the CSV or workbook (``boundaries/hx7.geojson``;
no absolute paths, no ``..``).  The file holds one Polygon or MultiPolygon: a bare geometry, a
Feature, or a FeatureCollection with one feature.  :func:`read_boundaries` reads each file
named in a table and puts its geometry, as compact GeoJSON text, in the cell; a file that
cannot be right refuses its row (file, row, column ``boundary``, reason): missing, too large,
not JSON, not a polygon, rings not closed, coordinates out of range or given latitude first
(GeoJSON gives longitude first), too many positions.  :func:`geometry_of` checks that text
again when the row is validated, so the store only ever holds a checked geometry.
"""

from __future__ import annotations

import itertools
import math
from pathlib import Path
from typing import Any

import orjson

from loaders.limits import MB
from pathways.errors import Problem

#: the most positions (corners) a boundary may have: a ward's detailed outline has a few
#: thousand; more makes every map draw slow for nothing a link worker can see
MAX_POSITIONS = 20_000
#: the largest boundary file read (20,000 positions as pretty-printed GeoJSON are ~1.5 MB)
MAX_FILE_MB = 5
COLUMN = "boundary"
_SHAPES = ("Polygon", "MultiPolygon")


def read_boundaries(raw: Any, folder: Path) -> None:
    """Replace each ``boundary`` cell of ``raw`` (a :class:`loaders.files.RawRows` of
    localities) by the checked geometry of the file it names; a bad file becomes a problem
    in ``raw.problems`` that refuses its row."""
    if COLUMN not in raw.header:
        return
    index = raw.header.index(COLUMN)
    base = folder.resolve()
    for number, values in raw.rows:
        name = values[index].strip() if index < len(values) else ""
        if not name:
            continue
        try:
            values[index] = compact(geometry_of(_read(base, name)))
        except ValueError as exc:
            raw.problems.append(Problem(raw.file, number, COLUMN, f"{name!r}: {exc}"))
            values[index] = ""


def _read(base: Path, name: str) -> str:
    given = Path(name)
    if given.is_absolute() or ".." in given.parts:
        raise ValueError("name the file relative to the Living Database's folder "
                         "(no absolute path, no '..')")
    path = (base / given).resolve()
    if not path.is_relative_to(base):
        raise ValueError("the file is outside the Living Database's folder")
    if not path.is_file():
        raise ValueError("no such file beside the Living Database's files (boundary files "
                         "are read from the same folder; a Data page upload cannot carry them)")
    size = path.stat().st_size
    if size > MAX_FILE_MB * MB:
        raise ValueError(f"the file is {size / MB:.1f} MB, more than the {MAX_FILE_MB} MB limit "
                         "for a boundary (simplify the outline)")
    return path.read_text(encoding="utf-8-sig", errors="replace")


def geometry_of(text: str) -> dict:
    """The one Polygon or MultiPolygon in GeoJSON ``text``; ``ValueError`` with a plain reason.

    >>> geometry_of('{"type": "Polygon", "coordinates": [[[-1.9, 53.7], [-1.8, 53.7], '
    ...             '[-1.8, 53.8], [-1.9, 53.7]]]}')["type"]
    'Polygon'
    """
    try:
        data = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise ValueError(f"is not GeoJSON: not valid JSON ({exc})") from None
    if isinstance(data, dict) and data.get("type") == "FeatureCollection":
        features = data.get("features")
        if not isinstance(features, list) or len(features) != 1:
            count = len(features) if isinstance(features, list) else 0
            raise ValueError(f"has {count} features; a boundary file holds exactly one")
        data = features[0]
    if isinstance(data, dict) and data.get("type") == "Feature":
        data = data.get("geometry")
    kind = data.get("type") if isinstance(data, dict) else None
    if kind not in _SHAPES:
        raise ValueError(f"is a {kind or 'file without a geometry'}, not a Polygon or "
                         "MultiPolygon")
    coords = data.get("coordinates")
    polygons = [coords] if kind == "Polygon" else coords
    if not isinstance(polygons, list) or not polygons:
        raise ValueError(f"the {kind} has no coordinates")
    count = 0
    for polygon in polygons:
        if not isinstance(polygon, list) or not polygon:
            raise ValueError("a polygon has no rings")
        for ring in polygon:
            count += _check_ring(ring)
            if count > MAX_POSITIONS:
                raise ValueError(f"has more than {MAX_POSITIONS:,} positions; simplify the "
                                 "outline (e.g. mapshaper's -simplify)")
    return {"type": kind, "coordinates": coords}


def _check_ring(ring: Any) -> int:
    if not isinstance(ring, list) or len(ring) < 4:
        raise ValueError("a ring has fewer than 4 positions (a closed ring repeats its first)")
    for position in ring:
        if (not isinstance(position, list) or len(position) not in (2, 3)
                or not all(isinstance(v, int | float) and not isinstance(v, bool)
                           and math.isfinite(v) for v in position)):
            raise ValueError(f"{_shown(position)} is not a position [longitude, latitude]")
        lon, lat = position[0], position[1]
        if abs(lat) > 90 or abs(lon) > 180:
            if abs(lon) <= 90 and abs(lat) <= 180:
                raise ValueError(f"{_shown(position)} looks swapped: GeoJSON gives longitude "
                                 "first, then latitude")
            raise ValueError(f"{_shown(position)} is out of range (longitude -180..180, "
                             "latitude -90..90)")
    if ring[0][:2] != ring[-1][:2]:
        raise ValueError("a ring is not closed (its last position must repeat its first)")
    return len(ring)


def _shown(value: Any) -> str:
    text = orjson.dumps(value, default=str).decode()
    return text if len(text) <= 40 else text[:40] + "…"


def compact(geometry: dict) -> str:
    """Geometry as the store keeps it: compact GeoJSON text (Neo4j holds no maps)."""
    return orjson.dumps(geometry).decode()


def centre_of(geometry: dict) -> tuple[float, float]:
    """(latitude, longitude): the area-weighted centroid of the largest polygon's outer ring
    (its first position when the ring has no area).

    >>> centre_of({"type": "Polygon", "coordinates": [[[0, 0], [2, 0], [2, 2], [0, 2], [0, 0]]]})
    (1.0, 1.0)
    """
    rings = ([geometry["coordinates"][0]] if geometry["type"] == "Polygon"
             else [p[0] for p in geometry["coordinates"]])
    best: tuple[float, float, float] | None = None
    for ring in rings:
        area = cx = cy = 0.0
        for (x0, y0, *_), (x1, y1, *_) in itertools.pairwise(ring):
            cross = x0 * y1 - x1 * y0
            area += cross
            cx += (x0 + x1) * cross
            cy += (y0 + y1) * cross
        if best is None or abs(area) > best[0]:
            best = ((abs(area), cy / (3 * area), cx / (3 * area)) if area
                    else (0.0, float(ring[0][1]), float(ring[0][0])))
    assert best is not None
    return round(best[1], 6), round(best[2], 6)
