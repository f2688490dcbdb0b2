"""The map's analysis (pathways/analysis/geo.py, issue 17) on both stores: what the Map page
draws, checked against the loaded files and the Gaps report, not against fixed numbers."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from pathways.analysis.gaps import GapQuery, gap_report
from pathways.analysis.geo import (
    MapQuery,
    export_geojson,
    export_rows,
    gap_level,
    map_data,
    place_detail,
    point_detail,
)
from pathways.analysis.pathways import pathways_from
from pathways.errors import UnknownIdError
from pathways.loading import load_feed, load_paths
from tests.conftest import write_folder

ORUK = Path(__file__).parents[1] / "fixtures" / "oruk" / "service_full.json"


def _rows(demo_dir: Path, name: str) -> list[dict]:
    with (demo_dir / f"{name}.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _with_coordinates(demo_dir: Path, need: str | None = None) -> set[str]:
    """Demo activities with coordinates (addressing ``need``), read from the CSV files."""
    addressing = {r["source_id"] for r in _rows(demo_dir, "relationships")
                  if r["type"] == "ADDRESSES" and r["target_id"] == need}
    return {r["id"] for r in _rows(demo_dir, "activities")
            if r["latitude"] and r["longitude"] and (need is None or r["id"] in addressing)}


def test_every_activity_with_coordinates_is_a_point_and_a_need_filter_narrows_them(
        store, demo_dir):
    load_paths(store, [demo_dir])
    everything = map_data(store)
    assert {p["id"] for p in everything["points"]} == _with_coordinates(demo_dir)
    assert everything["without_coordinates"] == everything["matching"] - len(everything["points"])
    need = "creativity"
    narrowed = map_data(store, MapQuery(needs=(need,)))
    assert {p["id"] for p in narrowed["points"]} == _with_coordinates(demo_dir, need)
    assert all(p["need"] == need for p in narrowed["points"])  # coloured by the chosen need
    located = {r["id"]: (float(r["latitude"]), float(r["longitude"]))
               for r in _rows(demo_dir, "activities") if r["latitude"]}
    for point in narrowed["points"]:
        assert (point["latitude"], point["longitude"]) == located[point["id"]]


def test_localities_are_shaded_as_the_gaps_heatmap_shades_the_need(store, demo_dir):
    load_paths(store, [demo_dir])
    report = gap_report(store, GapQuery())
    needs = sorted({c["need"] for c in report["coverage"]})
    for need in needs[:3]:
        areas = {a["id"]: a for a in map_data(store, MapQuery(shade_need=need))["areas"]}
        cells = [c for c in report["coverage"] if c["need"] == need]
        assert set(areas) == {c["locality"] for c in cells}
        for cell in cells:
            area = areas[cell["locality"]]
            assert (area["existing"], area["reachable"]) == (cell["existing"], cell["reachable"])
            assert area["level"] == gap_level(cell["existing"], cell["reachable"])
    assert all(a["latitude"] is not None for a in areas.values())  # the demo gives centres


def test_a_locality_lists_its_activities_and_the_needs_no_one_can_reach_there(store, demo_dir):
    load_paths(store, [demo_dir])
    report = gap_report(store, GapQuery())
    place = next(c["locality"] for c in report["coverage"] if c["reachable"] == 0)
    detail = place_detail(store, place)
    unreached = {report["names"][c["need"]] for c in report["coverage"]
                 if c["locality"] == place and c["reachable"] == 0}
    assert {g["need"] for g in detail["gaps"]} == unreached
    in_cells = {a for c in report["coverage"] if c["locality"] == place for a in c["activities"]}
    assert in_cells <= {a["id"] for a in detail["activities"]}
    with pytest.raises(UnknownIdError):
        place_detail(store, "loc-nowhere")


def test_a_point_gives_its_details_and_the_route_from_a_chosen_link_worker(store, demo_dir):
    load_paths(store, [demo_dir])
    worker = "person-lw-pat-example"
    reached = pathways_from(store, worker)["activities"]
    drawn = {p["id"] for p in map_data(store)["points"]}
    target = next(a for a in reached if a["id"] in drawn)
    detail = point_detail(store, target["id"], worker)
    assert detail["route"] is not None and len(detail["route"]) == target["hops"] + 1
    assert detail["route"][0] == "Pat Example" and detail["route"][-1] == target["name"]
    unreachable = sorted(drawn - {a["id"] for a in reached})
    if unreachable:
        assert point_detail(store, unreachable[0], worker)["route"] is None
    with pytest.raises(UnknownIdError):
        point_detail(store, target["id"], "org-artworks")  # not a link worker
    with pytest.raises(UnknownIdError, match="no activity with id 'loc-elland'"):
        point_detail(store, "loc-elland", worker)  # a forged click: not an activity


def test_a_living_database_import_and_a_feed_with_coordinates_land_on_the_map(
        store, demo_dir, tmp_path):
    load_paths(store, [demo_dir])
    folder = write_folder(tmp_path / "new", {
        "activities": [["id", "name", "latitude", "longitude"],
                       ["act-map-new", "Canal Sketching", "53.7301", "-1.9102"]],
        "relationships": [["source_id", "type", "target_id"],
                          ["act-map-new", "ADDRESSES", "creativity"]]})
    load_paths(store, [folder])
    points = {p["id"]: p for p in map_data(store, MapQuery(needs=("creativity",)))["points"]}
    assert (points["act-map-new"]["latitude"], points["act-map-new"]["longitude"]) == (
        53.7301, -1.9102)

    load_feed(store, [ORUK], "oruk")
    fed = [p for p in map_data(store)["points"] if p["id"].startswith("oruk:")]
    assert [(p["latitude"], p["longitude"]) for p in fed] == [(53.7217, -1.8575)]
    geojson = export_geojson(store, MapQuery())
    coords = {f["id"]: f["geometry"]["coordinates"] for f in geojson["features"]}
    assert coords[fed[0]["id"]] == [-1.8575, 53.7217]  # GeoJSON: longitude first


def test_beyond_the_limit_points_are_aggregated_and_every_point_is_counted(store, tmp_path):
    n, limit = 400, 60
    rows = [["id", "name", "latitude", "longitude", "free"]]
    rows += [[f"act-g{i}", f"=Group {i}", f"{53.6 + (i % 20) * 0.01:.4f}",
              f"{-2.1 + (i // 20) * 0.015:.4f}", "yes" if i % 2 else "no"] for i in range(n)]
    places = [["id", "name", "latitude", "longitude"], ["loc-a", "Area A", "53.70", "-1.95"]]
    load_paths(store, [write_folder(tmp_path / "many", {"localities": places, "activities": rows})])
    data = map_data(store, MapQuery(max_elements=limit))
    assert data["aggregated"] and not data["points"]
    assert len(data["clusters"]) + len(data["areas"]) <= limit
    assert sum(c["count"] for c in data["clusters"]) == n
    free = map_data(store, MapQuery(free_only=True, max_elements=limit))
    assert sum(c["count"] for c in free["clusters"]) == n // 2
    exported = export_rows(store, MapQuery())
    assert len(exported) == n  # exports are never aggregated
    assert all(r["name"].startswith("'=") for r in exported)  # Excel-safe
