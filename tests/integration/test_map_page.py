"""The Map page (issue 17) in Chromium, on the demo data in both stores, with map tiles
unreachable: what is drawn (points and shaded localities, counted in Plotly's own figure),
a need filter, a click on a locality and on a point (real mouse clicks at the pixels MapLibre
projects them to), the keyboard alternative (the tables), axe and a phone's width."""

from __future__ import annotations

import contextlib

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.actions.action_builder import ActionBuilder
from selenium.webdriver.common.keys import Keys

from pathways.analysis.geo import MapQuery, map_data
from pathways.loading import load_paths
from pathways.webstore import set_store
from tests.integration.a11y import axe_violations, describe, overflowing, settled_overflow

pytestmark = pytest.mark.browser

UNREACHABLE_TILES = "http://127.0.0.1:9/{z}/{x}/{y}.png"  # the discard port: nothing answers

DRAWN = """
const plot = document.querySelector('#mp-map .js-plotly-plot');
if (!plot || !plot.data) { return null; }
const count = {activity: 0, locality: 0, cluster: 0};
for (const trace of plot.data) {
  for (const c of trace.customdata || []) { count[c[0]] += 1; }
}
return count;
"""

# The pixel (relative to the map's canvas) where MapLibre draws a point of a given kind and id.
PIXEL = """
const [kind, id] = arguments;
const plot = document.querySelector('#mp-map .js-plotly-plot');
const map = plot._fullLayout.map._subplot.map;
for (const trace of plot.data) {
  const i = (trace.customdata || []).findIndex(c => c[0] === kind && c[1] === id);
  if (i >= 0) {
    const p = map.project([trace.lon[i], trace.lat[i]]);
    const box = map.getCanvas().getBoundingClientRect();
    return [p.x, p.y, box.width, box.height];
  }
}
return null;
"""


@pytest.fixture
def map_app(store, demo_dir, browser_available, monkeypatch):
    monkeypatch.setenv("PATHWAYS_MAP_TILES", UNREACHABLE_TILES)
    load_paths(store, [demo_dir])
    set_store(store)
    from app import app

    yield app, store
    set_store(None)


def _settle(dash_duo, timeout: float = 30) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(dash_duo.driver, timeout, poll_frequency=0.2).until(
        lambda _driver: dash_duo._wait_for_callbacks())


def _drawn(dash_duo, expected: dict) -> dict:
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.support.ui import WebDriverWait

    with contextlib.suppress(TimeoutException):  # the caller's assertion says what was drawn
        WebDriverWait(dash_duo.driver, 20, poll_frequency=0.3).until(
            lambda d: d.execute_script(DRAWN) == expected)
    return dash_duo.driver.execute_script(DRAWN)


def _open(dash_duo, app) -> None:
    dash_duo.start_server(app)
    dash_duo.wait_for_page(f"{dash_duo.server_url}/map")
    dash_duo.wait_for_contains_text("#mp-summary", "on the map", timeout=30)
    _settle(dash_duo)


def _click_on_map(dash_duo, kind: str, node: str) -> None:
    """A real mouse click where MapLibre drew ``node`` (after it has finished drawing)."""
    canvas = dash_duo.find_element("#mp-map canvas.maplibregl-canvas")
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", canvas)
    dash_duo.driver.execute_async_script(
        "const done = arguments[arguments.length - 1]; const m = document.querySelector('#mp-map .js-plotly-plot')"
        "._fullLayout.map._subplot.map; if (m.loaded()) { done(); } else { m.once('idle', done); }")
    x, y, width, height = dash_duo.driver.execute_script(PIXEL, kind, node)
    assert 0 <= x <= width and 0 <= y <= height, f"{node} is drawn outside the map"
    left, top = dash_duo.driver.execute_script(
        "const b = arguments[0].getBoundingClientRect(); return [b.left, b.top]", canvas)
    actions = ActionBuilder(dash_duo.driver)  # a position in the window: no origin to mistake
    actions.pointer_action.move_to_location(int(left + x), int(top + y))
    actions.pointer_action.pause(0.3)
    actions.pointer_action.move_to_location(int(left + x) + 1, int(top + y))
    actions.pointer_action.pause(0.3)
    actions.pointer_action.click()
    actions.perform()


def test_the_map_draws_filters_and_answers_clicks_without_tiles(dash_duo, map_app):
    app, store = map_app
    _open(dash_duo, app)
    everything = map_data(store)
    centred = [a for a in everything["areas"] if a["latitude"] is not None]
    assert _drawn(dash_duo, {"activity": len(everything["points"]), "locality": len(centred),
                             "cluster": 0}) == {
        "activity": len(everything["points"]), "locality": len(centred), "cluster": 0}
    assert "tiles are unavailable" in dash_duo.find_element("#mp-tiles").text
    assert f"{len(everything['points'])} of {everything['matching']}" in (
        dash_duo.find_element("#mp-summary").text)

    # Filter by a need: tick it, and the map draws exactly that need's points.
    label = next(el for el in dash_duo.find_elements("#mp-needs label")
                 if el.text.strip() == everything["names"]["creativity"])
    control = label.find_element("css selector", "input")
    dash_duo.driver.execute_script("arguments[0].focus()", control)
    control.send_keys(Keys.SPACE)
    narrowed = map_data(store, MapQuery(needs=("creativity",)))
    assert 0 < len(narrowed["points"]) < len(everything["points"])
    expected = {"activity": len(narrowed["points"]), "locality": len(centred), "cluster": 0}
    assert _drawn(dash_duo, expected) == expected
    _settle(dash_duo)

    # Click a locality: its name and its gaps are listed.
    place = min(centred, key=lambda a: (a["level"], a["name"]))
    _click_on_map(dash_duo, "locality", place["id"])
    dash_duo.wait_for_contains_text("#mp-place", place["name"], timeout=20)
    assert "Needs with nothing reachable here" in dash_duo.find_element("#mp-place").text

    # Choose a link worker, then click a point: its details and the route from them.
    worker = dash_duo.find_elements("#mp-worker label")[-1]
    worker_name = worker.text.strip()
    radio = worker.find_element("css selector", "input")
    dash_duo.driver.execute_script("arguments[0].focus()", radio)
    radio.send_keys(Keys.SPACE)
    _settle(dash_duo)
    point = max(narrowed["points"], key=lambda p: (p["latitude"], p["id"]))  # not under an area
    _click_on_map(dash_duo, "activity", point["id"])
    dash_duo.wait_for_contains_text("#mp-point", point["name"], timeout=20)
    text = dash_duo.find_element("#mp-point").text
    assert (f"Route from {worker_name}" in text) or (f"{worker_name} has no route" in text)
    assert not [e for e in dash_duo.get_logs() if e.get("level") == "SEVERE"]


def test_every_locality_and_point_is_reachable_by_keyboard_and_the_page_passes_axe(
        dash_duo, map_app):
    app, store = map_app
    _open(dash_duo, app)
    data = map_data(store)
    # The tables list every locality and every point drawn.
    dash_duo.wait_for_element("#mp-places .ag-center-cols-container .ag-row", timeout=20)
    rows = dash_duo.driver.execute_script(
        "return [document.querySelectorAll('#mp-places .ag-center-cols-container .ag-row').length,"
        " document.querySelector('#mp-points .ag-paging-row-summary-panel').innerText]")
    assert rows[0] == len(data["areas"])
    assert str(len(data["points"])) in rows[1]
    # Keyboard: into the localities table, Space on the first row, its details appear.
    cell = dash_duo.find_element("#mp-places .ag-center-cols-container .ag-row[row-index='0'] "
                                 ".ag-cell")
    dash_duo.driver.execute_script("arguments[0].focus()", cell)
    ActionChains(dash_duo.driver).send_keys(Keys.SPACE).perform()
    first = sorted(data["areas"], key=lambda a: (a["name"], a["id"]))[0]
    dash_duo.wait_for_contains_text("#mp-place", first["name"], timeout=20)
    cell = dash_duo.find_element("#mp-points .ag-center-cols-container .ag-row[row-index='0'] "
                                 ".ag-cell")
    dash_duo.driver.execute_script("arguments[0].focus()", cell)
    ActionChains(dash_duo.driver).send_keys(Keys.SPACE).perform()
    dash_duo.wait_for_contains_text("#mp-point", "Provider", timeout=20)

    found = axe_violations(dash_duo.driver)
    assert found == [], describe(found)
    dash_duo.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True})
    _settle(dash_duo)
    assert settled_overflow(dash_duo.driver) == 0, overflowing(dash_duo.driver)
    found = axe_violations(dash_duo.driver)
    assert found == [], describe(found)
