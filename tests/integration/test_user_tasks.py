"""Each page's main task, done with the keyboard only (Tab, Shift+Tab, Enter, Space, arrows and
typing), on the demo data in each store; and every button, link and row a page offers, clicked.

- A link worker picks a worker and a need, selects an activity and reads its route and how to
  refer.
- A partnership lead picks a coverage cell, reads its activities and selects a single point of
  failure.
- A commissioner picks needs and localities and a suggested consortium.
"""

from __future__ import annotations

import datetime as dt
import time

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys

from pathways.analysis.consortia import Opportunity, consortia
from pathways.analysis.gaps import GapQuery, gap_report
from pathways.analysis.pathways import pathways_from
from pathways.loading import load_paths
from pathways.model import NodeKind, PersonRole
from pathways.store import PathwayFilter
from tests.integration.a11y import axe_violations, describe

pytestmark = pytest.mark.browser


def press(dash_duo, *keys) -> None:
    ActionChains(dash_duo.driver).send_keys(*keys).perform()


def shift_tab(dash_duo) -> None:
    ActionChains(dash_duo.driver).key_down(Keys.SHIFT).send_keys(Keys.TAB).key_up(Keys.SHIFT) \
        .perform()


def focused_in(dash_duo, css: str) -> bool:
    return dash_duo.driver.execute_script(
        "const el = document.activeElement; return !!(el && el.closest(arguments[0]))", css)


def tab_to(dash_duo, css: str, backwards: bool = False, limit: int = 80) -> None:
    """Press Tab (or Shift+Tab) until the focus is inside ``css``; fail if it never gets there."""
    for _ in range(limit):
        shift_tab(dash_duo) if backwards else press(dash_duo, Keys.TAB)
        if focused_in(dash_duo, css):
            return
    raise AssertionError(f"{'Shift+' if backwards else ''}Tab never reached {css}")


def focused_text(dash_duo) -> str:
    return dash_duo.driver.execute_script(
        "const el = document.activeElement; return (el.closest('label') || el).innerText.trim()")


def focused_row(dash_duo) -> int | None:
    return dash_duo.driver.execute_script(
        "const r = document.activeElement.closest('.ag-row');"
        " return r ? Number(r.getAttribute('row-index')) : null")


def arrow_to_row(dash_duo, index: int) -> None:
    """From the focused table (its header or a cell), arrow up or down to row ``index``."""
    for _ in range(40):
        row = focused_row(dash_duo)
        if row == index:
            return
        press(dash_duo, Keys.ARROW_UP if row is not None and row > index else Keys.ARROW_DOWN)
    raise AssertionError(f"the arrow keys never reached row {index}")


def settle(dash_duo, timeout: float = 30) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(dash_duo.driver, timeout, poll_frequency=0.2).until(
        lambda _driver: dash_duo._wait_for_callbacks())


def open_page(dash_duo, path: str, ready: str, text: str) -> None:
    dash_duo.wait_for_page(f"{dash_duo.server_url}{path}")
    dash_duo.wait_for_contains_text(ready, text, timeout=30)
    settle(dash_duo)
    # The first Tab reaches the skip link; Enter on it moves the focus to the page's content.
    press(dash_duo, Keys.TAB)
    assert focused_in(dash_duo, ".skip-link")
    press(dash_duo, Keys.ENTER)
    assert focused_in(dash_duo, "#main")


def _severe(dash_duo):
    return [e for e in dash_duo.get_logs() if e.get("level") == "SEVERE"]


def test_link_worker_finds_an_activity_and_how_to_refer_by_keyboard(dash_duo, demo_app_each_store):
    app, store = demo_app_each_store
    dash_duo.start_server(app)
    workers = store.list_nodes(NodeKind.PERSON, PersonRole.LINK_WORKER.value)
    open_page(dash_duo, "/", "#pw-message", f"{workers[0]['name']} can reach")

    # Link worker: Tab into the group, type the start of a name (type-ahead picks it).
    worker = workers[2]
    tab_to(dash_duo, "#pw-worker")
    press(dash_duo, worker["name"][:4])
    assert focused_text(dash_duo).startswith(worker["name"])
    dash_duo.wait_for_contains_text("#pw-message", f"{worker['name']} can reach", timeout=20)

    # A need: Tab to the needs, type the start of its name, Space ticks it.
    need = next(n for n in store.list_nodes(NodeKind.NEED) if n["id"] == "loneliness")
    tab_to(dash_duo, "#pw-needs")
    press(dash_duo, need["name"][:4])
    assert focused_text(dash_duo) == need["name"]
    press(dash_duo, Keys.SPACE)
    found = pathways_from(store, worker["id"], PathwayFilter(needs=(need["id"],)), 4)
    count = len(found["activities"])
    assert count >= 2, "the demo should give this worker a choice of activities"
    dash_duo.wait_for_contains_text(
        "#pw-message", f"{worker['name']} can reach {count} matching activities", timeout=20)
    settle(dash_duo)

    # The table: one Tab stop; arrow down to the second activity, Enter selects it.
    tab_to(dash_duo, "#pw-table")
    arrow_to_row(dash_duo, 1)
    press(dash_duo, Keys.ENTER)
    second = found["activities"][1]
    dash_duo.wait_for_contains_text("#pw-details h3", second["name"], timeout=20)
    route = " → ".join(n["name"] for n in second["path"])
    assert dash_duo.find_element("#pw-route").text == route
    details = dash_duo.find_element("#pw-details").text
    assert "How to refer (contacts along the route)" in details
    # The network's facts as text: the selected route is spelt out beside the graph.
    dash_duo.wait_for_contains_text("#pw-graph-text", route, timeout=20)

    # Space selects too: back to the first row.
    shift_tab(dash_duo)
    tab_to(dash_duo, "#pw-table")
    arrow_to_row(dash_duo, 0)
    press(dash_duo, Keys.SPACE)
    dash_duo.wait_for_contains_text("#pw-details h3", found["activities"][0]["name"], timeout=20)
    assert _severe(dash_duo) == []


def test_lead_reads_a_coverage_gap_and_a_single_point_of_failure_by_keyboard(dash_duo, demo_app_each_store):
    app, store = demo_app_each_store
    report = gap_report(store, GapQuery())
    names = report["names"]
    dash_duo.start_server(app)
    open_page(dash_duo, "/gaps", "#gp-message", "cells with nothing reachable")

    # The cell table lists cells with nothing reachable first; the first row is the worst gap.
    tab_to(dash_duo, "#gp-coverage")
    arrow_to_row(dash_duo, 0)
    press(dash_duo, Keys.SPACE)
    first = dash_duo.driver.execute_script(
        "const r = document.querySelector('#gp-coverage .ag-center-cols-container "
        ".ag-row[row-index=\"0\"]'); return [r.querySelector('[col-id=need]').innerText,"
        " r.querySelector('[col-id=locality]').innerText]")
    cell = next(c for c in report["coverage"]
                if [names[c["need"]], names[c["locality"]]] == first)
    assert cell["reachable"] == 0
    dash_duo.wait_for_contains_text("#gp-cell h3", f"{first[0]} in {first[1]}", timeout=20)
    listed = dash_duo.find_elements("#gp-cell-activities li")
    assert len(listed) == len(cell["activities"])

    # On to the single points of failure (past the network's text), Enter selects the top one.
    tab_to(dash_duo, "#gp-spof")
    arrow_to_row(dash_duo, 0)
    press(dash_duo, Keys.ENTER)
    top = report["single_points_of_failure"][0]
    dash_duo.wait_for_contains_text("#gp-highlight-label", f"Highlighted: {top['name']}",
                                    timeout=20)
    dash_duo.wait_for_contains_text("#gp-highlight-list", top["name"], timeout=20)

    # Back (Shift+Tab) to the route length, and one hop fewer with the arrow key.
    tab_to(dash_duo, "#gp-hops", backwards=True, limit=120)
    press(dash_duo, Keys.ARROW_DOWN)
    shorter = gap_report(store, GapQuery(max_hops=3))
    empty = sum(1 for c in shorter["coverage"] if c["reachable"] == 0)
    dash_duo.wait_for_contains_text(
        "#gp-message", f"{empty} need × locality cells with nothing reachable", timeout=30)
    assert dash_duo.find_element("#gp-hops").get_attribute("value") == "3"
    assert _severe(dash_duo) == []


def test_commissioner_picks_needs_places_and_a_consortium_by_keyboard(dash_duo, demo_app_each_store):
    app, store = demo_app_each_store
    needs = store.list_nodes(NodeKind.NEED)
    places = store.list_nodes(NodeKind.LOCALITY)
    dash_duo.start_server(app)
    open_page(dash_duo, "/consortia", "#co-message", "cells no organisation covers")

    # One more need (type-ahead, Space) and a third locality (Tab between checkboxes, Space).
    tab_to(dash_duo, "#co-needs")
    press(dash_duo, needs[1]["name"][:5])
    assert focused_text(dash_duo) == needs[1]["name"]
    press(dash_duo, Keys.SPACE)
    tab_to(dash_duo, "#co-places")
    press(dash_duo, Keys.TAB, Keys.TAB)
    assert focused_text(dash_duo) == places[2]["name"]
    press(dash_duo, Keys.SPACE)
    report = consortia(store, Opportunity((needs[0]["id"], needs[1]["id"]),
                                          tuple(p["id"] for p in places[:3])))
    cells = len(report["cells"])
    assert cells == 6
    dash_duo.wait_for_contains_text("#co-message", f"of {cells} cells no organisation covers",
                                    timeout=20)
    dash_duo.wait_for_contains_text(
        "#co-suggestions", ", ".join(m["name"] for m in report["suggestions"][0]["members"]),
        timeout=20)
    settle(dash_duo)

    # The second suggestion on the graph: Tab to the choice, arrow down.
    assert len(report["suggestions"]) >= 2
    tab_to(dash_duo, "#co-choice")
    press(dash_duo, Keys.ARROW_DOWN)
    dash_duo.wait_for_contains_text("#co-graph-text", "Suggestion 2 on the graph", timeout=20)
    members = dash_duo.find_element("#co-graph-text").text
    assert all(m["name"] in members for m in report["suggestions"][1]["members"])

    # Both downloads, with Enter on the buttons.
    tab_to(dash_duo, "#co-csv-button")
    press(dash_duo, Keys.ENTER)
    _wait_for_files(dash_duo, ["consortia.csv"])
    tab_to(dash_duo, "#co-print-button")
    press(dash_duo, Keys.ENTER)
    downloaded = _wait_for_files(dash_duo, ["consortia.csv", "consortium-2.html"])
    csv_text = downloaded["consortia.csv"]
    assert all(m["name"] in csv_text for s in report["suggestions"] for m in s["members"])
    assert report["suggestions"][1]["members"][0]["name"] in downloaded["consortium-2.html"]
    assert _severe(dash_duo) == []


def _wait_for_files(dash_duo, names: list[str], timeout: float = 20) -> dict[str, str]:
    """The downloaded files' texts, once the browser has finished writing them."""
    from pathlib import Path

    folder = Path(dash_duo.download_path)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all((folder / n).exists() for n in names):
            return {n: (folder / n).read_text(encoding="utf-8-sig") for n in names}
        time.sleep(0.2)
    raise AssertionError(f"not downloaded: {[n for n in names if not (folder / n).exists()]} "
                         f"(found {sorted(p.name for p in folder.iterdir())})")


def test_every_menu_link_row_and_download_does_what_it_says(dash_duo, demo_app_each_store):
    """The clicks the pages promise that the keyboard walks above do not make: the menu, every
    Gaps table's rows, the Pathways and Gaps downloads."""
    app, store = demo_app_each_store
    dash_duo.start_server(app)
    titles = {"Pathways": "Pathways from a link worker", "Gaps": "Gaps in the network",
              "Consortia": "Consortia for a commissioning opportunity",
              "Data": "What the graph holds"}
    for name, title in [*list(titles.items())[1:], ("Pathways", titles["Pathways"])]:
        link = next(a for a in dash_duo.find_elements(".top-bar .nav-link") if a.text == name)
        link.click()
        dash_duo.wait_for_contains_text("h1", title, timeout=20)

    # Pathways: the CSV of what the first worker reaches.
    worker = store.list_nodes(NodeKind.PERSON, PersonRole.LINK_WORKER.value)[0]
    dash_duo.wait_for_contains_text("#pw-message", "can reach", timeout=20)
    dash_duo.find_element("#pw-download-button").click()
    got = _wait_for_files(dash_duo, [f"pathways-{worker['id']}.csv"])
    expected = pathways_from(store, worker["id"])["activities"]
    lines = got[f"pathways-{worker['id']}.csv"].strip().splitlines()
    assert len(lines) == len(expected) + 1

    # Gaps: a row of each table highlights that row's subject; the report downloads.
    report = gap_report(store, GapQuery())
    next(a for a in dash_duo.find_elements(".top-bar .nav-link") if a.text == "Gaps").click()
    dash_duo.wait_for_contains_text("#gp-message", "cells with nothing reachable", timeout=30)
    rows = {"gp-spof": report["single_points_of_failure"], "gp-unreached": report["unreached"],
            "gp-thin": report["thin_options"]["link_workers"],
            "gp-places": report["thin_options"]["localities"], "gp-data": report["data_gaps"]}
    for grid, expected_rows in rows.items():
        if not expected_rows:
            continue
        cell = dash_duo.wait_for_element(
            f"#{grid} .ag-center-cols-container .ag-row[row-index='0'] .ag-cell", timeout=20)
        dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", cell)
        name = cell.text
        cell.click()
        if grid == "gp-data" and dt.date.today().isoformat() != report["as_of"]:
            # midnight passed: the page may judge review dates on the new day
            expected_rows = [*expected_rows, *gap_report(store, GapQuery())["data_gaps"]]
        assert any(r["name"] == name for r in expected_rows), (grid, name)
        dash_duo.wait_for_contains_text("#gp-highlight-label", f"Highlighted: {name}", timeout=20)
    button = dash_duo.find_element("#gp-download-button")
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", button)
    button.click()
    folder = __import__("pathlib").Path(dash_duo.download_path)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not list(folder.glob("gap-report-*.html")):
        time.sleep(0.2)
    pages = list(folder.glob("gap-report-*.html"))
    assert pages, "the gap report was not downloaded"
    assert report["single_points_of_failure"][0]["name"] in pages[0].read_text(encoding="utf-8")
    assert _severe(dash_duo) == []


def test_every_filter_narrows_as_it_says(dash_duo, demo_app_each_store):
    """Each filter a page offers, clicked: Pathways' free-only, locality and access needs;
    the route length's "−" button; a Gaps table sorted by a click on its header; Consortia's
    free-only, access needs and size."""
    app, store = demo_app_each_store
    worker = store.list_nodes(NodeKind.PERSON, PersonRole.LINK_WORKER.value)[0]
    place = store.list_nodes(NodeKind.LOCALITY)[0]
    dash_duo.start_server(app)
    dash_duo.wait_for_contains_text("#pw-message", "can reach", timeout=30)

    def pick(group: str, label: str) -> None:
        settle(dash_duo)
        option = next(e for e in dash_duo.find_elements(f"#{group} label")
                      if e.text.strip() == label)
        dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", option)
        option.click()

    def expect(where: PathwayFilter) -> None:
        count = len(pathways_from(store, worker["id"], where, 4)["activities"])
        dash_duo.wait_for_contains_text("#pw-message", f"can reach {count} matching", timeout=20)

    pick("pw-free", "Free activities only")
    expect(PathwayFilter(free_only=True))
    pick("pw-locality", place["name"])
    expect(PathwayFilter(free_only=True, locality=place["id"]))
    pick("pw-locality", "Anywhere")
    pick("pw-access", "step free")
    expect(PathwayFilter(free_only=True, access=("step_free",)))
    # The route length's own "−" button: one hop fewer.
    minus = dash_duo.find_element("#pw-hops").find_element(
        "xpath", "./ancestor::div[contains(@class, 'field')]//button[contains(@class, 'decrement')]")
    minus.click()
    count = len(pathways_from(store, worker["id"], PathwayFilter(free_only=True,
                                                                 access=("step_free",)), 3)
                ["activities"])
    dash_duo.wait_for_contains_text("#pw-message", f"{count} matching activities within 3 hops",
                                    timeout=20)

    # Gaps: a click on "Pairs lost" sorts the single points of failure by it.
    next(a for a in dash_duo.find_elements(".top-bar .nav-link") if a.text == "Gaps").click()
    dash_duo.wait_for_contains_text("#gp-message", "cells with nothing reachable", timeout=30)
    dash_duo.wait_for_element("#gp-spof .ag-center-cols-container .ag-row", timeout=20)
    header = dash_duo.find_element("#gp-spof .ag-header-cell[col-id='pairs_lost']")
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", header)
    header.click()
    report = gap_report(store, GapQuery())
    lowest = min(r["pairs_lost"] for r in report["single_points_of_failure"])
    dash_duo.wait_for_text_to_equal(
        "#gp-spof .ag-center-cols-container .ag-row[row-index='0'] [col-id='pairs_lost']",
        str(lowest), timeout=20)
    assert header.get_attribute("aria-sort") == "ascending"

    # Consortia: free-only, the most members and access needs narrow the suggestions.
    next(a for a in dash_duo.find_elements(".top-bar .nav-link") if a.text == "Consortia").click()
    dash_duo.wait_for_contains_text("#co-message", "cells no organisation covers", timeout=30)
    needs = (store.list_nodes(NodeKind.NEED)[0]["id"],)
    places = tuple(p["id"] for p in store.list_nodes(NodeKind.LOCALITY)[:2])
    pick("co-free", "Free activities only")
    size = dash_duo.find_element("#co-size")
    size.send_keys(Keys.BACKSPACE, "1")
    report = consortia(store, Opportunity(needs, places, free_only=True), max_size=1)
    assert report["suggestions"], "the demo should suggest someone free"
    first = report["suggestions"][0]["members"]
    assert len(first) == 1
    dash_duo.wait_for_text_to_equal("#co-suggestions .card h3", f"1. {first[0]['name']}",
                                    timeout=20)
    pick("co-access", "step free")
    report = consortia(store, Opportunity(needs, places, free_only=True, access=("step_free",)),
                       max_size=1)
    if report["suggestions"]:
        dash_duo.wait_for_text_to_equal(
            "#co-suggestions .card h3",
            f"1. {report['suggestions'][0]['members'][0]['name']}", timeout=20)
    else:
        dash_duo.wait_for_text_to_equal("#co-suggestions", "No organisation covers any cell.",
                                        timeout=20)
    assert _severe(dash_duo) == []


def test_a_long_list_of_link_workers_narrows_as_you_type(dash_duo, demo_app_each_store, tmp_path):
    """A big partnership has hundreds of link workers: the list gets a box that narrows it to
    the names containing what is typed, and the keyboard picks from what is left."""
    from pages._components import FILTER_FROM
    from tests.conftest import write_folder

    app, store = demo_app_each_store
    extra = [["id", "name", "role", "job_title"]] + [
        [f"lw-extra-{i:03d}", f"Extra Worker {i:03d}", "link_worker", "Link Worker"]
        for i in range(FILTER_FROM + 5)]
    load_paths(store, [write_folder(tmp_path / "more", {"people": extra})])
    dash_duo.start_server(app)
    dash_duo.wait_for_contains_text("#pw-message", "can reach", timeout=30)
    settle(dash_duo)
    tab_to(dash_duo, "#pw-worker-filter")
    press(dash_duo, "Worker 017")
    dash_duo.wait_for_text_to_equal("#pw-worker label:last-child",
                                    "Extra Worker 017 — Link Worker", timeout=20)
    labels = [e.text for e in dash_duo.find_elements("#pw-worker label")]
    first = store.list_nodes(NodeKind.PERSON, PersonRole.LINK_WORKER.value)[0]
    # What was typed, and the worker already chosen (a choice never disappears).
    assert len(labels) == 2 and labels[0].startswith(first["name"])
    tab_to(dash_duo, "#pw-worker")
    press(dash_duo, Keys.ARROW_DOWN)
    dash_duo.wait_for_contains_text("#pw-message", "Extra Worker 017 can reach 0 matching",
                                    timeout=20)
    found = axe_violations(dash_duo.driver)
    assert found == [], describe(found)
    assert _severe(dash_duo) == []
