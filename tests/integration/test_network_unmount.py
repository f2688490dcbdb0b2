"""Leaving a page while its network is being redrawn must not raise errors in the browser.

dash-cytoscape re-runs a graph's layout 100 ms after elements are added or removed, on a timer
that outlives the graph: a link worker who changed a filter and clicked "Gaps" within those
100 ms got "Cannot read properties of null (reading 'notify')" from a layout run on the
destroyed graph (seen in CI). Here the race is made certain: an element is added to the drawn
graph (as a redraw does) and the page is left in the same script turn.
"""
from __future__ import annotations

import time

import pytest

from pathways.loading import load_paths
from pathways.webstore import set_store

pytestmark = pytest.mark.browser

PAGES = [("/", "#pw-message", "can reach", "Gaps"),
         ("/gaps", "#gp-message", "cells with nothing reachable", "Consortia"),
         ("/consortia", "#co-message", "cells no organisation covers", "Pathways")]


@pytest.fixture
def demo_app(embedded_store, demo_dir, browser_available):
    load_paths(embedded_store, [demo_dir])
    set_store(embedded_store)
    from app import app

    yield app
    set_store(None)


@pytest.mark.parametrize("path, ready, text, leave_to", PAGES)
def test_leaving_a_page_mid_redraw_raises_no_browser_error(dash_duo, demo_app, path, ready, text,
                                                           leave_to):
    dash_duo.start_server(demo_app)
    dash_duo.wait_for_page(f"{dash_duo.server_url}{path}")
    dash_duo.wait_for_contains_text(ready, text, timeout=30)
    dash_duo.get_logs()  # start from a clean console
    left = dash_duo.driver.execute_script(
        """
        const cy = window.cy;  // dash-cytoscape keeps the last drawn graph here
        if (!cy) { return 'no graph'; }
        cy.add({group: 'nodes', data: {id: 'redraw-probe'}});
        const link = [...document.querySelectorAll('.top-bar .nav-link')]
            .find(a => a.textContent.trim() === arguments[0]);
        link.click();
        return 'left';
        """, leave_to)
    assert left == "left"
    time.sleep(0.6)  # past dash-cytoscape's 100 ms timers
    severe = [e for e in dash_duo.get_logs() if e.get("level") == "SEVERE"]
    assert severe == []
