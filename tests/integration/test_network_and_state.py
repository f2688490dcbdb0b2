"""State that travels and networks you can use, done the way a lead or commissioner would, on the
demo data in each store (issue 14 items 6 and 7).

- Filters live in the address: open a page from a bookmarked address and see its filters
  applied; change one, press Back, see the previous filters again; an address with unknown
  ids or bad numbers shows a note and the page works with what it could use.
- Moving between pages keeps the shared filters (the navigation links carry them).
- The network: a click (tap) on a node shows what it is in the panel next to the graph,
  recomputed on the server, without contact details on the Gaps and Consortia pages; the
  legend draws each kind with its node's shape; "Download PNG" saves a PNG file.
- Every changed page stays axe-core clean and does not scroll sideways on a 390 px phone.
"""

from __future__ import annotations

import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from pathways.analysis.consortia import Opportunity, consortia
from pathways.analysis.gaps import GapQuery, gap_report
from pathways.model import NodeKind
from tests.integration.a11y import axe_violations, describe, horizontal_overflow

pytestmark = pytest.mark.browser


def settle(dash_duo, timeout: float = 30) -> None:
    WebDriverWait(dash_duo.driver, timeout, poll_frequency=0.2).until(
        lambda _driver: dash_duo._wait_for_callbacks())


def query(dash_duo) -> dict[str, list[str]]:
    return parse_qs(urlsplit(dash_duo.driver.current_url).query)


def wait_for_query(dash_duo, key: str, values: list[str], timeout: float = 20) -> None:
    WebDriverWait(dash_duo.driver, timeout, poll_frequency=0.1).until(
        lambda _d: query(dash_duo).get(key) == values,
        message=f"the address never had {key}={values} (it is {dash_duo.driver.current_url})")


def empty_cells(store, hops: int) -> int:
    report = gap_report(store, GapQuery(max_hops=hops))
    return sum(1 for c in report["coverage"] if c["reachable"] == 0)


def gaps_message(store, hops: int) -> str:
    return f"{empty_cells(store, hops)} need × locality cells with nothing reachable"


def nav(dash_duo, name: str) -> None:
    next(a for a in dash_duo.find_elements(".top-bar .nav-link") if a.text == name).click()


def checked(dash_duo, group: str) -> list[str]:
    return dash_duo.driver.execute_script(
        "return [...document.querySelectorAll('#' + arguments[0] + ' input:checked')]"
        ".map(i => i.value)", group)


def severe(dash_duo) -> list[dict]:
    return [e for e in dash_duo.get_logs() if e.get("level") == "SEVERE"]


def test_gaps_filters_come_from_the_address_and_back_restores_them(dash_duo, demo_app_each_store):
    app, store = demo_app_each_store
    # Two route lengths that give different answers, so the page shows which one applies.
    low = next(h for h in (1, 2, 3) if empty_cells(store, h) != empty_cells(store, h + 1))
    dash_duo.start_server(app)

    # A bookmarked address: its route length is applied, and stays in the address.
    dash_duo.wait_for_page(f"{dash_duo.server_url}/gaps?hops={low}")
    dash_duo.wait_for_contains_text("#gp-message", gaps_message(store, low), timeout=30)
    assert dash_duo.find_element("#gp-hops").get_attribute("value") == str(low)
    assert query(dash_duo) == {"hops": [str(low)]}
    settle(dash_duo)

    # One hop more: the page and the address follow.
    dash_duo.find_element("#gp-hops").send_keys(Keys.ARROW_UP)
    dash_duo.wait_for_contains_text("#gp-message", gaps_message(store, low + 1), timeout=30)
    wait_for_query(dash_duo, "hops", [str(low + 1)])
    settle(dash_duo)

    # Back: the previous route length, on the page and in the address.
    dash_duo.driver.back()
    wait_for_query(dash_duo, "hops", [str(low)])
    dash_duo.wait_for_contains_text("#gp-message", gaps_message(store, low), timeout=30)
    assert dash_duo.find_element("#gp-hops").get_attribute("value") == str(low)
    settle(dash_duo)

    # Forward again.
    dash_duo.driver.forward()
    wait_for_query(dash_duo, "hops", [str(low + 1)])
    dash_duo.wait_for_contains_text("#gp-message", gaps_message(store, low + 1), timeout=30)
    assert dash_duo.find_element("#gp-hops").get_attribute("value") == str(low + 1)
    assert severe(dash_duo) == []


def test_an_address_with_unknown_values_is_noted_not_obeyed(dash_duo, demo_app_each_store):
    app, store = demo_app_each_store
    needs = store.list_nodes(NodeKind.NEED)
    places = store.list_nodes(NodeKind.LOCALITY)
    dash_duo.start_server(app)
    # A need by id, one by name, one that does not exist; a size out of range; a stray key.
    address = (f"/consortia?needs={needs[1]['id']}&needs={needs[2]['name'].upper()}"
               f"&needs=no-such-need&places={places[0]['id']}&size=99&colour=red")
    dash_duo.wait_for_page(f"{dash_duo.server_url}{address}")
    report = consortia(store, Opportunity((needs[1]["id"], needs[2]["id"]), (places[0]["id"],)))
    dash_duo.wait_for_contains_text(
        "#co-message", f"of {len(report['cells'])} cells no organisation covers", timeout=30)
    notes = dash_duo.find_element("#url-notes").text
    assert "“no-such-need” is not in the graph" in notes
    assert "“99” is not a whole number from 1 to 20" in notes
    assert "“colour” is not a setting of this page" in notes
    assert checked(dash_duo, "co-needs") == sorted(
        [needs[1]["id"], needs[2]["id"]], key=[n["id"] for n in needs].index)
    assert checked(dash_duo, "co-places") == [places[0]["id"]]
    assert dash_duo.find_element("#co-size").get_attribute("value") == "4"
    # The address now says what the page shows: ids only, nothing it could not use.
    wait_for_query(dash_duo, "needs", [needs[1]["id"], needs[2]["id"]])
    assert query(dash_duo)["size"] == ["4"]
    assert "colour" not in query(dash_duo)
    assert severe(dash_duo) == []


def test_moving_between_pages_keeps_the_shared_filters(dash_duo, demo_app_each_store):
    app, store = demo_app_each_store
    needs = store.list_nodes(NodeKind.NEED)
    dash_duo.start_server(app)
    dash_duo.wait_for_page(f"{dash_duo.server_url}/gaps?hops=2")
    dash_duo.wait_for_contains_text("#gp-message", gaps_message(store, 2), timeout=30)

    nav(dash_duo, "Consortia")
    dash_duo.wait_for_contains_text("#co-message", "cells no organisation covers", timeout=30)
    settle(dash_duo)
    # A commissioner ticks a second need: the address has both.
    second = dash_duo.find_element(f"#co-needs input[value='{needs[1]['id']}']")
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", second)
    second.click()
    wait_for_query(dash_duo, "needs", [needs[0]["id"], needs[1]["id"]])
    settle(dash_duo)

    # To Gaps and back by the menu: the route length and the needs are still chosen.
    nav(dash_duo, "Gaps")
    dash_duo.wait_for_contains_text("#gp-message", gaps_message(store, 2), timeout=30)
    assert dash_duo.find_element("#gp-hops").get_attribute("value") == "2"
    settle(dash_duo)
    nav(dash_duo, "Consortia")
    dash_duo.wait_for_contains_text("#co-message", "cells no organisation covers", timeout=30)
    assert checked(dash_duo, "co-needs") == [needs[0]["id"], needs[1]["id"]]
    # Every menu link carries them (the Pathways page reads the ones it uses).
    hrefs = [a.get_attribute("href") for a in dash_duo.find_elements(".top-bar .nav-link")]
    for href in hrefs:
        carried = parse_qs(urlsplit(href).query)
        assert carried.get("hops") == ["2"] and carried.get("needs") == [
            needs[0]["id"], needs[1]["id"]], href
    assert severe(dash_duo) == []


def wait_for_graph(dash_duo, timeout: float = 30) -> None:
    WebDriverWait(dash_duo.driver, timeout, poll_frequency=0.2).until(
        lambda d: d.execute_script("return !!window.cy && window.cy.nodes().length > 0"),
        message="the network was never drawn")


def tap(dash_duo, node_id: str) -> None:
    """A click on a node, as Cytoscape reports one (dash-cytoscape keeps the graph in
    window.cy)."""
    found = dash_duo.driver.execute_script(
        "const n = window.cy.getElementById(arguments[0]);"
        " if (n.empty()) { return false; } n.emit('tap'); return true;", node_id)
    assert found, f"{node_id} is not on the graph"


def test_lead_clicks_a_node_sees_what_it_is_and_a_highlight_fits_the_view(dash_duo, demo_app_each_store):
    from pathways.analysis.gaps import referral_network

    app, store = demo_app_each_store
    network = referral_network(store)
    names = {n["id"]: n["name"] for n in network["nodes"]}
    # An organisation with contact details and services on the graph.
    org = next(n for n in network["nodes"] if n["kind"] == "Organisation"
               and (store.get_node(n["id"])[1].get("phone") or store.get_node(n["id"])[1].get("email"))
               and any(u == n["id"] and rel == "PROVIDES" for u, rel, _v in network["edges"]))
    props = store.get_node(org["id"])[1]
    provided = sorted(names[v] for u, rel, v in network["edges"] if u == org["id"] and rel == "PROVIDES")
    dash_duo.start_server(app)
    dash_duo.wait_for_page(f"{dash_duo.server_url}/gaps")
    dash_duo.wait_for_contains_text("#gp-message", "cells with nothing reachable", timeout=30)
    wait_for_graph(dash_duo)
    settle(dash_duo)

    tap(dash_duo, org["id"])
    dash_duo.wait_for_contains_text("#gp-node h3", org["name"], timeout=20)
    panel = dash_duo.find_element("#gp-node").text
    assert "Organisation" in panel
    assert provided[0] in panel and "Provides (on this graph)" in panel
    # A lead's page: no contact details, although the store has them.
    for private in (props.get("phone"), props.get("email")):
        if private:
            assert private not in panel

    # The legend draws each kind with the shape its nodes have on the graph.
    legend = dash_duo.driver.execute_script(
        "return [...document.querySelectorAll('.legend-item[data-kind]')]"
        ".map(li => [li.dataset.kind, li.dataset.shape])")
    drawn = dash_duo.driver.execute_script(
        "const out = {}; window.cy.nodes().forEach(n => { out[n.data('kind')] = n.style('shape'); });"
        " return out;")
    assert drawn and all(dict(legend)[kind] == shape for kind, shape in drawn.items()), (legend, drawn)

    # A single point of failure highlighted: drawn as a larger ringed node, not a stick, and
    # the view zooms to it so its label is readable (11 px text at zoom >= 1).
    report = gap_report(store, GapQuery())
    top = report["single_points_of_failure"][0]
    cell = dash_duo.wait_for_element(
        "#gp-spof .ag-center-cols-container .ag-row[row-index='0'] .ag-cell", timeout=20)
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", cell)
    cell.click()
    dash_duo.wait_for_contains_text("#gp-highlight-label", f"Highlighted: {top['name']}", timeout=20)
    WebDriverWait(dash_duo.driver, 20, poll_frequency=0.2).until(
        lambda d: d.execute_script("return window.cy.nodes('.selected').length") > 0)
    settle(dash_duo)
    shown = dash_duo.driver.execute_script("""
        const cy = window.cy, node = cy.nodes('.selected')[0], box = node.renderedBoundingBox();
        return {width: node.renderedWidth(), height: node.renderedHeight(), zoom: cy.zoom(),
                border: parseFloat(node.style('border-width')), box: box,
                w: cy.width(), h: cy.height()};""")
    assert shown["border"] >= 4
    assert shown["width"] >= 30 and abs(shown["width"] - shown["height"]) < 1, shown
    assert shown["zoom"] >= 1, shown
    box = shown["box"]
    assert box["x1"] >= 0 and box["y1"] >= 0 and box["x2"] <= shown["w"] and box["y2"] <= shown["h"]

    # By keyboard: the highlighted node's button in the text list opens the same details.
    button = dash_duo.find_element("#gp-highlight-list button")
    dash_duo.driver.execute_script("arguments[0].focus()", button)
    button.send_keys(Keys.ENTER)
    dash_duo.wait_for_contains_text("#gp-node h3", top["name"], timeout=20)
    assert severe(dash_duo) == []


def test_commissioner_clicks_a_member_and_downloads_the_network_as_png(dash_duo, demo_app_each_store):
    app, store = demo_app_each_store
    needs = store.list_nodes(NodeKind.NEED)
    places = store.list_nodes(NodeKind.LOCALITY)
    report = consortia(store, Opportunity((needs[0]["id"],), tuple(p["id"] for p in places[:2])))
    member = report["suggestions"][0]["members"][0]
    dash_duo.start_server(app)
    dash_duo.wait_for_page(f"{dash_duo.server_url}/consortia")
    dash_duo.wait_for_contains_text("#co-graph-text", "Suggestion 1 on the graph", timeout=30)
    wait_for_graph(dash_duo)
    settle(dash_duo)
    tap(dash_duo, member["id"])
    dash_duo.wait_for_contains_text("#co-node h3", member["name"], timeout=20)
    props = store.get_node(member["id"])[1]
    panel = dash_duo.find_element("#co-node").text
    for private in (props.get("phone"), props.get("email")):
        if private:
            assert private not in panel
    # A node id that is not on this graph is refused plainly (the server checks it).
    dash_duo.driver.execute_script(
        "window.cy.add({group: 'nodes', data: {id: arguments[0], label: 'x'}});"
        " window.cy.getElementById(arguments[0]).emit('tap');", "person-not-on-this-graph")
    dash_duo.wait_for_contains_text("#co-node", "not on this graph", timeout=20)

    button = dash_duo.find_element("#co-graph ~ * button, .network .button-row button")
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", button)
    assert button.text == "Download PNG"
    button.click()
    png = Path(dash_duo.download_path) / "consortium-network.png"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not (png.exists() and png.stat().st_size > 100):
        time.sleep(0.2)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert severe(dash_duo) == []


@pytest.mark.parametrize("path, ready, text", [
    ("/gaps?hops=2&colour=red", "#gp-message", "cells with nothing reachable"),
    ("/consortia?needs=no-such-need&size=0", "#co-message", "cells no organisation covers"),
    ("/data?worker=x&colour=red", "#data-store", "Reading from"),
])
def test_changed_pages_are_accessible_and_fit_a_phone(dash_duo, demo_app_each_store, path, ready, text):
    app, _store = demo_app_each_store
    dash_duo.start_server(app)
    for width, height in ((1366, 900), (390, 844)):
        dash_duo.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
            "width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600})
        dash_duo.wait_for_page(f"{dash_duo.server_url}{path}")
        dash_duo.wait_for_contains_text(ready, text, timeout=30)
        settle(dash_duo)
        if path != "/data?worker=x&colour=red":
            wait_for_graph(dash_duo)
            nodes = dash_duo.driver.execute_script("return window.cy.nodes().map(n => n.id())")
            tap(dash_duo, nodes[0])
            dash_duo.wait_for_element(".node-details h3", timeout=20)
        assert "could not be used" in dash_duo.find_element("#url-notes").text
        found = axe_violations(dash_duo.driver)
        assert not found, describe(found)
        assert horizontal_overflow(dash_duo.driver) == 0, (width, path)
    assert severe(dash_duo) == []
