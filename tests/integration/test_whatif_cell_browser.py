"""During a simulation, a heatmap cell's details describe the simulated network, labelled
"Simulated: not saved", and go back to the real network with it: by keyboard, on each store."""

from __future__ import annotations

import os

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys

from pathways.analysis.gaps import GapQuery, cell_routes, gap_report
from pathways.analysis.recommend import recommend, simulate, simulated_cell_routes
from pathways.reports.render_gaps import coverage_grid
from tests.integration.a11y import overflowing, settled_overflow
from tests.integration.test_accessibility import PHONE, set_size
from tests.integration.test_gaps_parity import described
from tests.integration.test_user_tasks import (
    focused_row,
    focused_text,
    open_page,
    press,
    settle,
    tab_to,
)

pytestmark = pytest.mark.browser
SHOTS = os.environ.get("PATHWAYS_TEST_SCREENSHOTS")  # a folder: save what the page looked like


def row_index(report, need: str, place: str) -> int:
    """Where the page's coverage table lists a cell: nothing reachable first, then by colour
    (as pages/gaps.py sorts it, here from the report the test computed itself)."""
    def level(c) -> int:
        if not c["existing"]:
            return 0
        if not c["reachable"]:
            return 1
        return 2 if c["reachable"] / c["existing"] < 0.5 else 3

    order = sorted(report["coverage"], key=lambda c: (c["reachable"] > 0, level(c)))
    return next(i for i, c in enumerate(order) if (c["need"], c["locality"]) == (need, place))


def select_cell(dash_duo, index: int) -> None:
    """Tab into the coverage table (if not there), arrow to row ``index``, Space selects it."""
    tab_to(dash_duo, "#gp-coverage", limit=200)
    for _ in range(200):
        row = focused_row(dash_duo)
        if row == index:
            break
        press(dash_duo, Keys.ARROW_UP if row is not None and row > index else Keys.ARROW_DOWN)
    assert focused_row(dash_duo) == index
    press(dash_duo, Keys.SPACE)


def click_cell(dash_duo, report, need: str, place: str) -> None:
    """Click the heatmap cell (Plotly draws it; the pointer goes to the cell's middle)."""
    needs, places, _cells = coverage_grid(report)
    plot = dash_duo.wait_for_element("#gp-heatmap .nsewdrag", timeout=20)
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", plot)
    size = plot.size
    row, col = needs.index(need), places.index(place)
    x = -size["width"] / 2 + size["width"] / len(places) * (col + 0.5)
    y = -size["height"] / 2 + size["height"] / len(needs) * (row + 0.5)
    ActionChains(dash_duo.driver).move_to_element(plot).move_by_offset(x, y).pause(0.2) \
        .click().perform()


def listed(dash_duo) -> list[str]:
    return [li.text for li in dash_duo.find_elements("#gp-cell-activities li")]


def expected(rows) -> list[str]:
    return [f"{r['name']} ({r['provider']}): {r['route_names']}" for r in rows]


def test_cell_details_follow_the_simulation_and_come_back(dash_duo, demo_app_each_store):
    app, store = demo_app_each_store
    version, snapshot = store.version(), described(store.snapshot())
    found = recommend(store)
    first = found["recommendations"][0]
    edge = (first["source"]["id"], first["target"]["id"])
    need_id, place_id = first["cells"][0]
    need, place = found["names"][need_id], found["names"][place_id]
    real = cell_routes(store, need_id, place_id)
    simulated = simulated_cell_routes(store, [edge], need_id, place_id)
    # the amber cell: nothing reachable for real, a route through the new agreement simulated
    assert all(r["route"] is None for r in real)
    through = [r for r in simulated if r["route"] and any(
        a == edge[0] and b == edge[1] for a, b in zip(r["route"], r["route"][1:], strict=False))]
    assert through

    dash_duo.start_server(app)
    open_page(dash_duo, "/gaps", "#gp-message", "cells with nothing reachable")
    dash_duo.wait_for_element("#wi-picks input", timeout=20)

    # The real cell first: no route to any of its activities.
    select_cell(dash_duo, row_index(gap_report(store, GapQuery()), need_id, place_id))
    dash_duo.wait_for_contains_text("#gp-cell h3", f"{need} in {place}", timeout=20)
    assert "Simulated" not in dash_duo.find_element("#gp-cell").text
    assert listed(dash_duo) == expected(real)

    # Simulate the first recommendation (Space ticks it, Enter on Simulate): the open cell's
    # details now describe the simulated network, labelled as such.
    tab_to(dash_duo, "#wi-picks", limit=200)
    assert focused_text(dash_duo).startswith("1. ")
    press(dash_duo, Keys.SPACE)
    tab_to(dash_duo, "#wi-simulate", limit=200)
    press(dash_duo, Keys.ENTER)
    dash_duo.wait_for_contains_text("#gp-message", "Simulated: not saved", timeout=30)
    dash_duo.wait_for_contains_text("#gp-cell h3", "Simulated: not saved", timeout=30)
    settle(dash_duo)
    assert f"{need} in {place}" in dash_duo.find_element("#gp-cell h3").text
    assert listed(dash_duo) == expected(simulated)
    assert any(f"{first['source']['name']} → {first['target']['name']}" in text
               for text in listed(dash_duo))
    label = dash_duo.find_element("#gp-highlight-label").text
    assert label.startswith("Simulated: not saved") and f"{need} in {place}" in label

    # A click on a heatmap cell the agreement closes, during the simulation (the reported bug:
    # it listed the real network's routes): the simulated routes, labelled.
    need_id, place_id = first["cells"][-1]
    need, place = found["names"][need_id], found["names"][place_id]
    real = cell_routes(store, need_id, place_id)
    simulated = simulated_cell_routes(store, [edge], need_id, place_id)
    assert expected(real) != expected(simulated)
    click_cell(dash_duo, simulate(store, [edge], GapQuery()), need_id, place_id)
    dash_duo.wait_for_contains_text("#gp-cell h3", f"{need} in {place}", timeout=30)
    settle(dash_duo)
    assert dash_duo.find_element("#gp-cell h3").text.startswith("Simulated: not saved")
    assert listed(dash_duo) == expected(simulated)
    # on a phone the simulated details wrap: no sideways scroll
    size = dash_duo.driver.get_window_size()
    set_size(dash_duo.driver, PHONE)
    try:
        dash_duo.driver.execute_script(
            "document.getElementById('gp-cell').scrollIntoView({block: 'start'})")
        if SHOTS:
            dash_duo.driver.save_screenshot(f"{SHOTS}/gaps-simulated-cell-390.png")
        assert settled_overflow(dash_duo.driver) == 0, overflowing(dash_duo.driver)
    finally:
        dash_duo.driver.set_window_size(size["width"], size["height"])

    # Back to the real network: the details are the real ones again.
    tab_to(dash_duo, "#wi-back", limit=200)
    press(dash_duo, Keys.ENTER)
    dash_duo.wait_for_contains_text("#wi-banner", "Showing the real network", timeout=30)
    settle(dash_duo)
    dash_duo.wait_for_text_to_equal("#gp-cell h3", f"{need} in {place}: {len(real)} "
                                    f"activit{'y' if len(real) == 1 else 'ies'}", timeout=30)
    assert listed(dash_duo) == expected(real)
    assert "Simulated" not in dash_duo.find_element("#gp-highlight-label").text

    # Nothing written, on either store.
    assert store.version() == version
    assert described(store.snapshot()) == snapshot
