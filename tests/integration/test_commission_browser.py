"""From a red cell to a commission, in the browser on both stores (issue 19 item 3): click the
Gaps heatmap's red cell, follow "Find partners for this on the Consortia page", and the
Consortia page opens with that need and locality chosen and its card names the organisations
covering the opportunity."""

from __future__ import annotations

import os

import pytest

from pathways.analysis.commission import providers_elsewhere
from pathways.analysis.consortia import Opportunity, consortia
from pathways.analysis.gaps import GapQuery, gap_report
from pathways.reports.render_gaps import coverage_grid
from tests.integration.a11y import axe_violations, describe, overflowing, settled_overflow
from tests.integration.test_whatif_cell_browser import click_cell

pytestmark = pytest.mark.browser
SHOTS = os.environ.get("PATHWAYS_TEST_SCREENSHOTS")  # a folder: save what the page looked like


def _checked(dash_duo, group: str) -> list[str]:
    return dash_duo.driver.execute_script(
        "return Array.from(document.querySelectorAll(arguments[0] + ' input:checked'))"
        ".map(i => i.value)", group)


def test_a_red_cell_leads_to_a_prefilled_consortium(dash_duo, demo_app_each_store):
    app, store = demo_app_each_store
    report = gap_report(store, GapQuery())
    needs, places, cells = coverage_grid(report)
    red = [(n, p) for n in needs for p in places if cells[(n, p)]["existing"] == 0]
    assert red, "the demo plants a red cell (Todmorden × loneliness)"
    need, place = red[0]
    names = report["names"]
    expected = providers_elsewhere(store, need, place)

    dash_duo.start_server(app)
    dash_duo.wait_for_page(f"{dash_duo.server_url}/gaps")
    dash_duo.wait_for_contains_text("#gp-message", "cells with nothing reachable", timeout=30)
    click_cell(dash_duo, report, need, place)
    dash_duo.wait_for_contains_text("#gp-cell", f"{names[need]} in {names[place]}", timeout=20)
    dash_duo.wait_for_element("#gp-commission-link", timeout=20)
    listed = dash_duo.find_element("#gp-commission-providers").text
    for provider in expected["providers"][:3]:
        assert provider["name"] in listed
    found = axe_violations(dash_duo.driver)
    assert found == [], describe(found)
    # on a phone the list wraps: no sideways scroll
    size = dash_duo.driver.get_window_size()
    dash_duo.driver.set_window_size(390, 844)
    try:
        assert settled_overflow(dash_duo.driver) == 0, overflowing(dash_duo.driver)
        if SHOTS:
            dash_duo.driver.save_screenshot(f"{SHOTS}/gaps-red-cell-390.png")
    finally:
        dash_duo.driver.set_window_size(size["width"], size["height"])
    if SHOTS:
        dash_duo.driver.execute_script(
            "document.getElementById('gp-cell').scrollIntoView({block: 'start'})")
        dash_duo.driver.save_screenshot(f"{SHOTS}/gaps-red-cell.png")

    link = dash_duo.find_element("#gp-commission-link")
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", link)
    link.click()
    dash_duo.wait_for_contains_text("h1", "Consortia for a commissioning opportunity", timeout=20)
    dash_duo.wait_for_element("#co-suggestions .card", timeout=30)
    assert _checked(dash_duo, "#co-needs") == [need]
    checked = _checked(dash_duo, "#co-places")
    assert place in checked and set(checked) == set(expected["consortia_query"]["places"])
    # the card names who covers the opportunity: the consortia analysis' own top suggestion
    chosen = consortia(store, Opportunity(tuple(expected["consortia_query"]["needs"]),
                                          tuple(expected["consortia_query"]["places"])))
    members = [m["name"] for m in chosen["suggestions"][0]["members"]]
    assert members
    dash_duo.wait_for_contains_text("#co-suggestions", ", ".join(members), timeout=20)
    # the red cell itself is shown as nobody's yet
    assert names[place] in dash_duo.find_element("#co-cells").text
    if SHOTS:
        dash_duo.driver.save_screenshot(f"{SHOTS}/consortia-from-red-cell.png")
