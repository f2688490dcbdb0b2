"""The Warmer (pathways/analysis/warm.py) also prepares the Map page's first view, so the first
visit after a load finds the map's activity table and default map computed (issue 17)."""

from __future__ import annotations

import pathways.analysis.geo as geo
from pathways.analysis.warm import Warmer
from pathways.loading import load_paths
from pathways.store.embedded import EmbeddedStore
from tests.conftest import load_data


def _counting(monkeypatch, name: str) -> list:
    calls: list = []
    real = getattr(geo, name)

    def wrapper(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(geo, name, wrapper)
    return calls


def test_the_warmer_prepares_the_map_page_for_each_new_version(demo_dir, monkeypatch):
    store = EmbeddedStore()
    load_paths(store, [demo_dir])
    tables = _counting(monkeypatch, "_activities")
    maps = _counting(monkeypatch, "build_map")
    warmer = Warmer(lambda: store)
    assert warmer.warm_once() is True
    assert len(tables) == 1 and len(maps) == 1
    # the page's first visit (its form's defaults: no filters) finds the map ready
    first = geo.map_data(store, geo.MapQuery())
    assert len(tables) == 1 and len(maps) == 1 and first["points"]
    geo.map_data(store, geo.MapQuery(free_only=True))  # a filter reuses the activity table
    assert len(tables) == 1 and len(maps) == 2
    load_data(store, {"activities": [{"id": "act-warm-new", "name": "Warm Welcome",
                                      "latitude": 53.72, "longitude": -1.86}]})
    assert warmer.warm_once() is True and len(tables) == 2
    assert "act-warm-new" in {p["id"] for p in geo.map_data(store, geo.MapQuery())["points"]}
    assert len(tables) == 2 and len(maps) == 3
