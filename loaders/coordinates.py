"""Coordinates in the Living Database: reading degrees and refusing points that cannot be
right (see ``docs/map.md``).

A cell of a ``latitude`` or ``longitude`` column is WGS84 decimal degrees (``53.7248``,
``-1.86``).  A row is refused, with file, row, column and reason, when:

- a value is not a number, or out of range (latitude -90..90, longitude -180..180);
- it gives one of latitude and longitude without the other;
- the point is far outside the partnership's area: more than :data:`FAR_KM` from every
  locality centre known (this load's and the store's).  When the point would be near with
  latitude and longitude the other way round, the reason says they look swapped.

With no locality centres yet, only the first two checks apply (there is no area to be far
from).  Pure: no files, no store.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

#: a point further than this from every locality centre is "far outside the area": the
#: margin is wide (a borough is ~30 km across) so that a venue just over a boundary loads
FAR_KM = 60.0
_EARTH_KM = 6371.0088
_LIMITS = {"latitude": 90.0, "longitude": 180.0}


def parse_degrees(text: str, axis: str) -> float:
    """A cell's degrees as a float; raise ``ValueError`` with a plain reason.

    >>> parse_degrees(" 53.7248 ", "latitude"), parse_degrees("-1.86", "longitude")
    (53.7248, -1.86)
    """
    value = text.strip()
    try:
        degrees = float(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a number of degrees (e.g. 53.7248)") from None
    digits = value.replace(".", "", 1).lstrip("+-")
    if not math.isfinite(degrees) or not (digits.isascii() and digits.isdigit()):
        raise ValueError(f"{value!r} is not a number of degrees (e.g. 53.7248)")
    limit = _LIMITS[axis]
    if abs(degrees) > limit:
        raise ValueError(f"{value} is out of range: a {axis} is between -{limit:g} and {limit:g}")
    return degrees


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine).

    >>> round(distance_km(53.7248, -1.86, 53.7135, -2.097))
    16
    """
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * _EARTH_KM * math.asin(min(1.0, math.sqrt(h)))


def centres_of(localities: Iterable[Mapping]) -> list[tuple[float, float]]:
    """The (latitude, longitude) of each locality that has both."""
    found = []
    for place in localities:
        lat, lon = place.get("latitude"), place.get("longitude")
        if isinstance(lat, int | float) and isinstance(lon, int | float):
            found.append((float(lat), float(lon)))
    return found


def point_problem(values: Mapping, centres: list[tuple[float, float]]) -> tuple[str, str] | None:
    """``(column, reason)`` when a row's typed ``latitude``/``longitude`` cannot be right;
    ``None`` when they are fine or absent."""
    lat, lon = values.get("latitude"), values.get("longitude")
    if lat is None and lon is None:
        return None
    if lat is None:
        return "latitude", "is blank but longitude is given: give both or neither"
    if lon is None:
        return "longitude", "is blank but latitude is given: give both or neither"
    if not centres:
        return None
    nearest = min(distance_km(lat, lon, c_lat, c_lon) for c_lat, c_lon in centres)
    if nearest <= FAR_KM:
        return None
    if abs(lon) <= 90 and min(distance_km(lon, lat, c_lat, c_lon)
                              for c_lat, c_lon in centres) <= FAR_KM:
        return "latitude", (f"{lat:g}, {lon:g} look swapped: latitude (north) and longitude "
                            f"(east) the other way round are in the partnership's area")
    return "latitude", (f"{lat:g}, {lon:g} is {nearest:,.0f} km from the nearest locality "
                        f"centre, far outside the partnership's area (more than {FAR_KM:g} km)")
