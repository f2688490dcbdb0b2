"""Map tiles for the Map page: which tile source to use, and whether it answers.

``PATHWAYS_MAP_TILES`` chooses: ``off`` (no tiles: points and areas on a plain background),
or a tile address with ``{z}``, ``{x}`` and ``{y}`` (default: OpenStreetMap's standard tiles,
an open source, credited on the map).  ``PATHWAYS_MAP_TILES_CREDIT`` is the credit shown for
a custom source.  Reachability is decided here, on the server, by fetching one tile (the
whole world at zoom 0) with a short timeout; the answer is kept for
:data:`RECHECK_SECONDS`, so a page view costs nothing and a map without internet says so
instead of failing silently in the browser.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass

import httpx

OSM_TILES = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
OSM_CREDIT = "© OpenStreetMap contributors"
TIMEOUT_SECONDS = 2.0
RECHECK_SECONDS = 600.0
_lock = threading.Lock()
_checked: dict[str, tuple[float, bool, str]] = {}  # url -> (when, reachable, why not)


@dataclass(frozen=True)
class Tiles:
    """What the page draws on: ``url`` None means a plain background; ``note`` says why in
    plain words when tiles are unavailable."""

    url: str | None
    credit: str
    note: str


def tile_source() -> Tiles:
    setting = os.environ.get("PATHWAYS_MAP_TILES", "").strip()
    if setting.lower() in ("off", "none", "no", "false", "0"):
        return Tiles(None, "", "Map tiles are off (PATHWAYS_MAP_TILES=off): points and areas "
                               "are drawn on a plain background.")
    url = setting or OSM_TILES
    if not (url.startswith(("https://", "http://")) and all(k in url for k in ("{z}", "{x}", "{y}"))):
        return Tiles(None, "", "Map tiles are unavailable: PATHWAYS_MAP_TILES is not a tile "
                               "address with {z}, {x} and {y}; drawn on a plain background.")
    credit = os.environ.get("PATHWAYS_MAP_TILES_CREDIT", "").strip() or (
        OSM_CREDIT if url == OSM_TILES else "")
    reachable, why = _reachable(url)
    if not reachable:
        return Tiles(None, "", f"Map tiles are unavailable ({why}): points and areas are drawn "
                               "on a plain background.")
    return Tiles(url, credit, "")


def _reachable(url: str) -> tuple[bool, str]:
    now = time.monotonic()
    with _lock:
        found = _checked.get(url)
        if found is not None and now - found[0] < RECHECK_SECONDS:
            return found[1], found[2]
    first = url.replace("{z}", "0").replace("{x}", "0").replace("{y}", "0")
    try:
        response = httpx.get(first, timeout=TIMEOUT_SECONDS, follow_redirects=True,
                             headers={"User-Agent": "ThrivingPathways/1 (map tile check)"})
        ok = response.status_code == 200 and response.headers.get(
            "content-type", "").startswith("image/")
        why = "" if ok else f"the tile server answered {response.status_code}"
    except httpx.HTTPError as exc:
        ok, why = False, f"the tile server could not be reached: {type(exc).__name__}"
    with _lock:
        _checked[url] = (time.monotonic(), ok, why)
    return ok, why
