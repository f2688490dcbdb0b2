"""The app's pages on real directory data: axe-core clean, a phone's width, the page's task works.

The accessibility tests (test_accessibility.py) run on the demo data: tidy names, short lists,
every activity in a locality.  Real directories are messier, so here the app serves two
councils' Open Referral UK feeds (Bristol, North Lincolnshire: 200 services, long names, 199
activities no locality could be found for, no link workers) and the HSDS 3.0 specification's
example tables, loaded as ``pathways load`` loads them.  Each page is checked at a desktop's
and a phone's width for serious or critical axe-core findings and sideways scrolling, and for
what a person does there: a lead reads the unreached activities, a link worker learns that the
feeds hold no link workers, the map says why nothing is on it.
"""

from __future__ import annotations

import pytest

from tests.conftest import HSDS_EXAMPLES, SHARED
from tests.integration.a11y import axe_violations, describe, overflowing, settled_overflow
from tests.integration.test_accessibility import SMALL_TARGETS

pytestmark = pytest.mark.browser

COUNCILS = SHARED / "fixtures" / "oruk-council-sample"
FEEDS = {"oruk": sorted(COUNCILS.glob("*.json")), "hsds": [HSDS_EXAMPLES / "csv"]}
DESKTOP = (1280, 900)
PHONE = (390, 844)


def serve(store, feeds: dict[str, list]):
    """Load each feed as `pathways load` does and hand the store to the app: ``(app, store)``."""
    from pathways.loading import load_feed
    from pathways.webstore import set_store

    if len(FEEDS["oruk"]) != 2 or not FEEDS["hsds"][0].exists():
        pytest.skip(f"shared fixtures missing under {SHARED}")
    for fmt, paths in feeds.items():
        load_feed(store, paths, fmt)
    set_store(store)
    from app import app

    return app, store


@pytest.fixture
def embedded(tmp_path):
    from pathways.store.embedded import EmbeddedStore

    return EmbeddedStore(tmp_path / "graph.json")


@pytest.fixture
def real_app(embedded, browser_available):
    """The app on the two councils' feeds and the HSDS examples: ``(app, store)``."""
    yield serve(embedded, FEEDS)
    from pathways.webstore import set_store

    set_store(None)


@pytest.fixture
def council_app(embedded, browser_available):
    """The app on the two councils' feeds alone, as a council would load its own directory:
    199 activities, none placed in a locality, no link workers: ``(app, store)``."""
    yield serve(embedded, {"oruk": FEEDS["oruk"]})
    from pathways.webstore import set_store

    set_store(None)


@pytest.fixture
def council_app_each_store(store, browser_available):
    """:func:`council_app` once in the embedded store and once in Neo4j, for the pages whose
    answers are computed by the store's own queries (Gaps, Map).  The other pages' checks run
    on the embedded store only: each Neo4j test adds ~25 s, and the file stays near 2 min."""
    yield serve(store, {"oruk": FEEDS["oruk"]})
    from pathways.webstore import set_store

    set_store(None)


def set_size(driver, size: tuple[int, int]) -> None:
    width, height = size
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600})


def settle(dash_duo, timeout: float = 30) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(dash_duo.driver, timeout, poll_frequency=0.2).until(
        lambda _driver: dash_duo._wait_for_callbacks())


def problems_at_each_width(dash_duo, tmp_path, name: str) -> list[str]:
    """Serious/critical axe findings and sideways scrolling, at a desktop's and a phone's width,
    controls a finger cannot hit on the phone, and errors in the browser's console (the page
    as it stands; a screenshot of each width is kept under ``tmp_path``)."""
    found = []
    for label, size in (("desktop", DESKTOP), ("phone", PHONE)):
        set_size(dash_duo.driver, size)
        settle(dash_duo)
        overflow = settled_overflow(dash_duo.driver)
        dash_duo.driver.save_screenshot(str(tmp_path / f"{name}-{label}.png"))
        if overflow:
            found.append(f"{label}: {overflow} px wider than the window: "
                         f"{overflowing(dash_duo.driver)}")
        small = dash_duo.driver.execute_script(SMALL_TARGETS) if size == PHONE else []
        if small:
            found.append(f"{label}: controls under 24 x 24 px (WCAG 2.5.8): {small}")
        violations = axe_violations(dash_duo.driver)
        if violations:
            found.append(f"{label}:\n{describe(violations)}")
    errors = [e["message"] for e in dash_duo.get_logs() if e.get("level") == "SEVERE"]
    if errors:
        found.append(f"errors in the browser's console: {errors[:3]}")
    return found


def test_data_page_with_a_long_organisation_list(dash_duo, real_app, tmp_path):
    """161 organisations: the update-request list is long enough for Dash to draw it in a
    virtual list, whose hidden sizing copy of an option must not be a focus stop."""
    app, _store = real_app
    dash_duo.start_server(app)
    dash_duo.wait_for_page(f"{dash_duo.server_url}/data")
    dash_duo.wait_for_element("#data-nodes .ag-row", timeout=20)
    dash_duo.wait_for_element("#data-request-org input[type=radio]", timeout=20)
    found = problems_at_each_width(dash_duo, tmp_path, "data")
    assert not found, "\n".join(found)
    # Narrowing the list by typing still finds an organisation far down it.
    box = dash_duo.find_element("#data-request-org-filter")
    box.send_keys("Krunch")
    dash_duo.wait_for_contains_text("#data-request-org", "Krunch Youth Club", timeout=10)


def test_gaps_page_on_a_directory_with_no_localities(dash_duo, council_app_each_store, tmp_path):
    """A lead reading the Gaps page for the councils' feeds: no activity could be placed, so
    there is no need × locality cell.  The page says so (not "0 cells with nothing reachable",
    which reads as no gaps, over an empty chart with numbered axes), and lists all 199
    activities as unreached."""
    app, _store = council_app_each_store
    dash_duo.start_server(app)
    dash_duo.wait_for_page(f"{dash_duo.server_url}/gaps")
    dash_duo.wait_for_contains_text("#gp-message", "199 unreached activities", timeout=30)
    message = dash_duo.find_element("#gp-message").text
    assert "0 need × locality cells with nothing reachable" not in message
    assert "no localities" in message, message
    dash_duo.wait_for_contains_text("#gp-unreached", "of 199", timeout=20)
    dash_duo.wait_for_element("#gp-heatmap .main-svg", timeout=20)
    ticks = dash_duo.driver.find_elements("css selector", "#gp-heatmap .xtick, #gp-heatmap .ytick")
    assert not [t.text for t in ticks if t.text.strip()], "an empty heatmap shows numbered axes"
    # The lead picks an unreached activity: the network highlights it.
    cell = dash_duo.wait_for_element(
        "#gp-unreached .ag-center-cols-container .ag-row[row-index='0'] .ag-cell", timeout=20)
    name = cell.text
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", cell)
    cell.click()
    dash_duo.wait_for_contains_text("#gp-highlight-label", "Highlighted:", timeout=20)
    assert name in dash_duo.find_element("#gp-highlight-label").text
    found = problems_at_each_width(dash_duo, tmp_path, "gaps")
    assert not found, "\n".join(found)


def test_map_page_on_a_directory_with_no_places(dash_duo, council_app_each_store, tmp_path):
    """The councils' activities have no coordinates and there is no locality: the map says
    why nothing is on it, and draws no empty chart with numbered axes in its place."""
    app, _store = council_app_each_store
    dash_duo.start_server(app)
    dash_duo.wait_for_page(f"{dash_duo.server_url}/map")
    dash_duo.wait_for_contains_text("#mp-summary", "199 have no coordinates", timeout=30)
    lede = dash_duo.find_element("#_pages_content .lede").text
    assert "Demo places are" not in lede, f"real places called demo places: {lede}"
    dash_duo.wait_for_element("#mp-map .main-svg", timeout=20)
    dash_duo.wait_for_contains_text("#mp-map", "Nothing to draw", timeout=20)
    ticks = dash_duo.driver.find_elements("css selector", "#mp-map .xtick, #mp-map .ytick")
    assert not [t.text for t in ticks if t.text.strip()], "an empty map shows numbered axes"
    found = problems_at_each_width(dash_duo, tmp_path, "map")
    assert not found, "\n".join(found)


def test_pathways_page_says_the_feeds_hold_no_link_workers(dash_duo, council_app, tmp_path):
    """A link worker opening Pathways on the councils' feeds: there is no link worker to choose,
    and the page says why and where to add one (the web's own Data page, not only the CLI)."""
    app, _store = council_app
    dash_duo.start_server(app)
    dash_duo.wait_for_page(f"{dash_duo.server_url}/")
    dash_duo.wait_for_contains_text("#_pages_content", "No link workers in the graph yet",
                                    timeout=20)
    text = dash_duo.find_element("#_pages_content").text
    assert "Data page" in text and "link_worker" in text, text
    found = problems_at_each_width(dash_duo, tmp_path, "pathways")
    assert not found, "\n".join(found)


def test_consortia_page_names_what_is_missing(dash_duo, council_app, tmp_path):
    """The councils' feeds bring 8 needs but no locality: the Consortia page says it is the
    localities that are missing (it said 'Load needs and localities first', as if the load of
    the directory had brought nothing)."""
    app, _store = council_app
    dash_duo.start_server(app)
    dash_duo.wait_for_page(f"{dash_duo.server_url}/consortia")
    dash_duo.wait_for_contains_text("#_pages_content", "No localities in the graph", timeout=20)
    text = dash_duo.find_element("#_pages_content").text
    assert "needs" not in text.split("No localities")[0], text
    assert "No needs" not in text, text
    found = problems_at_each_width(dash_duo, tmp_path, "consortia")
    assert not found, "\n".join(found)


def test_history_page_lists_the_feed_loads(dash_duo, real_app, tmp_path):
    """History on real feeds: both loads, newest first, with their long file lists wrapped
    inside the table (no sideways scroll on a phone)."""
    app, _store = real_app
    dash_duo.start_server(app)
    dash_duo.wait_for_page(f"{dash_duo.server_url}/history")
    dash_duo.wait_for_contains_text("#hist-table", "bristol-services-sample.json", timeout=20)
    dash_duo.wait_for_contains_text("#hist-table", "datapackage.json", timeout=20)
    rows = {r.get_attribute("row-index"): r.text for r in dash_duo.driver.find_elements(
        "css selector", "#hist-table .ag-center-cols-container .ag-row")}
    assert "datapackage.json" in rows["0"] and "feed" in rows["0"], rows  # newest first
    assert "north-lincolnshire-services-sample.json" in rows["1"], rows
    found = problems_at_each_width(dash_duo, tmp_path, "history")
    assert not found, "\n".join(found)
