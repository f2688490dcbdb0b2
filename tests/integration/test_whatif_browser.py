"""A partnership lead, by keyboard, on each store: from an amber heatmap cell to a simulated
referral agreement that turns it blue, without anything written to the store; back to the real
network; an agreement of their own from the form; the panel axe-clean and phone-sized."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.keys import Keys

from pathways.analysis.recommend import recommend
from pathways.loading import load_paths
from pathways.webstore import set_store
from tests.integration.a11y import axe_violations, describe, overflowing, settled_overflow
from tests.integration.test_accessibility import PHONE, set_size
from tests.integration.test_gaps_parity import described
from tests.integration.test_user_tasks import (
    focused_text,
    open_page,
    press,
    settle,
    tab_to,
)

pytestmark = pytest.mark.browser
AMBER, BLUE = 1, 2  # the heatmap's categories: provided but not reached; reached (2 or 3)


@pytest.fixture
def demo_app(store, demo_dir, browser_available):
    load_paths(store, [demo_dir])
    set_store(store)
    from app import app

    yield app, store
    set_store(None)


def heatmap_level(dash_duo, need: str, locality: str) -> int:
    """The category the page's heatmap shows for a cell (by its axis labels)."""
    return dash_duo.driver.execute_script(
        "const d = document.querySelector('#gp-heatmap .js-plotly-plot').data[0];"
        " return d.z[d.y.indexOf(arguments[0])][d.x.indexOf(arguments[1])];", need, locality)


def test_lead_simulates_a_recommended_route_that_turns_an_amber_cell_blue(dash_duo, demo_app,
                                                                          tmp_path):
    app, store = demo_app
    version, snapshot = store.version(), described(store.snapshot())
    found = recommend(store)
    first = found["recommendations"][0]
    need, place = (found["names"][i] for i in first["cells"][0])
    dash_duo.start_server(app)
    open_page(dash_duo, "/gaps", "#gp-message", "cells with nothing reachable")
    dash_duo.wait_for_element("#wi-picks input", timeout=20)
    assert heatmap_level(dash_duo, need, place) == AMBER

    # Tab to the first recommendation, Space ticks it; Tab on to Simulate, Enter.
    tab_to(dash_duo, "#wi-picks", limit=200)
    assert focused_text(dash_duo).startswith(f"1. {first['source']['name']} → {first['target']['name']}")
    press(dash_duo, Keys.SPACE)
    tab_to(dash_duo, "#wi-simulate", limit=200)
    press(dash_duo, Keys.ENTER)
    dash_duo.wait_for_contains_text("#gp-message", "Simulated: not saved", timeout=30)
    settle(dash_duo)
    assert heatmap_level(dash_duo, need, place) >= BLUE
    closed = [(found["names"][n], found["names"][p]) for n, p in first["cells"]]
    assert all(heatmap_level(dash_duo, n, p) >= BLUE for n, p in closed)
    banner = dash_duo.find_element("#gp-message").text
    assert f"{first['source']['name']} → {first['target']['name']}" in banner
    amber = len(found["amber"])
    assert f"Amber cells: {amber} → {amber - len(first['cells'])}" in banner

    # Nothing written, on either store.
    assert store.version() == version
    assert described(store.snapshot()) == snapshot

    dash_duo.driver.set_script_timeout(120)  # axe on the whole Gaps page, on a busy machine
    violations = axe_violations(dash_duo.driver)
    assert violations == [], describe(violations)
    set_size(dash_duo.driver, PHONE)
    assert settled_overflow(dash_duo.driver) == 0, overflowing(dash_duo.driver)
    dash_duo.driver.save_screenshot(str(tmp_path / "simulated-phone.png"))
    set_size(dash_duo.driver, (1366, 900))

    # The way back: the real network again.
    tab_to(dash_duo, "#wi-back", limit=200)
    press(dash_duo, Keys.ENTER)
    dash_duo.wait_for_contains_text("#wi-banner", "Showing the real network", timeout=30)
    settle(dash_duo)
    assert "Simulated" not in dash_duo.find_element("#gp-message").text
    assert heatmap_level(dash_duo, need, place) == AMBER


def test_lead_simulates_an_agreement_of_their_own(dash_duo, demo_app):
    app, store = demo_app
    found = recommend(store)
    step = found["recommendations"][-1]
    need, place = (found["names"][i] for i in step["cells"][0])
    dash_duo.start_server(app)
    open_page(dash_duo, "/gaps", "#gp-message", "cells with nothing reachable")
    dash_duo.wait_for_element("#wi-picks input", timeout=20)
    for control, end in (("wi-from", step["source"]), ("wi-to", step["target"])):
        box = dash_duo.find_element(f"#{control}-filter")
        box.send_keys(end["name"])
        label = next(el for el in dash_duo.find_elements(f"#{control} label")
                     if el.text.startswith(f"{end['name']} ("))
        label.click()
    dash_duo.find_element("#wi-simulate").click()
    dash_duo.wait_for_contains_text("#gp-message", "Simulated: not saved", timeout=30)
    settle(dash_duo)
    assert heatmap_level(dash_duo, need, place) >= BLUE
    assert f"{step['source']['name']} → {step['target']['name']}" in dash_duo.find_element(
        "#gp-message").text
