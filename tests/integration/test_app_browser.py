"""Each page in a real headless Chromium, on the demo data, with no console errors."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.keys import Keys

from pathways.analysis.pathways import pathways_from
from pathways.loading import load_paths
from pathways.model import NodeKind
from pathways.store import PathwayFilter
from pathways.store.embedded import EmbeddedStore
from pathways.webstore import set_store
from tests.conftest import write_folder

pytestmark = pytest.mark.browser


def _severe(logs):
    return [entry for entry in logs if entry.get("level") == "SEVERE"]


def column(dash_duo, grid: str, col: str) -> list[str]:
    """The texts of one column of an AG Grid table, in the order shown (this page)."""
    return dash_duo.driver.execute_script(
        "return Array.from(document.querySelectorAll(arguments[0] + ' .ag-center-cols-container"
        " .ag-row')).sort((a, b) => a.getAttribute('row-index') - b.getAttribute('row-index'))"
        ".map(r => r.querySelector(`[col-id='${arguments[1]}']`).innerText)", grid, col)


def first_row(dash_duo, grid: str):
    """The first row's first cell of an AG Grid table, once it is there."""
    return dash_duo.wait_for_element(f"{grid} .ag-center-cols-container .ag-row[row-index='0'] "
                                     ".ag-cell", timeout=20)


def tick(dash_duo, group: str, label: str) -> None:
    """Click the radio button or checkbox labelled ``label`` in a choice group."""
    found = [e for e in dash_duo.find_elements(f"#{group} label") if e.text.strip() == label]
    assert found, f"no option {label!r} in #{group}"
    found[0].click()


@pytest.fixture
def pathways_page(dash_duo, demo_app):
    """The Pathways page, loaded, for the first link worker: (browser, store, worker)."""
    app, store = demo_app
    dash_duo.start_server(app)
    dash_duo.wait_for_contains_text(".summary", "can reach", timeout=20)
    return dash_duo, store, store.list_nodes(NodeKind.PERSON, "link_worker")[0]


def test_pathways_page_lists_what_the_first_link_worker_reaches(pathways_page):
    dash_duo, store, first = pathways_page
    expected = pathways_from(store, first["id"], PathwayFilter(), 4)["activities"]
    assert f"can reach {len(expected)} matching" in dash_duo.find_element(".summary").text
    first_row(dash_duo, "#pw-table")
    assert column(dash_duo, "#pw-table", "activity")[0] == expected[0]["name"]
    # The network draws the worker and the activities (cytoscape renders to canvas).
    assert dash_duo.find_element("#pw-graph canvas") is not None
    assert _severe(dash_duo.get_logs()) == []


def test_filtering_by_need_narrows_the_table(pathways_page):
    dash_duo, store, worker = pathways_page
    wanted = pathways_from(store, worker["id"], PathwayFilter(needs=("loneliness",)), 4)
    tick(dash_duo, "pw-needs", "Loneliness and isolation")
    dash_duo.wait_for_contains_text(
        ".summary", f"can reach {len(wanted['activities'])} matching", timeout=20
    )
    first_row(dash_duo, "#pw-table")
    names = column(dash_duo, "#pw-table", "activity")
    assert names == [a["name"] for a in wanted["activities"]][: len(names)]
    assert _severe(dash_duo.get_logs()) == []


def test_route_length_can_be_changed_with_the_keyboard(pathways_page):
    dash_duo, store, worker = pathways_page
    wanted = pathways_from(store, worker["id"], PathwayFilter(), 3)
    hops = dash_duo.find_element("#pw-hops")
    hops.send_keys(Keys.BACKSPACE, "3")
    dash_duo.wait_for_contains_text(
        ".summary", f"can reach {len(wanted['activities'])} matching activities within 3 hops",
        timeout=20,
    )
    assert _severe(dash_duo.get_logs()) == []


def test_selecting_an_activity_shows_its_route_and_contacts(pathways_page):
    dash_duo, _store, _worker = pathways_page
    first_row(dash_duo, "#pw-table").click()
    dash_duo.wait_for_contains_text("#pw-details", "Route", timeout=20)
    details = dash_duo.find_element("#pw-details").text
    assert "→" in details and "How to refer" in details
    assert _severe(dash_duo.get_logs()) == []


def test_data_page_shows_counts_from_the_store(dash_duo, demo_app):
    app, store = demo_app
    dash_duo.start_server(app)
    dash_duo.wait_for_page(f"{dash_duo.server_url}/data")
    dash_duo.wait_for_contains_text("#data-store", "embedded store", timeout=20)
    counts = store.stats()
    first_row(dash_duo, "#data-nodes")
    cells = column(dash_duo, "#data-nodes", "count")
    assert cells == [str(v) for v in counts["nodes"].values()]
    assert _severe(dash_duo.get_logs()) == []


def test_gaps_page_shows_heatmap_and_ranked_lists(dash_duo, demo_app):
    from pathways.analysis.gaps import GapQuery, gap_report

    app, store = demo_app
    report = gap_report(store, GapQuery())
    dash_duo.start_server(app)
    dash_duo.wait_for_page(f"{dash_duo.server_url}/gaps")
    zero_cells = [c for c in report["coverage"] if c["reachable"] == 0]
    dash_duo.wait_for_contains_text(
        "#gp-message", f"{len(zero_cells)} need × locality cells with nothing reachable", timeout=30
    )
    assert dash_duo.find_element("#gp-heatmap .heatmaplayer") is not None
    first_row(dash_duo, "#gp-spof")
    first_spof = column(dash_duo, "#gp-spof", "name")[0]
    assert first_spof == report["single_points_of_failure"][0]["name"]
    assert _severe(dash_duo.get_logs()) == []


def test_selecting_a_gap_highlights_it_on_the_network(dash_duo, demo_app):
    app, _store = demo_app
    dash_duo.start_server(app)
    dash_duo.wait_for_page(f"{dash_duo.server_url}/gaps")
    dash_duo.wait_for_contains_text("#gp-message", "cells with nothing reachable", timeout=30)
    first_row(dash_duo, "#gp-spof").click()
    top = column(dash_duo, "#gp-spof", "name")[0]
    dash_duo.wait_for_contains_text("#gp-highlight-label", f"Highlighted: {top}", timeout=20)
    # A coverage gap picked from the table (keyboard-reachable twin of the heatmap cell).
    first_row(dash_duo, "#gp-coverage").click()
    dash_duo.wait_for_contains_text("#gp-cell", "activities", timeout=20)
    # the label is drawn by a chained callback, after the cell's details: wait for it too
    need, place = (column(dash_duo, "#gp-coverage", c)[0] for c in ("need", "locality"))
    dash_duo.wait_for_contains_text("#gp-highlight-label", f"{need} in {place}: ", timeout=20)
    assert _severe(dash_duo.get_logs()) == []


def test_consortia_page_suggests_and_draws_a_consortium(dash_duo, demo_app):
    from pathways.analysis.consortia import Opportunity, consortia

    app, store = demo_app
    dash_duo.start_server(app)
    dash_duo.wait_for_page(f"{dash_duo.server_url}/consortia")
    dash_duo.wait_for_contains_text("#co-message", "cells no organisation covers", timeout=30)
    # The page starts with the first need and the first two localities, as a commissioner would.
    from pathways.model import NodeKind

    need = store.list_nodes(NodeKind.NEED)[0]["id"]
    places = tuple(p["id"] for p in store.list_nodes(NodeKind.LOCALITY)[:2])
    report = consortia(store, Opportunity((need,), places))
    first = ", ".join(m["name"] for m in report["suggestions"][0]["members"])
    dash_duo.wait_for_contains_text("#co-suggestions", first, timeout=20)
    cards = dash_duo.find_elements("#co-suggestions .card")
    assert len(cards) == len(report["suggestions"])
    assert dash_duo.find_element("#co-graph canvas") is not None
    assert _severe(dash_duo.get_logs()) == []


EVIL_LINK = '<a href="https://evil.example">x</a>'


def test_a_locality_named_like_a_link_stays_text_in_the_heatmap(dash_duo, demo_app, tmp_path):
    app, store = demo_app
    extra = write_folder(tmp_path / "evil", {"localities": [["id", "name"], ["loc-evil", EVIL_LINK]]})
    load_paths(store, [extra])
    dash_duo.start_server(app)
    dash_duo.wait_for_page(f"{dash_duo.server_url}/gaps")
    dash_duo.wait_for_contains_text("#gp-message", "cells with nothing reachable", timeout=30)
    dash_duo.wait_for_element("#gp-heatmap .xtick text", timeout=20)
    hrefs = dash_duo.driver.execute_script(
        "return Array.from(document.querySelectorAll('a')).map(a => a.getAttribute('href')"
        " || a.getAttributeNS('http://www.w3.org/1999/xlink', 'href') || '')")
    assert [h for h in hrefs if "evil.example" in h] == []
    ticks = [t.text for t in dash_duo.find_elements("#gp-heatmap .xtick text")]
    assert EVIL_LINK in ticks  # the name reads as written, as plain text
    assert _severe(dash_duo.get_logs()) == []


def test_clicking_a_heatmap_cell_lists_its_activities(dash_duo, demo_app):
    """The page says "click a cell": a real click on the plot area lists that cell's activities."""
    from selenium.webdriver.common.action_chains import ActionChains

    from pathways.analysis.gaps import GapQuery, gap_report
    from pathways.reports.render_gaps import coverage_grid

    app, store = demo_app
    report = gap_report(store, GapQuery())
    needs, places, _cells = coverage_grid(report)
    dash_duo.start_server(app)
    dash_duo.wait_for_page(f"{dash_duo.server_url}/gaps")
    dash_duo.wait_for_contains_text("#gp-message", "cells with nothing reachable", timeout=30)
    plot = dash_duo.wait_for_element("#gp-heatmap .nsewdrag", timeout=20)
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", plot)
    size = plot.size
    # The middle of the top-left cell (first need, first locality).
    x = -size["width"] / 2 + size["width"] / len(places) / 2
    y = -size["height"] / 2 + size["height"] / len(needs) / 2
    # From the centre (selenium's offsets changed origin between releases), then the cell.
    ActionChains(dash_duo.driver).move_to_element(plot).move_by_offset(x, y).pause(0.2) \
        .click().perform()
    names = report["names"]
    dash_duo.wait_for_contains_text("#gp-cell", f"{names[needs[0]]} in {names[places[0]]}",
                                    timeout=20)
    assert "activities" in dash_duo.find_element("#gp-cell").text
    assert _severe(dash_duo.get_logs()) == []


PAGES = {"/": "Pathways from a link worker", "/gaps": "Gaps in the network",
         "/consortia": "Consortia for a commissioning opportunity", "/data": "What the graph holds"}


def test_an_empty_store_says_how_to_load_data_on_every_page(dash_duo, tmp_path, browser_available):
    from pages._components import NO_DATA

    set_store(EmbeddedStore(tmp_path / "empty.json"))
    try:
        from app import app

        dash_duo.start_server(app)
        for path, title in PAGES.items():
            dash_duo.wait_for_page(f"{dash_duo.server_url}{path}")
            dash_duo.wait_for_contains_text("h1", title, timeout=20)
            dash_duo.wait_for_contains_text("#no-data", "No data loaded yet", timeout=20)
            text = dash_duo.find_element("#main").text
            assert NO_DATA.split("`")[0] in text and "`pathways load`" in text
            # No empty charts, tables or "0 gaps" in place of the guidance.
            assert "0 need × locality" not in text and "can reach" not in text
            assert dash_duo.find_elements(".js-plotly-plot, .ag-root, canvas") == []
        assert _severe(dash_duo.get_logs()) == []
    finally:
        set_store(None)


class _Failing(EmbeddedStore):
    """A store that fails every read after the page has been drawn, as a Neo4j server that
    went away would; ``error`` is what it raises."""

    error: Exception | None = None

    def consistent(self, fn):
        if self.error is not None:
            raise self.error
        return super().consistent(fn)


@pytest.mark.parametrize("error, shown", [
    ("unavailable", "Sorry, that could not be shown: The graph database is not reachable"),
    ("bug", "Sorry, something went wrong while updating this page, and it has been logged."),
])
def test_a_callback_error_becomes_a_plain_alert(dash_duo, tmp_path, demo_dir, browser_available,
                                                error, shown):
    from pathways.errors import StoreUnavailableError

    store = _Failing(tmp_path / "graph.json")
    load_paths(store, [demo_dir])
    set_store(store)
    try:
        from app import app

        dash_duo.start_server(app)
        dash_duo.wait_for_page(f"{dash_duo.server_url}/gaps")
        dash_duo.wait_for_contains_text("#gp-message", "cells with nothing reachable", timeout=30)
        store.error = (StoreUnavailableError("The graph database is not reachable at "
                                             "bolt://localhost:7687; start it with "
                                             "`pathways neo4j start`.")
                       if error == "unavailable" else KeyError("customdata"))
        hops = dash_duo.find_element("#gp-hops")
        hops.send_keys(Keys.BACKSPACE, "3")
        dash_duo.wait_for_contains_text("#page-alert", shown, timeout=20)
        alert = dash_duo.find_element("#page-alert [role='alert']")
        assert "Traceback" not in alert.text and "KeyError" not in alert.text
        # Once the store answers again, the next update clears the alert.
        store.error = None
        hops.send_keys(Keys.BACKSPACE, "4")
        dash_duo.wait_for_text_to_equal("#page-alert", "", timeout=20)
        dash_duo.wait_for_contains_text("#gp-message", "cells with nothing reachable", timeout=20)
    finally:
        set_store(None)


RESOURCES = """return performance.getEntriesByType('resource').concat(
    performance.getEntriesByType('navigation')).map(e => ({name: e.name.split('?')[0],
    transferred: e.transferSize, size: e.decodedBodySize}))"""


def test_pages_arrive_compressed_and_plotly_only_with_a_chart(dash_duo, demo_app):
    """What a phone on a slow line downloads: scripts gzip-compressed, and Plotly (4.8 MB
    before compression) only on the page that draws a chart."""
    app, _store = demo_app
    dash_duo.start_server(app)
    for path, ready, charted in [("/", "#pw-message", False), ("/gaps", "#gp-message", True),
                                 ("/data", "#data-store", False)]:
        dash_duo.driver.execute_cdp_cmd("Network.enable", {})
        dash_duo.driver.execute_cdp_cmd("Network.setCacheDisabled", {"cacheDisabled": True})
        dash_duo.wait_for_page(f"{dash_duo.server_url}{path}")
        dash_duo.wait_for_element(f"{ready} .summary, {ready}.summary, #data-store", timeout=30)
        entries = dash_duo.driver.execute_script(RESOURCES)
        big = [e for e in entries if e["size"] > 100_000]
        assert big and all(e["transferred"] * 2 < e["size"] for e in big), (path, big)
        plotly = [e for e in entries if e["name"].endswith("plotly.min.js")]
        assert bool(plotly) == charted, (path, plotly)
