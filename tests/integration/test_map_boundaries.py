"""Locality boundaries (issue 17): a GeoJSON file named in localities.csv lands on the map as
a shape, on both stores, and the Map page draws and clicks it with tiles unreachable.  Bad
boundary files are in the bad-input corpus (tests/bad_input_cases.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from loaders.boundaries import centre_of
from pathways.analysis.geo import MapQuery, export_geojson, map_data
from pathways.loading import load_paths
from pathways.webstore import set_store
from tests.conftest import write_folder

# A square north of Halifax and two islands east of Brighouse (away from the demo's
# localities), longitude first as GeoJSON gives it.
SQUARE = [[-1.95, 53.80], [-1.90, 53.80], [-1.90, 53.83], [-1.95, 53.83], [-1.95, 53.80]]
ISLANDS = {"type": "MultiPolygon", "coordinates": [
    [[[-1.74, 53.70], [-1.72, 53.70], [-1.72, 53.71], [-1.74, 53.70]]],
    [[[-1.70, 53.69], [-1.64, 53.69], [-1.64, 53.72], [-1.70, 53.72], [-1.70, 53.69]]]]}


def _boundaries(folder: Path) -> Path:
    """Two new localities with boundary files in a subfolder (a Feature; a bare MultiPolygon
    with a centre of its own) and an activity located in the first."""
    shapes = folder / "boundaries"
    shapes.mkdir(parents=True)
    (shapes / "square.geojson").write_text(json.dumps({
        "type": "FeatureCollection", "features": [{
            "type": "Feature", "properties": {"name": "Square"},
            "geometry": {"type": "Polygon", "coordinates": [SQUARE]}}]}, indent=2))
    (shapes / "islands.json").write_text(json.dumps(ISLANDS))
    return write_folder(folder, {
        "localities": [["id", "name", "latitude", "longitude", "boundary"],
                       ["loc-square", "Square Ward", "", "", "boundaries/square.geojson"],
                       ["loc-islands", "Island Ward", "53.705", "-1.67", "boundaries/islands.json"]],
        "activities": [["id", "name", "latitude", "longitude"],
                       ["act-in-square", "Square Dance", "53.815", "-1.925"]],
        "relationships": [["source_id", "type", "target_id"],
                          ["act-in-square", "LOCATED_IN", "loc-square"],
                          ["act-in-square", "ADDRESSES", "creativity"]]})


def test_a_boundary_file_lands_on_the_map_as_a_shape_and_in_the_geojson_export(
        store, demo_dir, tmp_path):
    load_paths(store, [demo_dir])
    before = {a["id"] for a in map_data(store)["areas"]}
    assert all(a["boundary"] is None for a in map_data(store)["areas"])  # the demo has none
    folder = _boundaries(tmp_path / "places")
    load_paths(store, [folder])
    areas = {a["id"]: a for a in map_data(store, MapQuery(shade_need="creativity"))["areas"]}
    assert set(areas) == before | {"loc-square", "loc-islands"}
    square, islands = areas["loc-square"], areas["loc-islands"]
    assert square["boundary"] == {"type": "Polygon", "coordinates": [SQUARE]}
    assert islands["boundary"] == ISLANDS
    # No centre given: the boundary's; a centre given is kept.
    assert (square["latitude"], square["longitude"]) == pytest.approx((53.815, -1.925))
    assert (islands["latitude"], islands["longitude"]) == (53.705, -1.67)
    assert square["existing"] >= 1  # the activity located there counts for its shade
    others = [a for a in areas.values() if a["boundary"] is None]
    assert all(a["latitude"] is not None for a in others)  # the rest keep their circles

    exported = export_geojson(store, MapQuery(shade_need="creativity"))
    shapes = {f["id"]: f for f in exported["features"] if f["properties"]["kind"] == "locality"}
    assert set(shapes) == {"loc-square", "loc-islands"}
    assert shapes["loc-square"]["geometry"] == square["boundary"]
    assert shapes["loc-square"]["properties"]["existing"] == square["existing"]
    points = [f for f in exported["features"] if f["properties"]["kind"] == "activity"]
    assert "act-in-square" in {f["id"] for f in points}

    load_paths(store, [folder])  # loading the same files again changes nothing drawn
    assert map_data(store, MapQuery(shade_need="creativity"))["areas"] == list(areas.values())


def test_the_boundary_centre_is_inside_a_simple_shape():
    lat, lon = centre_of({"type": "Polygon", "coordinates": [SQUARE]})
    assert 53.80 < lat < 53.83 and -1.95 < lon < -1.90
    lat, lon = centre_of(ISLANDS)  # the larger island's
    assert 53.69 < lat < 53.72 and -1.70 < lon < -1.64


DRAWN = """
const plot = document.querySelector('#mp-map .js-plotly-plot');
if (!plot || !plot.data) { return null; }
const count = {};
for (const trace of plot.data) {
  for (const c of trace.customdata || []) {
    const key = c[0] + ':' + trace.type; count[key] = (count[key] || 0) + 1;
  }
}
return count;
"""

PROJECT = """
const [lon, lat] = arguments;
const map = document.querySelector('#mp-map .js-plotly-plot')._fullLayout.map._subplot.map;
const p = map.project([lon, lat]);
const box = map.getCanvas().getBoundingClientRect();
return [box.left + p.x, box.top + p.y, p.x, p.y, box.width, box.height];
"""


@pytest.mark.browser
def test_the_map_page_draws_a_boundary_as_a_shape_and_a_click_on_it_lists_the_place(
        dash_duo, store, demo_dir, browser_available, monkeypatch, tmp_path):
    from selenium.webdriver.common.actions.action_builder import ActionBuilder
    from selenium.webdriver.support.ui import WebDriverWait

    from tests.integration.test_map_page import UNREACHABLE_TILES, _open

    monkeypatch.setenv("PATHWAYS_MAP_TILES", UNREACHABLE_TILES)
    load_paths(store, [demo_dir])
    load_paths(store, [_boundaries(tmp_path / "places")])
    set_store(store)
    try:
        from app import app

        _open(dash_duo, app)
        areas = map_data(store)["areas"]
        shapes = sum(1 for a in areas if a["boundary"] is not None)
        circles = sum(1 for a in areas if a["boundary"] is None and a["latitude"] is not None)
        want = {"locality:choroplethmap": shapes, "locality:scattermap": circles}
        WebDriverWait(dash_duo.driver, 20, poll_frequency=0.3).until(
            lambda d: {k: v for k, v in (d.execute_script(DRAWN) or {}).items()
                       if k.startswith("locality")} == want)
        assert shapes == 2 and "2 by their boundaries" in dash_duo.find_element(
            "#mp-summary").text

        # Click inside the larger island, away from any point: the place's details are listed.
        canvas = dash_duo.find_element("#mp-map canvas.maplibregl-canvas")
        dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", canvas)
        dash_duo.driver.execute_async_script(
            "const done = arguments[arguments.length - 1]; const m = document.querySelector("
            "'#mp-map .js-plotly-plot')._fullLayout.map._subplot.map;"
            " if (m.loaded()) { done(); } else { m.once('idle', done); }")
        x, y, px, py, width, height = dash_duo.driver.execute_script(PROJECT, -1.67, 53.705)
        assert 0 <= px <= width and 0 <= py <= height, "the island is drawn outside the map"
        actions = ActionBuilder(dash_duo.driver)
        actions.pointer_action.move_to_location(int(x), int(y))
        actions.pointer_action.pause(0.3)
        actions.pointer_action.move_to_location(int(x) + 1, int(y))
        actions.pointer_action.pause(0.3)
        actions.pointer_action.click()
        actions.perform()
        dash_duo.wait_for_contains_text("#mp-place", "Island Ward", timeout=20)
        assert not [e for e in dash_duo.get_logs() if e.get("level") == "SEVERE"]
    finally:
        set_store(None)
